// Applying our master's command stream once the link is up (Redis's processInputBuffer for the
// master client, and replicationFeedStreamFromMasterStream). The commands run through the same
// dispatcher as clients', with the master's privileges; the replication offset advances by
// exactly the bytes of each applied command (at EXEC for a MULTI block), and those bytes are
// forwarded unchanged to our backlog and replicas once applied.
//
// Bytes are applied as they arrive; behind bytes not applied yet (the stream that piled up
// during a full sync's load, or a busy script) they queue and are applied in slices between
// turns of the event loop, so clients are served meanwhile. A delayed replica's bytes go to its
// spool instead and come back through applyWith once due (delayed-stream.ts).

import type { Client } from "../core/client.ts";
import { processCommand } from "../core/dispatch.ts";
import { prefetchPipeline } from "../core/input.ts";
import type { Server } from "../core/server.ts";
import { ProtocolError } from "../protocol/request-parser.ts";
import type { ReplicaLink } from "./replica-link.ts";
import { StreamSpool } from "./stream-spool.ts";
import type { Replication } from "./replication.ts";
import { DelayedStream } from "./delayed-stream.ts";

/** Time spent applying queued stream bytes per turn of the event loop. */
const STREAM_SLICE_MS = 10;
/** Queued stream bytes beyond which reading from the master pauses. */
const STREAM_QUEUE_PAUSE = 16 * 1024 * 1024;

export class MasterStream {
  /** Our master's client while the link is up (the stream is applied through it). */
  client: Client | null = null;
  /** Bytes read from the master's stream (slave_read_repl_offset); the applied ones are the offset. */
  readReplOffset = 0;
  /** Unix ms of the last data from the connected master. */
  lastInteraction = 0;
  /** Bytes of a MULTI block applied but not yet counted (the offset moves at EXEC, as in Redis). */
  private multiBytes = 0;
  /** Stream bytes received and not applied yet (see queue), in order; a spool is read back in pieces. */
  private queued: Array<Buffer | StreamSpool> = [];
  private queuedBytes = 0;
  private pumping = false;
  private readingPaused = false;
  /** Whether apply waits for a busy script already. */
  waitingForScript = false;
  /** A delayed replica's side of the stream (replica-apply-delay). */
  readonly delayed: DelayedStream;

  constructor(
    private readonly server: Server,
    private readonly repl: Replication,
    private readonly link: ReplicaLink,
  ) {
    this.delayed = new DelayedStream(server, repl, link, this);
  }

  /** A delayed replica's spool and applier, while it has one. */
  get delay() {
    return this.delayed.delay;
  }

  /** Bytes wait in the queue (or are being applied from it). */
  get hasQueue(): boolean {
    return this.queued.length > 0 || this.pumping;
  }

  /** Bytes of a MULTI block applied but not counted in the offset yet. */
  get openTransactionBytes(): number {
    return this.multiBytes;
  }

  /** The link is up: the stream continues from `offset`, applied through `c`. */
  attach(c: Client, offset: number): void {
    this.dropQueue();
    this.client = c;
    this.readReplOffset = offset;
    this.lastInteraction = Date.now();
    this.multiBytes = 0;
  }

  /** The link is gone: bytes not applied are forgotten (a PSYNC asks for them again). */
  detach(): void {
    this.client = null;
    this.dropQueue();
  }

  /** Bytes of the master's stream received: applied now, or queued behind bytes not applied yet. */
  receive(chunk: Buffer): void {
    if (!this.client) return;
    if (this.delay === null && this.delayed.delayMs() > 0) this.delayed.startDelay();
    if (this.delay !== null) return this.delayed.hold(chunk);
    if (this.queued.length === 0 && !this.pumping) {
      this.lastInteraction = Date.now();
      this.readReplOffset += chunk.length;
      this.apply(chunk);
      return;
    }
    this.queue(chunk);
  }

  /**
   * Queues stream bytes to be applied in slices of STREAM_SLICE_MS, in order, between turns of
   * the event loop (the stream that piled up during a full sync can take seconds to apply:
   * clients are served meanwhile, as Redis serves them between reads of its master's link).
   * Reading from the master pauses while too much waits.
   */
  queue(chunk: Buffer): void {
    if (!this.client) return;
    if (this.delay === null && this.delayed.delayMs() > 0) this.delayed.startDelay();
    if (this.delay !== null) return this.delayed.hold(chunk);
    this.lastInteraction = Date.now();
    this.readReplOffset += chunk.length;
    this.queued.push(chunk);
    this.queuedBytes += chunk.length;
    if (!this.readingPaused && this.queuedBytes > STREAM_QUEUE_PAUSE) {
      this.readingPaused = true;
      this.link.connection?.setReading(false);
    }
    this.startPump();
  }

  /** Queues what a spool holds (stream bytes past a dual-channel sync's memory limit), after what is queued. */
  queueSpool(spool: StreamSpool): void {
    if (!this.client) return spool.discard();
    if (this.delay === null && this.delayed.delayMs() > 0) this.delayed.startDelay();
    if (this.delay !== null) {
      // Into the delay spool, piece by piece (a failed read drops the link: PSYNC asks again).
      try {
        for (let piece = spool.next(); piece !== null; piece = spool.next()) this.delayed.hold(piece);
      } catch (e) {
        this.server.log.warning(`Reading the spooled replication stream failed: ${(e as Error).message}`);
        this.link.dropLinkForReconnect();
      } finally {
        spool.discard();
      }
      return;
    }
    this.lastInteraction = Date.now();
    this.readReplOffset += spool.written;
    this.queued.push(spool);
    this.startPump();
  }

  private startPump(): void {
    if (this.pumping) return;
    this.pumping = true;
    setImmediate(() => this.pump());
  }

  private pump(): void {
    const c = this.client;
    const deadline = performance.now() + STREAM_SLICE_MS;
    while (c !== null && this.client === c && this.queued.length > 0 && performance.now() < deadline) {
      const head = this.queued[0]!;
      if (!(head instanceof StreamSpool)) {
        this.queued.shift();
        this.queuedBytes -= head.length;
        this.apply(head);
        continue;
      }
      let piece: Buffer | null;
      try {
        piece = head.next();
      } catch (e) {
        // The spooled stream cannot be read back: the link restarts (a PSYNC asks again from our offset).
        this.server.log.warning(`Reading the spooled replication stream failed: ${(e as Error).message}`);
        this.link.dropLinkForReconnect();
        return;
      }
      if (piece === null) {
        this.queued.shift();
        head.discard();
      } else this.apply(piece);
    }
    if (c !== null && this.client === c && this.queued.length > 0) {
      setImmediate(() => this.pump());
      return;
    }
    this.pumping = false;
    if (this.readingPaused) {
      this.readingPaused = false;
      if (this.client === c) this.link.connection?.setReading(true);
    }
  }

  private dropQueue(): void {
    for (const q of this.queued) if (q instanceof StreamSpool) q.discard();
    this.queued = [];
    this.queuedBytes = 0;
    this.readingPaused = false;
  }

  /** Applies bytes of the master's command stream; the offset moves by each command's bytes. */
  /** Applies stream bytes through `c` (the delayed stream's applier). */
  applyWith(chunk: Buffer, c: Client): void {
    this.apply(chunk, c);
  }

  private apply(chunk: Buffer, c: Client | null = this.client): void {
    if (!c) return;
    // The raw bytes are what our backlog and sub-replicas receive, once applied.
    this.repl.onStreamBytesReceived(chunk);
    c.parser.feed(chunk);
    this.run(c);
  }

  /**
   * Runs the complete commands received from the master. While a script is busy nothing is
   * applied (Redis's processInputBuffer stops for the master then): the stream accumulates and
   * runs when the script ends; a script the master sent that yields ends the same way.
   */
  private run(c: Client): void {
    const scripting = this.server.scripting;
    // One clock read per command, as a client's batch (core/input.ts processInput).
    this.server.batchClock = performance.now();
    let ahead = 0;
    try {
      while (this.isApplier(c)) {
        if (scripting.busy !== null) {
          if (!this.waitingForScript) {
            this.waitingForScript = true;
            scripting.whenNotBusy(() => {
              this.waitingForScript = false;
              if (this.isApplier(c)) this.run(c);
              if (this.delay?.applier === c) this.delayed.scheduleDelayed(0);
            });
          }
          return;
        }
        // The stream's keys read ahead, as a client's pipeline's (core/input.ts).
        if (--ahead <= 0) ahead = prefetchPipeline(c);
        const argv = c.parser.next();
        if (argv === null) break;
        processCommand(c, argv);
        const bytes = c.parser.lastCommandBytes;
        if (c.pendingScript !== null) {
          c.pendingScript.then(() => {
            c.blocked = false;
            if (!this.isApplier(c)) return;
            this.commandApplied(c, bytes);
            this.run(c);
            if (this.delay?.applier === c) this.delayed.scheduleDelayed(0);
          });
          return;
        }
        this.commandApplied(c, bytes);
      }
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.server.log.warning(`Protocol error (${e.reason}) from MASTER: closing the link and discarding the cached master.`);
      // A delayed stream that does not parse is dropped with the link: a full sync follows.
      if (this.delay?.applier === c) this.delayed.endDelay();
      this.link.dropMasterClient(false, true);
      return;
    } finally {
      this.server.batchClock = -1;
    }
  }

  /** A command of the master's stream was applied: the offset moves (at EXEC for a MULTI block). */
  private commandApplied(c: Client, bytes: number): void {
    if (c.multi) {
      this.multiBytes += bytes;
      return;
    }
    const applied = bytes + this.multiBytes;
    this.multiBytes = 0;
    this.repl.masterReplOffset += applied;
    this.repl.onStreamApplied(applied);
  }

  private isApplier(c: Client): boolean {
    return this.delay !== null ? this.delay.applier === c : this.client === c;
  }
}
