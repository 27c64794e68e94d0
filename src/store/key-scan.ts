// SCAN over a database's key table.
//
// Redis's guarantee: a full iteration (cursor 0 ... cursor 0) returns every key that was present
// from its start to its end, possibly some more than once; keys added or removed meanwhile may
// or may not be returned. Redis gets it statelessly from its reverse-binary cursor over the hash
// table buckets. We get it from the key table's iterators instead (JS Map iterators, shard after
// shard): they walk in insertion order, skip deleted entries and also visit entries added after
// they were created, so an iterator that lives across the SCAN calls of one iteration sees every
// key that stays present.
//
// The cursor names the live iterator: cursor = position * 2^20 + token, where `token` (1 ..
// 2^20-1) keys a bounded table of iterators (the oldest dropped past MAX_LIVE, or after
// IDLE_MS unused) and `position` counts the keys the iteration has consumed. A cursor whose
// iterator is gone (evicted, server restarted, the same cursor sent twice, a FLUSHDB replaced
// the table) falls back to a new iterator that skips `position` keys: still a complete walk of
// the keys inserted since, but a key may then be missed if keys before it were deleted in the
// meantime. Cursor values therefore differ from Redis's; only their meaning matters to clients.
//
// The live iterators are a server's (Server.keyScans): one KeyScans per server.

import type { KeyTable } from "./key-table.ts";
import type { RedisValue } from "./values.ts";

const TOKEN_BITS = 20;
const TOKEN_SPACE = 2 ** TOKEN_BITS;
const MAX_LIVE = 4096;
const IDLE_MS = 5 * 60 * 1000;

interface LiveScan {
  keys: KeyTable<RedisValue>;
  iterator: Iterator<string>;
  /** A key already taken from the iterator but not yet returned (the look-ahead for "done"). */
  pending: string | undefined;
  position: number;
  lastUsed: number;
}

/** A server's SCAN iterations in progress, by cursor token. */
export class KeyScans {
  private readonly live = new Map<number, LiveScan>();
  private nextToken = 1;

  /**
   * Resumes (or starts, for cursor 0) an iteration and takes up to `count` keys. Returns the keys
   * and the next cursor ("0" when the iteration is complete).
   */
  scan(keys: KeyTable<RedisValue>, cursor: bigint, count: number, now: number): { keys: string[]; cursor: string } {
    this.expireIdle(now);
    let state: LiveScan | undefined;
    if (cursor !== 0n) {
      const token = Number(cursor % BigInt(TOKEN_SPACE));
      const position = cursor / BigInt(TOKEN_SPACE);
      const s = this.live.get(token);
      if (s !== undefined && s.keys === keys && BigInt(s.position) === position) {
        this.live.delete(token);
        state = s;
      } else {
        state = { keys, iterator: keys.keys(), pending: undefined, position: 0, lastUsed: now };
        // Positional fallback: skip what the iteration had consumed.
        const skip = position > BigInt(keys.size) ? keys.size : Number(position);
        for (let i = 0; i < skip; i++) {
          if (state.iterator.next().done) break;
        }
        state.position = skip;
        if (position > BigInt(keys.size)) return { keys: [], cursor: "0" };
      }
    } else {
      state = { keys, iterator: keys.keys(), pending: undefined, position: 0, lastUsed: now };
    }
    const out: string[] = [];
    if (state.pending !== undefined) {
      const p = state.pending;
      state.pending = undefined;
      // A key deleted since it was read ahead is not returned.
      if (keys.has(p)) out.push(p);
      state.position++;
    }
    while (out.length < count) {
      const n = state.iterator.next();
      if (n.done) return { keys: out, cursor: "0" };
      out.push(n.value);
      state.position++;
    }
    const ahead = state.iterator.next();
    if (ahead.done) return { keys: out, cursor: "0" };
    state.pending = ahead.value;
    state.lastUsed = now;
    const token = this.allocateToken();
    this.live.set(token, state);
    return { keys: out, cursor: (BigInt(state.position) * BigInt(TOKEN_SPACE) + BigInt(token)).toString() };
  }

  private allocateToken(): number {
    const token = this.nextToken;
    this.nextToken = this.nextToken + 1 >= TOKEN_SPACE ? 1 : this.nextToken + 1;
    this.live.delete(token);
    if (this.live.size >= MAX_LIVE) {
      const oldest = this.live.keys().next();
      if (!oldest.done) this.live.delete(oldest.value);
    }
    return token;
  }

  private expireIdle(now: number): void {
    // Map order is insertion order, which is last-use order here (used entries are re-inserted).
    for (const [token, s] of this.live) {
      if (now - s.lastUsed < IDLE_MS) break;
      this.live.delete(token);
    }
  }

  /** Drops the iterators over a key table that was just emptied or replaced (they would pin it). */
  forget(keys: KeyTable<RedisValue>): void {
    if (this.live.size === 0) return;
    for (const [token, s] of this.live) if (s.keys === keys) this.live.delete(token);
  }
}
