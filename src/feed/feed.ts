// `replicant feed`: a replica of a Redis master (or of a Replicant replica, which serves PSYNC
// too) that writes what it receives as records instead of applying it (docs/feed.md).
//
// One connection at a time, as a Redis replica's (replication.c syncWithMaster): PING, then AUTH
// and REPLCONF listening-port / capa eof psync2 pipelined with their replies read in order, then
// PSYNC from the checkpoint (or "PSYNC ? -1"). The server's own handshake
// (replication/master-handshake.ts) drives the server's replication state and cannot be used
// without a server; this one is the same exchange for a client that holds no dataset.
//
// The answer:
// - +CONTINUE: the stream follows, from the checkpoint's offset + 1 (no gap, no duplicate);
// - +FULLRESYNC <replid> <offset>: the payload follows ("$<len>" or "$EOF:<mark>"), then the
//   stream from <offset>. After a checkpoint this is a gap: the master's backlog no longer holds
//   the offset asked for. The feed says so and exits with status 2, or with --on-gap resnapshot
//   takes the new snapshot (whose first record empties the target, see snapshot.ts).
//
// The position (replid, offset, db) moves at transaction boundaries only (stream.ts); a
// checkpoint records it, after the records before it are flushed (and fsynced with --out), every
// --checkpoint-interval ms and at SIGINT / SIGTERM. A lost link is retried every second from the
// position in memory (a partial resync, or a new snapshot when one was being received).

import type { Socket } from "bun";
import { ReplyParser, encodeCommand } from "../protocol/reply-parser.ts";
import { FdWriter, OutputClosedError } from "../common/fd-writer.ts";
import { optionsMismatch, readCheckpoint, writeCheckpoint, type CheckpointOptions, type FeedPosition } from "./checkpoint.ts";
import { FeedError } from "./errors.ts";
import { RecordFilter } from "./filter.ts";
import { FeedOutput } from "./output.ts";
import { RecordEncoder, type FeedFormat, type FeedRecord } from "./records.ts";
import { SnapshotReceiver } from "./snapshot.ts";
import { CommandStream } from "./stream.ts";

export interface FeedOptions {
  host: string;
  port: number;
  format: FeedFormat;
  checkpoint?: string;
  db?: number;
  match?: string;
  snapshot: boolean;
  out?: string;
  onGap: "exit" | "resnapshot";
  masterauth?: string;
  masteruser?: string;
  /** Milliseconds between checkpoints (while the position moves). */
  checkpointInterval: number;
  /** No connection messages on standard error. */
  quiet: boolean;
}

/**
 * A line on standard error, written at once (the process may exit right after; a message
 * queued by process.stderr.write could be lost).
 */
export function say(line: string): void {
  const w = new FdWriter(2);
  try {
    w.write(`feed: ${line}\n`);
    w.flush();
  } catch {
    // Standard error is gone: nobody to tell.
  }
}

/** Seconds without a byte from the master before the link is dropped (Redis's repl-timeout). */
const REPL_TIMEOUT_MS = 60_000;
const RETRY_MS = 1000;
const ACK_MS = 1000;

type LinkState = "connecting" | "pong" | "handshake" | "psync" | "payload-header" | "payload" | "stream" | "closed";

interface Link {
  socket: Socket<undefined> | null;
  state: LinkState;
  replies: ReplyParser;
  /** Replies still expected for the pipelined AUTH / REPLCONFs. */
  pending: string[];
  /** Bytes not taken by the socket yet (Bun keeps no write queue). */
  unsent: Buffer[];
  lastRead: number;
  receiver: SnapshotReceiver | null;
  /** The full sync in progress: its replid and offset. */
  fullSync: { replid: string; offset: number } | null;
  stream: CommandStream | null;
}

export class Feed {
  private readonly output: FeedOutput;
  private readonly encoder: RecordEncoder;
  private readonly filter: RecordFilter;
  private readonly cpOptions: CheckpointOptions;
  /** Where the feed stands: null until a first snapshot completed. */
  private position: FeedPosition | null;
  /** The position of the last checkpoint written. */
  private saved: FeedPosition | null;
  private link: Link | null = null;
  private timers: Array<ReturnType<typeof setInterval>> = [];
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private finish!: (code: number) => void;
  readonly finished: Promise<number>;
  private lastConnectError = "";

  constructor(private readonly options: FeedOptions) {
    this.cpOptions = { format: options.format, db: options.db ?? null, match: options.match ?? null };
    const cp = options.checkpoint ? readCheckpoint(options.checkpoint) : null;
    if (cp) {
      const mismatch = optionsMismatch(cp.options, this.cpOptions);
      if (mismatch) throw new FeedError(`cannot continue from ${options.checkpoint}: ${mismatch}`);
      if (options.out && cp.outBytes === null) throw new FeedError(`cannot continue from ${options.checkpoint} into ${options.out}: the checkpoint was written for standard output`);
    }
    this.position = cp ? { replid: cp.replid, offset: cp.offset, db: cp.db } : null;
    this.saved = this.position;
    this.output = options.out ? FeedOutput.file(options.out, cp ? cp.outBytes : null) : FeedOutput.stdout();
    this.encoder = new RecordEncoder(options.format);
    this.filter = new RecordFilter({ db: options.db, match: options.match });
    this.finished = new Promise((resolve) => (this.finish = resolve));
  }

  start(): Promise<number> {
    this.timers.push(setInterval(() => this.tick(), ACK_MS));
    if (this.options.checkpoint) this.timers.push(setInterval(() => this.guard(() => this.checkpoint()), this.options.checkpointInterval));
    this.connect();
    return this.finished;
  }

  /** SIGINT / SIGTERM: the records so far are flushed and checkpointed, then exit 0. */
  stop(): void {
    this.guard(() => {
      this.checkpoint();
      this.end(0);
    });
  }

  private log(line: string): void {
    if (!this.options.quiet) say(line);
  }

  private end(code: number, message?: string): void {
    for (const t of this.timers) clearInterval(t);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.timers = [];
    const link = this.link;
    this.link = null;
    if (link) {
      link.state = "closed";
      link.socket?.end();
    }
    try {
      this.output.close();
    } catch {
      // The output is gone (EPIPE): nothing more can be written anyway.
    }
    if (message) say(message);
    this.finish(code);
  }

  /** Runs `f`; a FeedError, a closed output or a bug ends the feed with a clear message. */
  private guard(f: () => void): void {
    try {
      f();
    } catch (e) {
      if (e instanceof OutputClosedError) return this.end(0);
      if (e instanceof FeedError) return this.end(e.exitCode, e.message);
      const err = e as Error;
      this.end(1, err.message || String(e));
    }
  }

  // ------------------------------------------------------------------ connection

  private connect(): void {
    const link: Link = { socket: null, state: "connecting", replies: new ReplyParser(), pending: [], unsent: [], lastRead: Date.now(), receiver: null, fullSync: null, stream: null };
    this.link = link;
    const current = () => this.link === link && link.state !== "closed";
    Bun.connect({
      hostname: this.options.host,
      port: this.options.port,
      socket: {
        open: (s) => {
          if (!current()) return void s.end();
          link.socket = s;
          this.lastConnectError = "";
          link.state = "pong";
          this.send(link, ["PING"]);
        },
        data: (_s, chunk) => {
          if (!current()) return;
          link.lastRead = Date.now();
          this.guard(() => {
            this.receive(link, chunk);
            // What a chunk produced goes out before the next one is read (the consumer sees
            // records as they come; a slow one holds the feed here, see common/fd-writer.ts).
            this.output.flush();
          });
        },
        drain: () => this.flushSocket(link),
        close: () => {
          if (current()) this.linkLost(link, "connection closed by the master");
        },
        error: (_s, e) => {
          if (current()) this.linkLost(link, e.message);
        },
        connectError: (_s, e) => {
          if (current()) this.linkLost(link, `cannot connect to ${this.options.host}:${this.options.port}: ${e.message}`);
        },
      },
    }).catch((e: Error) => {
      if (current()) this.linkLost(link, `cannot connect to ${this.options.host}:${this.options.port}: ${e.message}`);
    });
  }

  private send(link: Link, argv: string[]): void {
    link.unsent.push(encodeCommand(argv));
    this.flushSocket(link);
  }

  private flushSocket(link: Link): void {
    const s = link.socket;
    if (!s) return;
    while (link.unsent.length) {
      const b = link.unsent[0]!;
      const n = s.write(b);
      if (n < 0) return;
      if (n < b.length) {
        link.unsent[0] = b.subarray(n);
        return;
      }
      link.unsent.shift();
    }
  }

  /** The link is gone: what was received up to the last boundary stands; retry in a second. */
  private linkLost(link: Link, why: string): void {
    if (link.state === "closed") return;
    const wasSnapshot = link.state === "payload-header" || link.state === "payload";
    if (link.stream && this.position) this.position = { replid: this.position.replid, offset: link.stream.boundaryOffset, db: link.stream.boundaryDb };
    link.state = "closed";
    link.socket?.end();
    this.link = null;
    this.guard(() => {
      // A snapshot cut short cannot be taken back on standard output; without a flush record
      // (--match) its keys would mix with the next one's.
      if (wasSnapshot && this.options.snapshot && this.options.match !== undefined) {
        throw new FeedError(`${why} during the snapshot: with --match the partial snapshot cannot be superseded; restart the feed (with --out and --checkpoint the output is cut back)`);
      }
      this.output.flush();
      if (why !== this.lastConnectError) this.log(`${why}; retrying every ${RETRY_MS / 1000} s`);
      this.lastConnectError = why;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.connect();
      }, RETRY_MS);
    });
  }

  private tick(): void {
    const link = this.link;
    if (!link) return;
    // Connecting, the handshake and the transfer time out as the stream does (Redis's
    // repl-timeout covers them all).
    if (Date.now() - link.lastRead > REPL_TIMEOUT_MS) return this.linkLost(link, `no data from the master for ${REPL_TIMEOUT_MS / 1000} s (timeout)`);
    if (link.state === "stream" && link.stream) this.send(link, ["REPLCONF", "ACK", String(link.stream.ackOffset)]);
  }

  // ------------------------------------------------------------------ protocol

  private receive(link: Link, chunk: Buffer): void {
    if (link.state === "payload") return this.receivePayload(link, chunk);
    if (link.state === "stream") {
      link.stream!.feed(chunk);
      return;
    }
    link.replies.feed(chunk);
    while (link.state === "pong" || link.state === "handshake" || link.state === "psync" || link.state === "payload-header") {
      const line = link.replies.nextLine();
      if (line === undefined) return;
      if (line === "") continue; // the master's keep-alive newlines
      this.onLine(link, line);
      if ((link.state as LinkState) === "closed") return;
    }
    const rest = link.replies.takeRemaining();
    if (rest.length) this.receive(link, rest);
  }

  private onLine(link: Link, line: string): void {
    switch (link.state) {
      case "pong": {
        // -NOAUTH: the AUTH that follows decides.
        if (line.startsWith("-") && !line.startsWith("-NOAUTH") && !line.startsWith("-NOPERM")) return this.linkLost(link, `error reply to PING from the master: ${line}`);
        const expected: string[] = [];
        if (this.options.masterauth !== undefined) {
          this.send(link, this.options.masteruser !== undefined ? ["AUTH", this.options.masteruser, this.options.masterauth] : ["AUTH", this.options.masterauth]);
          expected.push("AUTH");
        }
        // A feed has no port of its own: 0 shows it in the master's INFO replication.
        this.send(link, ["REPLCONF", "listening-port", "0"]);
        expected.push("REPLCONF listening-port");
        this.send(link, ["REPLCONF", "capa", "eof", "capa", "psync2"]);
        expected.push("REPLCONF capa");
        link.pending = expected;
        link.state = "handshake";
        return;
      }
      case "handshake": {
        const what = link.pending.shift()!;
        if (line.startsWith("-")) {
          if (what === "AUTH") throw new FeedError(`the master refused AUTH: ${line.slice(1)}`);
          if (line.startsWith("-NOAUTH")) throw new FeedError(`the master requires a password (--masterauth): ${line.slice(1)}`);
          // Not critical (as Redis's replica logs it): older masters lack some REPLCONFs.
        }
        if (link.pending.length === 0) this.sendPsync(link);
        return;
      }
      case "psync":
        return this.onPsyncReply(link, line);
      case "payload-header": {
        const sync = link.fullSync!;
        const wanted = this.options.snapshot;
        link.receiver = new SnapshotReceiver(line, sync.offset, wanted ? this.filter : null, (r) => this.emit(r));
        link.state = "payload";
        if (wanted) this.log(`receiving the snapshot (${line.startsWith("$EOF:") ? "diskless" : `${line.slice(1)} bytes`})`);
        if (wanted && this.options.match === undefined) {
          const args = this.options.db !== undefined ? ["FLUSHDB"] : ["FLUSHALL"];
          this.emit({ offset: sync.offset, db: this.options.db ?? 0, args, snapshot: true, replid: sync.replid });
        }
        // The payload (and what follows) is taken raw by receive().
        return;
      }
    }
  }

  private sendPsync(link: Link): void {
    const p = this.position;
    this.send(link, p ? ["PSYNC", p.replid, String(p.offset + 1)] : ["PSYNC", "?", "-1"]);
    link.state = "psync";
  }

  private onPsyncReply(link: Link, line: string): void {
    const p = this.position;
    if (line.startsWith("+CONTINUE") && p) {
      const newId = line.slice(10).trim();
      if (newId.length === 40 && newId !== p.replid) {
        this.log(`the master's replication id changed to ${newId} (same history, offsets go on)`);
        this.position = { ...p, replid: newId };
      }
      this.log(`continuing from ${this.position!.replid}:${p.offset + 1}`);
      this.startStream(link, this.position!);
      return;
    }
    if (line.startsWith("+FULLRESYNC")) {
      const parts = line.split(" ");
      const replid = parts[1] ?? "";
      const offset = Number(parts[2]);
      if (replid.length !== 40 || !Number.isSafeInteger(offset)) throw new FeedError(`bad +FULLRESYNC reply from the master: ${line.slice(0, 100)}`);
      if (p) {
        const gap = `the master cannot continue from ${p.replid}:${p.offset + 1} (its backlog no longer holds that offset, or the history changed); it offers a full sync from ${replid}:${offset}`;
        if (this.options.onGap !== "resnapshot") throw new FeedError(`${gap}. Records were lost: start again without the checkpoint, or pass --on-gap resnapshot`, 2);
        this.log(`${gap}: taking a new snapshot (--on-gap resnapshot)`);
      } else this.log(`full sync from ${replid}:${offset}`);
      link.fullSync = { replid, offset };
      link.state = "payload-header";
      return;
    }
    if (line.startsWith("-NOMASTERLINK") || line.startsWith("-LOADING")) return this.linkLost(link, `the master cannot serve PSYNC yet: ${line.slice(1)}`);
    throw new FeedError(`unexpected reply to PSYNC from the master: ${line.slice(0, 200)}`);
  }

  private receivePayload(link: Link, chunk: Buffer): void {
    const receiver = link.receiver!;
    receiver.receive(chunk);
    if (!receiver.done) return;
    const sync = link.fullSync!;
    link.receiver = null;
    link.fullSync = null;
    this.position = { replid: sync.replid, offset: sync.offset, db: receiver.streamDb };
    if (this.options.snapshot) this.log(`snapshot done: ${receiver.keys} keys`);
    this.startStream(link, this.position);
    // The snapshot is complete: it is a position to continue from.
    this.checkpoint();
    // A Redis 7 master streams after our first ACK (diskless transfers).
    this.send(link, ["REPLCONF", "ACK", String(sync.offset)]);
    if (receiver.tail?.length) this.receive(link, receiver.tail);
  }

  private startStream(link: Link, from: FeedPosition): void {
    link.stream = new CommandStream(from.offset, from.db, this.filter, {
      record: (r) => this.emit(r),
      getAck: (offset) => this.send(link, ["REPLCONF", "ACK", String(offset)]),
    });
    link.state = "stream";
    const rest = link.replies.takeRemaining();
    if (rest.length) this.receive(link, rest);
  }

  private emit(r: FeedRecord): void {
    this.output.write(this.encoder.encode(r));
  }

  // ------------------------------------------------------------------ checkpoint

  /** Writes the checkpoint when the position moved: output durable first, then the file. */
  private checkpoint(): void {
    const path = this.options.checkpoint;
    if (!path) return;
    const link = this.link;
    // Inside a snapshot nothing is a position yet; in the stream, the last boundary is.
    if (link && (link.state === "payload" || link.state === "payload-header")) return;
    if (link?.stream && this.position) this.position = { replid: this.position.replid, offset: link.stream.boundaryOffset, db: link.stream.boundaryDb };
    const p = this.position;
    if (!p) return;
    const s = this.saved;
    if (s && s.replid === p.replid && s.offset === p.offset && s.db === p.db) return;
    this.output.sync();
    writeCheckpoint(path, { ...p, outBytes: this.output.path !== null ? this.output.length : null, options: this.cpOptions });
    this.saved = p;
  }
}
