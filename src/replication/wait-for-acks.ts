// WAIT numreplicas timeout: clients blocked until enough of our replicas acknowledged the
// offset of their last write (Redis's c->woff and its blocked-for-WAIT list). The replicas are
// asked where they are with REPLCONF GETACK, once per turn of the event loop.

import type { Client } from "../core/client.ts";
import type { ReplicaServing } from "./replica-serving.ts";

interface WaitingClient {
  client: Client;
  offset: number;
  replicas: number;
  timer: ReturnType<typeof setTimeout> | null;
}

export class WaitForAcks {
  private waiting: WaitingClient[] = [];
  private getAckPending = false;
  /** Each client's offset after its last command that propagated (Redis's woff), for WAIT. */
  private readonly lastWriteOffset = new WeakMap<Client, number>();

  constructor(private readonly serving: ReplicaServing) {}

  /**
   * WAIT numreplicas timeout: until that many replicas acknowledged the client's last write
   * (Redis's c->woff: the offset right after its last command that propagated anything).
   */
  wait(c: Client, numReplicas: number, timeoutMs: number): void {
    const offset = this.lastWriteOffset.get(c) ?? 0;
    const acked = this.countAcked(offset);
    if (acked >= numReplicas || c.multi || c.denyBlocking) {
      c.reply.int(acked);
      return;
    }
    const entry: WaitingClient = { client: c, offset, replicas: numReplicas, timer: null };
    if (timeoutMs > 0) entry.timer = setTimeout(() => this.finishWait(entry), timeoutMs);
    this.waiting.push(entry);
    c.blocked = true;
    // Ask the replicas where they are (once per event loop iteration, like Redis's beforeSleep).
    if (!this.getAckPending) {
      this.getAckPending = true;
      setImmediate(() => {
        this.getAckPending = false;
        if (this.serving.sessions.size) this.serving.sendGetAck();
      });
    }
  }

  /** After a client's command: if it moved the stream (to `offset`), WAIT will wait for that offset. */
  noteClientWrite(c: Client, offsetBefore: number, offset: number): void {
    if (offset !== offsetBefore) this.lastWriteOffset.set(c, offset);
  }

  /** An ACK came, or a replica left: wakes the clients whose wait is over. */
  check(): void {
    if (this.waiting.length === 0) return;
    for (const w of [...this.waiting]) {
      if (this.countAcked(w.offset) >= w.replicas || w.client.conn?.closed) this.finishWait(w);
    }
  }

  private countAcked(offset: number): number {
    let n = 0;
    for (const s of this.serving.sessions) if (s.online && s.ackOffset >= offset) n++;
    return n;
  }

  private finishWait(w: WaitingClient): void {
    const i = this.waiting.indexOf(w);
    if (i < 0) return;
    this.waiting.splice(i, 1);
    if (w.timer) clearTimeout(w.timer);
    w.client.blocked = false;
    w.client.reply.int(this.countAcked(w.offset));
    w.client.flush();
    w.client.resumeInput();
  }
}
