// The delayed half of applying our master's stream (replica-apply-delay): what the master sends
// goes to the spool (apply-delay.ts, delay-spool.ts) as it arrives and is handed to the stream's
// apply (master-stream.ts) through a client of its own once older than the delay; a full sync is
// held the same way. This module decides when: it starts and ends the delay at command
// boundaries, runs the timer, and carries out REPLICADELAY, restarts and promotion.

import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "../core/client.ts";
import type { Server } from "../core/server.ts";
import { ApplyDelay, type PendingCommand } from "./apply-delay.ts";
import { DelaySpool, NEXT_DIR, SPOOL_DIR } from "./delay-spool.ts";
import type { MasterStream } from "./master-stream.ts";
import type { ReplicaLink } from "./replica-link.ts";
import type { Replication } from "./replication.ts";
import { loadHeldSnapshot } from "./sync-transfer.ts";

/** Time spent applying due stream bytes per turn of the event loop. */
const STREAM_SLICE_MS = 10;

export class DelayedStream {
  /** The spool and applier while there is one. */
  delay: ApplyDelay | null = null;
  private delayTimer: ReturnType<typeof setTimeout> | null = null;
  private delayPumping = false;

  constructor(
    private readonly server: Server,
    private readonly repl: Replication,
    private readonly link: ReplicaLink,
    private readonly stream: MasterStream,
  ) {}

  /** replica-apply-delay in milliseconds. */
  delayMs(): number {
    return this.server.config.num("replica-apply-delay") * 1000;
  }

  /**
   * Starts spooling (replica-apply-delay set): only where the stream is at a command boundary
   * with everything applied, so that the applier starts in the state the link client is in.
   */
  startDelay(): void {
    const c = this.stream.client;
    if (c === null || this.stream.hasQueue || c.parser.pendingBytes > 0 || c.multi || this.stream.openTransactionBytes > 0 || c.pendingScript !== null) return;
    if (this.repl.masterReplOffset !== this.stream.readReplOffset) return;
    try {
      const spool = DelaySpool.create(SPOOL_DIR, this.repl.replid, this.stream.readReplOffset);
      this.delay = new ApplyDelay(this.server, spool, this.stream.readReplOffset, c.db.id);
      this.server.log.notice(`Delayed replica: the stream from offset ${this.stream.readReplOffset} is applied ${this.delayMs() / 1000} s after it arrives (spool in ${SPOOL_DIR}/).`);
    } catch (e) {
      this.server.log.warning(`Delayed replica: cannot create the spool in ${SPOOL_DIR}/ (${(e as Error).message}): applying without delay.`);
    }
  }

  /** Received bytes into the delay spool; applied once due. */
  hold(chunk: Buffer): void {
    const now = Date.now();
    this.stream.lastInteraction = now;
    this.stream.readReplOffset += chunk.length;
    try {
      this.delay!.hold(chunk, now, this.repl.replid);
    } catch (e) {
      // Without the spool the delay cannot go on: the link restarts and asks again from what we hold.
      this.stream.readReplOffset -= chunk.length;
      this.server.log.warning(`Delayed replica: writing the spool failed (${(e as Error).message}).`);
      this.link.dropLinkForReconnect();
      return;
    }
    this.scheduleDelayed(this.delayMs());
  }

  /** Runs the delayed pump in `ms` (or sooner if already scheduled sooner). */
  scheduleDelayed(ms: number): void {
    if (this.delay === null || this.delayPumping) return;
    if (this.delayTimer !== null) {
      if (ms > 0) return;
      clearTimeout(this.delayTimer);
    }
    const wait = Math.max(0, Math.min(ms, 1000));
    this.delayTimer = setTimeout(() => {
      this.delayTimer = null;
      this.pumpDelayed();
    }, wait);
  }

  /** Applies what fell due, in slices of STREAM_SLICE_MS, then waits for the next due bytes. */
  private pumpDelayed(): void {
    const d = this.delay;
    if (d === null) return;
    const delayMs = this.delayMs();
    const deadline = performance.now() + STREAM_SLICE_MS;
    this.delayPumping = true;
    try {
      while (this.delay === d && !d.loadingSnapshot && !this.stream.waitingForScript && d.applier.pendingScript === null && performance.now() < deadline) {
        const piece = d.nextDue(Date.now(), delayMs);
        if (piece === null) {
          if (d.snapshotDue(Date.now(), delayMs) && this.atAppliedBoundary(d.applier)) this.loadHeldSnapshot(d);
          break;
        }
        this.stream.applyWith(piece, d.applier);
      }
    } catch (e) {
      this.server.log.warning(`Delayed replica: reading the spool failed (${(e as Error).message}): the pending stream is dropped and the link restarts.`);
      this.endDelay();
      this.link.dropMasterClient(false, true);
      return;
    } finally {
      this.delayPumping = false;
    }
    if (this.delay !== d) return;
    if (delayMs === 0 && d.drained && this.atBoundary(d.applier)) return this.endDelay();
    const due = d.nextDueAt(delayMs);
    if (due !== null) this.scheduleDelayed(due - Date.now());
  }

  private atBoundary(c: Client): boolean {
    return this.atAppliedBoundary(c) && this.repl.masterReplOffset === this.stream.readReplOffset;
  }

  /** Everything handed to `c` was applied: no command halfway, no MULTI open, no script waiting. */
  private atAppliedBoundary(c: Client): boolean {
    return c.parser.pendingBytes === 0 && !c.multi && this.stream.openTransactionBytes === 0 && c.pendingScript === null;
  }

  /**
   * A held snapshot fell due: loaded as a disk-based full sync loads (clients get -LOADING
   * meanwhile), then the stream after it applies on its own time.
   */
  private loadHeldSnapshot(d: ApplyDelay): void {
    const next = d.next!;
    d.loadingSnapshot = true;
    this.server.log.notice(`Delayed replica: the full sync held since ${new Date(next.arrival).toISOString()} is due: loading it.`);
    void loadHeldSnapshot(this.server, this.repl, next.file, next.replid, next.offset, d.applier).then((db) => {
      d.loadingSnapshot = false;
      if (this.delay !== d) return;
      if (db === null) {
        // Unusable: forget it and what followed; the next full sync is held again.
        d.dropNext();
        this.link.dropMasterClient(false, true);
        return;
      }
      d.adoptNext(this.server.dbs[db] ?? this.server.dbs[0]!);
      this.scheduleDelayed(0);
    });
  }

  /**
   * A full sync while a delayed replica holds data: its RDB file (`tmpFile`, complete and
   * durable) waits beside the spool until it is older than the delay; the stream after it
   * (from `offset`, history `replid`) is spooled after it. Returns false when it cannot be kept.
   */
  holdSnapshot(tmpFile: string, replid: string, offset: number, db: number): boolean {
    try {
      const d = this.ensureDelay(db);
      if (d.loadingSnapshot) return false;
      d.dropNext();
      const spool = DelaySpool.create(NEXT_DIR, replid, offset);
      const file = join(NEXT_DIR, "snapshot.rdb");
      renameSync(tmpFile, file);
      const arrival = Date.now();
      writeFileSync(join(NEXT_DIR, "snapshot.json"), JSON.stringify({ arrival, replid, offset }));
      d.holdSnapshot(file, arrival, replid, offset, spool);
      this.server.log.notice(`Delayed replica: the full sync (${replid}:${offset}) is held until ${new Date(arrival + this.delayMs()).toISOString()}; the stream after it is spooled meanwhile.`);
      this.scheduleDelayed(this.delayMs());
      return true;
    } catch (e) {
      this.server.log.warning(`Delayed replica: cannot hold the full sync in ${NEXT_DIR}/ (${(e as Error).message}).`);
      return false;
    }
  }

  /** The delay's state, created empty (at the applied offset) if there is none yet. */
  private ensureDelay(db: number): ApplyDelay {
    if (this.delay !== null) return this.delay;
    const spool = DelaySpool.create(SPOOL_DIR, this.repl.replid, this.repl.masterReplOffset);
    this.delay = new ApplyDelay(this.server, spool, this.repl.masterReplOffset, db);
    return this.delay;
  }

  /** A delayed replica holding a full sync: the link's next stream belongs to it. */
  get holdingSnapshot(): boolean {
    return this.delay?.next != null;
  }

  /** Whether a full sync now would be held (replica-apply-delay set and data to protect). */
  wouldHoldSnapshot(): boolean {
    return this.delayMs() > 0 && (this.delay !== null || this.server.totalKeys() > 0) && !(this.delay?.loadingSnapshot ?? false);
  }

  /** The replication ID and offset a PSYNC continues after, for a delayed replica (else null). */
  get delayedReceived(): { replid: string; offset: number } | null {
    return this.delay?.receivedEnd ?? null;
  }

  /**
   * The delay is off and nothing is pending: the link client applies again (in the applier's
   * state), and the spool goes. Also what a full sync or a broken spool does (`force`).
   */
  endDelay(): void {
    const d = this.delay;
    if (d === null) return;
    this.delay = null;
    if (this.delayTimer !== null) clearTimeout(this.delayTimer);
    this.delayTimer = null;
    if (this.stream.client !== null) this.stream.client.db = d.applier.db;
    d.destroy();
  }

  /** The database the stream's next command applies in (for our RDB's repl-stream-db). */
  get streamDb(): number | null {
    return this.delay?.applier.db.id ?? this.stream.client?.db.id ?? null;
  }

  /**
   * Start-up with a dataset that applied the stream up to `applied` (in database `db`): a spool
   * left by the earlier run continues from there. Returns what a PSYNC continues after (the
   * spool's replication ID and end), or null without a usable spool.
   */
  resumeDelay(replid: string, applied: number, db: number): { replid: string; offset: number } | null {
    const warn = (msg: string) => this.server.log.warning(msg);
    this.adoptLoadedSnapshotSpool(replid, applied);
    let spool: DelaySpool | null;
    try {
      spool = DelaySpool.open(SPOOL_DIR, warn);
    } catch (e) {
      warn(`Delayed replica: the spool in ${SPOOL_DIR}/ cannot be read (${(e as Error).message}): not used.`);
      return null;
    }
    if (spool === null) return null;
    if (applied < spool.start || applied > spool.end) {
      warn(`Delayed replica: the spool in ${SPOOL_DIR}/ holds offsets ${spool.start}-${spool.end}, the dataset ends at ${applied}: not used.`);
      spool.destroy();
      rmSync(NEXT_DIR, { recursive: true, force: true });
      return null;
    }
    const d = new ApplyDelay(this.server, spool, applied, db);
    this.delay = d;
    this.server.log.notice(`Delayed replica: ${spool.end - applied} bytes of the stream received before the restart are pending (offsets ${applied}-${spool.end}).`);
    this.resumeHeldSnapshot(d);
    const end = d.receivedEnd;
    this.stream.readReplOffset = end.offset;
    this.scheduleDelayed(0);
    return end;
  }

  /**
   * Start-up after a crash between loading a held snapshot (it became dbfilename, which is what
   * we loaded now: history `replid` at `applied`) and moving its stream into the spool's place.
   */
  private adoptLoadedSnapshotSpool(replid: string, applied: number): void {
    const meta = join(NEXT_DIR, "snapshot.json");
    if (!existsSync(meta) || existsSync(join(NEXT_DIR, "snapshot.rdb"))) return;
    try {
      const held = JSON.parse(readFileSync(meta, "utf8")) as { replid: string; offset: number };
      if (held.replid !== replid || held.offset !== applied) return;
      rmSync(meta);
      rmSync(SPOOL_DIR, { recursive: true, force: true });
      renameSync(NEXT_DIR, SPOOL_DIR);
    } catch {}
  }

  /** Start-up: a held snapshot left by the earlier run (NEXT_DIR) is held again. */
  private resumeHeldSnapshot(d: ApplyDelay): void {
    const meta = join(NEXT_DIR, "snapshot.json");
    const file = join(NEXT_DIR, "snapshot.rdb");
    if (!existsSync(meta) || !existsSync(file)) {
      rmSync(NEXT_DIR, { recursive: true, force: true });
      return;
    }
    try {
      const { arrival, replid, offset } = JSON.parse(readFileSync(meta, "utf8")) as { arrival: number; replid: string; offset: number };
      const spool = DelaySpool.open(NEXT_DIR, (msg) => this.server.log.warning(msg));
      if (spool === null || spool.start !== offset) throw new Error("its stream does not start at the snapshot");
      d.holdSnapshot(file, arrival, replid, offset, spool);
      this.server.log.notice(`Delayed replica: a full sync (${replid}:${offset}) held before the restart is held until ${new Date(arrival + this.delayMs()).toISOString()}.`);
    } catch (e) {
      this.server.log.warning(`Delayed replica: the held full sync in ${NEXT_DIR}/ is not usable (${(e as Error).message}): removed.`);
      rmSync(NEXT_DIR, { recursive: true, force: true });
    }
  }

  /**
   * REPLICADELAY APPLY / promotion: release the pending stream up to stream offset `upTo`, or
   * what arrived before unix ms `before` (neither beyond what was received by now). With `now`, applies it before returning (promotion).
   */
  releaseEarly(upTo: number, before: number, now: boolean): void {
    const d = this.delay;
    if (d === null) return;
    // Never beyond what is here now: what arrives later waits for its own delay.
    d.releaseUpTo = Math.max(d.releaseUpTo, Math.min(upTo, d.spool.end));
    d.releaseArrivedBefore = Math.max(d.releaseArrivedBefore, Math.min(before, Date.now()));
    if (!now) return this.scheduleDelayed(0);
    while (this.delay === d && !this.stream.waitingForScript && d.applier.pendingScript === null) {
      const piece = d.nextDue(Date.now(), this.delayMs());
      if (piece === null) break;
      this.stream.applyWith(piece, d.applier);
    }
  }

  /**
   * REPLICADELAY DISCARD: forgets the pending stream; the link starts over from what was
   * applied (a PSYNC from there). Returns the number of commands discarded.
   */
  discardDelay(): number {
    const d = this.delay;
    if (d === null) return 0;
    const n = d.pendingCommands;
    const db = d.applier.db;
    this.endDelay();
    this.stream.readReplOffset = this.repl.masterReplOffset;
    if (this.stream.client !== null) {
      this.stream.client.db = db;
      this.link.dropMasterClient(true, true);
    } else if (this.link.cached !== null) {
      this.link.cached = { replid: this.link.cached.replid, offset: this.repl.masterReplOffset, db: db.id };
    }
    return n;
  }

  /** REPLICADELAY LIST. */
  pendingCommands(count: number): PendingCommand[] {
    return this.delay?.list(this.repl.masterReplOffset, count) ?? [];
  }

  /** REPLICADELAY DROP. */
  dropPending(end: number): boolean {
    return this.delay?.drop(this.repl.masterReplOffset, end) ?? false;
  }

  /** Once a second: the spool to disk, and the segments nothing needs any more go. */
  delayCron(): void {
    const d = this.delay;
    if (d === null) return;
    try {
      d.spool.sync();
      // A restart loads the last saved RDB and applies the spool from its offset: keep that far
      // back. With the AOF on, what was applied is in it (a restart continues from its end).
      const aof = this.server.config.bool("appendonly");
      const saved = !aof && this.server.config.savePoints.length > 0 ? this.server.persistence.lastSaveReplOffset : this.repl.masterReplOffset;
      d.spool.release(Math.min(saved, this.repl.masterReplOffset));
    } catch (e) {
      this.server.log.warning(`Delayed replica: syncing the spool failed: ${(e as Error).message}`);
    }
    // The delay was lowered or turned off: what is due now applies now.
    this.scheduleDelayed(0);
  }

  /** Shutdown: the spool's files stay (closed) for the next start. */
  closeDelay(): void {
    const d = this.delay;
    if (d === null) return;
    if (this.delayTimer !== null) clearTimeout(this.delayTimer);
    this.delayTimer = null;
    d.close();
  }

  /** INFO replication's lines of a delayed replica (none while the delay is off and nothing is held). */
  infoLines(): string[] {
    const delay = this.server.config.num("replica-apply-delay");
    const d = this.delay;
    if (delay === 0 && d === null) return [];
    const oldest = d?.oldestArrival ?? null;
    return [
      `replica_apply_delay:${delay}`,
      `replica_apply_delay_pending_bytes:${d?.pendingBytes ?? 0}`,
      `replica_apply_delay_pending_commands:${d?.pendingCommands ?? 0}`,
      `replica_apply_delay_oldest_pending_ms:${oldest === null ? 0 : Math.max(0, Date.now() - oldest)}`,
      `replica_apply_delay_held_sync_offset:${d?.next?.offset ?? -1}`,
    ];
  }
}
