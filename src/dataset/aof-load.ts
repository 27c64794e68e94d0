// Loading the AOF at start-up (aof.c's loadAppendOnlyFiles / loadSingleAppendOnlyFile): the
// base (an RDB, or commands), then every incremental file in the manifest's order, each run by
// a fresh client in db 0 with a master's privileges and no replies. A torn last command of the
// last file is cut off (aof-load-truncated yes), as is a MULTI block without its EXEC.
//
// On top of Redis: the last incremental file's manifest line says where its stream sits in
// the replication history (aof-manifest.ts), so the offset of the last complete command is
// known: the position from which a replica asks its master to continue (PSYNC replid offset+1).

import { closeSync, existsSync, openSync, readSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { Client, ClientKind } from "../core/client.ts";
import { discardTransaction } from "../core/multi.ts";
import { processCommand, resolveCommand } from "../core/dispatch.ts";
import type { Server } from "../core/server.ts";
import { ProtocolError } from "../protocol/request-parser.ts";
import { ManifestError, type AofFileInfo } from "./aof-manifest.ts";
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
  if (manifest === null) {
    // A single-file AOF of an older Redis (aofUpgradePrepare) is not converted here.
    if (existsSync(aof.fileName)) {
      log.warning(`Found an AOF file ${aof.fileName} of a Redis before 7.0 and no manifest in ${server.config.str("appenddirname")}: converting it is not supported; load it with redis-server 7.0 once (it converts it), or remove it.`);
      return { status: "failed" };
    }
    return { status: "not-exist", position: null };
  }
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
    if (isBase && isRdb(path)) {
      log.notice("Reading RDB base file on AOF loading...");
      if (!(await loadDatasetFile(server, path, true))) {
        log.warning(`Error reading the RDB base file ${f.name}, AOF loading aborted`);
        return { status: "failed" };
      }
    } else {
      const r = await loadCommandFile(server, path, f.name, last);
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
async function loadCommandFile(server: Server, path: string, name: string, last: boolean): Promise<{ validUpTo: number; truncated: boolean; db: number } | null> {
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
  let consumed = 0;
  let validUpTo = 0;
  let validBeforeMulti = 0;
  let filePos = 0;
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
        const at = consumed;
        let argv: string[] | null;
        try {
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
