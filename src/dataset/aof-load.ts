// Loading the AOF at start-up (aof.c's loadAppendOnlyFiles / loadSingleAppendOnlyFile): the
// base (an RDB, or commands), then every incremental file in the manifest's order, each run by
// a fresh client in db 0 with a master's privileges and no replies. A torn last command of the
// last file is cut off (aof-load-truncated yes), as is a MULTI block without its EXEC.
//
// On top of Redis: the last incremental file's manifest line says where its stream sits in
// the replication history (aof-manifest.ts), so the offset of the last complete command is
// known: the position from which a replica asks its master to continue (PSYNC replid offset+1).

import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { Client, ClientKind } from "../core/client.ts";
import { discardTransaction } from "../core/multi.ts";
import { processCommand, resolveCommand } from "../core/dispatch.ts";
import type { Server } from "../core/server.ts";
import { AOF_LINE_BAD, AOF_LINE_PARTIAL, ProtocolError } from "../protocol/request-parser.ts";
import { ManifestError, type AofFileInfo, type AofManifest } from "./aof-manifest.ts";
import { aofOf, type StreamPosition } from "./aof.ts";
import { loadDatasetFile, strerror } from "./persistence.ts";

/** What the load found: "not-exist"/"empty" load nothing; the position is null when the files do not say it. */
type AofLoadResult = { status: "ok" | "truncated" | "not-exist" | "empty"; position: StreamPosition | null } | { status: "failed" };

const READ_CHUNK = 1 << 20;
const SLICE_MS = 10;

/** Loads the AOF named by the manifest in appenddirname into the (empty) databases. */
export async function loadAppendOnlyFiles(server: Server): Promise<AofLoadResult> {
  const aof = aofOf(server);
  const log = server.log;
  let manifest;
  try {
    manifest = aof.loadManifest();
  } catch (e) {
    if (!(e instanceof ManifestError)) {
      log.warning(`Fatal error: can't open the AOF manifest file ${aof.manifestPath} for reading: ${strerror(e)}`);
      return { status: "failed" };
    }
    log.warning("\n*** FATAL AOF MANIFEST FILE ERROR ***\n");
    if (e.line !== null) {
      log.warning(`Reading the manifest file, at line ${e.lineNumber}\n`);
      log.warning(`>>> '${e.line}'\n`);
    }
    log.warning(`${e.message}\n`);
    return { status: "failed" };
  }
  if (existsSync(aof.fileName) && isOldStyleStart(aof.dir, aof.fileName, manifest)) {
    const upgraded = upgradeOldAof(server, manifest);
    if (upgraded === null) return { status: "failed" };
    manifest = upgraded;
  }
  if (manifest === null) return { status: "not-exist", position: null };
  const files: AofFileInfo[] = [...(manifest.base ? [manifest.base] : []), ...manifest.incr];
  if (files.length === 0) return { status: "not-exist", position: null };
  let total = 0;
  const sizes: number[] = [];
  for (const f of files) {
    try {
      const size = statSync(join(aof.dir, f.name)).size;
      sizes.push(size);
      total += size;
    } catch (e) {
      log.warning(`The append log file ${f.name} doesn't exist: ${strerror(e)}`);
      return { status: "failed" };
    }
  }
  if (total === 0) return { status: "empty", position: null };
  try {
    return await loadFiles(server, files, sizes, total);
  } finally {
    server.loading = false;
  }
}

/**
 * Whether `appendfilename` in `dir` is a single-file AOF of a Redis before 7.0 to move into
 * appenddirname (loadAppendOnlyFiles): no AOF directory, or no manifest (or one naming no file),
 * or a manifest naming only it as the base while it is not there yet (an upgrade interrupted
 * before the move).
 */
function isOldStyleStart(aofDir: string, fileName: string, m: AofManifest | null): boolean {
  if (!existsSync(aofDir) || m === null || (m.base === null && m.incr.length === 0)) return true;
  return m.base !== null && m.incr.length === 0 && m.base.name === fileName && !existsSync(join(aofDir, fileName));
}

/**
 * aofUpgradePrepare: the old file becomes the base of a manifest (seq 1), the manifest is
 * written, then the file is moved into appenddirname. Null when that failed (the start stops).
 */
function upgradeOldAof(server: Server, m: AofManifest | null): AofManifest | null {
  const aof = aofOf(server);
  const dirName = server.config.str("appenddirname");
  try {
    mkdirSync(aof.dir, { recursive: true });
  } catch (e) {
    server.log.warning(`Can't open or create append-only dir ${dirName}: ${strerror(e)}`);
    return null;
  }
  const next: AofManifest = { base: { name: aof.fileName, seq: 1, type: "b" }, history: m?.history ?? [], incr: [], incrSeq: m?.incrSeq ?? 0 };
  try {
    aof.persistManifest(next);
  } catch (e) {
    server.log.warning(`Can't persist the AOF manifest: ${strerror(e)}`);
    return null;
  }
  try {
    renameSync(aof.fileName, join(aof.dir, aof.fileName));
  } catch (e) {
    server.log.warning(`Error trying to move the old AOF file ${aof.fileName} into dir ${dirName}: ${strerror(e)}`);
    return null;
  }
  aof.manifest = next;
  server.log.notice(`Successfully migrated an old-style AOF file (${aof.fileName}) into the AOF directory (${dirName}).`);
  return next;
}

async function loadFiles(server: Server, files: AofFileInfo[], sizes: number[], total: number): Promise<AofLoadResult> {
  const aof = aofOf(server);
  const log = server.log;
  const manifest = aof.manifest;
  let status: "ok" | "truncated" = "ok";
  let position: StreamPosition | null = null;
  for (let i = 0; i < files.length; i++) {
    const f = files[i]!;
    const path = join(aof.dir, f.name);
    const last = i === files.length - 1;
    const started = performance.now();
    if (sizes[i] === 0) {
      if (last && f.stream) position = { replid: f.stream.replid, offset: f.stream.startOffset, db: 0, masterVersion: f.stream.masterVersion };
      continue;
    }
    const isBase = f === manifest.base;
    // Any file may start with an RDB (a base; an old single-file AOF with aof-use-rdb-preamble),
    // commands may follow it (loadSingleAppendOnlyFile).
    let commandsFrom = 0;
    if (isRdb(path)) {
      log.notice(isBase ? "Reading RDB base file on AOF loading..." : "Reading RDB preamble from AOF file...");
      const rdbLength = await loadDatasetFile(server, path, true);
      if (rdbLength === null) {
        log.warning(`Error reading the RDB base file ${f.name}, AOF loading aborted`);
        return { status: "failed" };
      }
      commandsFrom = rdbLength;
      if (commandsFrom < sizes[i]!) log.notice("Reading the remaining AOF tail...");
    }
    if (commandsFrom < sizes[i]!) {
      const r = await loadCommandFile(server, path, f.name, last, commandsFrom);
      if (r === null) return { status: "failed" };
      if (r.truncated) status = "truncated";
      if (last && f.stream) {
        const s = f.stream;
        position = { replid: s.replid, offset: s.startOffset + Math.max(0, r.validUpTo - s.streamStart), db: r.db, masterVersion: s.masterVersion };
      }
    }
    log.notice(`DB loaded from ${isBase ? "base" : "incr"} file ${f.name}: ${((performance.now() - started) / 1000).toFixed(3)} seconds`);
  }
  aof.currentSize = total;
  // As Redis: the base's size stands for the size at the last rewrite (not persisted).
  aof.rewriteBaseSize = manifest.base ? sizes[0]! : 0;
  return { status, position };
}

function isRdb(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const sig = Buffer.alloc(5);
    return readSync(fd, sig, 0, 5, 0) === 5 && sig.toString("latin1") === "REDIS";
  } finally {
    closeSync(fd);
  }
}

/**
 * Runs the commands of one file (loadSingleAppendOnlyFile). Returns null when the load must
 * stop; else the position of the end of the last complete command (or MULTI block) and the db
 * the file's stream has selected there.
 */
async function loadCommandFile(server: Server, path: string, name: string, last: boolean, from: number): Promise<{ validUpTo: number; truncated: boolean; db: number } | null> {
  const log = server.log;
  const c = new Client(server, null, ClientKind.Master);
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    log.warning(`Fatal error: can't open the append log file ${name} for reading: ${strerror(e)}`);
    return null;
  }
  server.loading = true;
  let consumed = from;
  let validUpTo = from;
  let validBeforeMulti = from;
  let filePos = from;
  let db = 0;
  let loops = 0;
  try {
    let deadline = performance.now() + SLICE_MS;
    while (true) {
      // A fresh buffer per read: the parser keeps slices of it.
      const buf = Buffer.allocUnsafe(READ_CHUNK);
      const n = readSync(fd, buf, 0, READ_CHUNK, filePos);
      if (n === 0) break;
      filePos += n;
      c.parser.feed(buf.subarray(0, n));
      while (true) {
        const skipped = c.parser.skipAofAnnotation();
        if (skipped === AOF_LINE_PARTIAL) break;
        if (skipped > 0) {
          consumed += skipped;
          continue;
        }
        const at = consumed;
        let argv: string[] | null;
        try {
          if (skipped === AOF_LINE_BAD) throw new ProtocolError("not a multibulk", "aof");
          argv = c.parser.next();
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
          log.warning(`Bad file format reading the append only file ${name}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>`);
          return null;
        }
        if (argv === null) break;
        consumed += c.parser.lastCommandBytes;
        const spec = resolveCommand(c, argv);
        if (!spec) {
          log.warning(`Unknown command '${argv[0]}' reading the append only file ${name}`);
          return null;
        }
        if (spec.name === "multi") validBeforeMulti = at;
        processCommand(c, argv);
        if (c.pendingScript !== null) {
          await c.pendingScript;
          c.blocked = false;
        }
        c.reply.reset();
        if (c.multi === null) {
          validUpTo = consumed;
          db = c.db.id;
        }
        if ((++loops & 255) === 0 && performance.now() > deadline) {
          // Clients are answered (-LOADING) between slices, as Redis's processEventsWhileBlocked.
          await new Promise((r) => setImmediate(r));
          deadline = performance.now() + SLICE_MS;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  const torn = c.parser.pendingBytes > 0;
  if (!torn && c.multi === null) return { validUpTo, truncated: false, db };
  if (!torn) {
    log.warning(`Revert incomplete MULTI/EXEC transaction in AOF file ${name}`);
    validUpTo = validBeforeMulti;
  }
  if (c.multi !== null) discardTransaction(c);
  if (!server.config.bool("aof-load-truncated") || !last) {
    if (!last) log.warning("Fatal error: the truncated file is not the last file");
    else log.warning(`Unexpected end of file reading the append only file ${name}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.`);
    return null;
  }
  log.warning(`!!! Warning: short read while loading the AOF file ${name}!!!`);
  log.warning(`!!! Truncating the AOF ${name} at offset ${validUpTo} !!!`);
  try {
    truncateSync(path, validUpTo);
  } catch (e) {
    log.warning(`Error truncating the AOF file ${name}: ${strerror(e)}`);
    return null;
  }
  log.warning(`AOF ${name} loaded anyway because aof-load-truncated is enabled`);
  return { validUpTo, truncated: true, db };
}
