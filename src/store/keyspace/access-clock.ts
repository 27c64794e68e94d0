// The 24-bit access field every record carries (record.ts, header bits 8-31), as Redis's
// robj.lru: with an LRU (or no) maxmemory policy, the seconds clock of the last access; with an
// LFU policy, the minutes clock of the last decrement (16 bits) and a logarithmic access counter
// (8 bits). Eviction reads it (core/evict.ts), OBJECT IDLETIME / FREQ report it, RESTORE and RDB
// loads set it (IDLETIME / FREQ, the RDB's IDLE / FREQ opcodes).
//
// One clock per server, shared by its databases and their keyspaces: the cron refreshes it ten
// times a second (Redis's server.lruclock, resolution 1 s), and the policy switches its form.

/** An LFU counter's value for a new key (Redis's LFU_INIT_VAL), so that it is not evicted at once. */
const LFU_INIT_VAL = 5;
/** The seconds clock wraps at 2^24 (about 194 days). */
const LRU_CLOCK_MAX = 0xffffff;
const MINUTES_MAX = 0xffff;

export class AccessClock {
  /** An LFU policy is selected (the field holds minutes and a counter). */
  lfu = false;
  /** lfu-log-factor: how many accesses it takes to grow the counter. */
  logFactor = 10;
  /** lfu-decay-time: minutes per unit the counter loses while the key is not accessed. */
  decayTime = 1;
  /** Seconds clock (Redis's LRU_CLOCK()), and minutes clock (LFUGetTimeInMinutes()). */
  seconds = 0;
  minutes = 0;
  /** The field a new record starts with (Redis's createObject). */
  createValue = 0;

  constructor(nowMs = Date.now()) {
    this.refresh(nowMs);
  }

  refresh(nowMs: number): void {
    this.seconds = Math.floor(nowMs / 1000) & LRU_CLOCK_MAX;
    this.minutes = Math.floor(nowMs / 60000) & MINUTES_MAX;
    this.createValue = this.lfu ? (this.minutes << 8) | LFU_INIT_VAL : this.seconds;
  }

  /** The field after an access (Redis's lookupKey: the clock, or updateLFU). */
  accessed(field: number): number {
    if (!this.lfu) return this.seconds;
    let counter = this.lfuCounter(field);
    // LFULogIncr: the higher the counter, the less likely an access raises it.
    if (counter < 255) {
      const base = counter > LFU_INIT_VAL ? counter - LFU_INIT_VAL : 0;
      if (Math.random() < 1 / (base * this.logFactor + 1)) counter++;
    }
    return (this.minutes << 8) | counter;
  }

  /** The LFU counter decayed for the minutes since its last decrement (LFUDecrAndReturn). */
  lfuCounter(field: number): number {
    const ldt = field >>> 8;
    const counter = field & 255;
    const now = this.minutes;
    const elapsed = now >= ldt ? now - ldt : MINUTES_MAX - ldt + now;
    const periods = this.decayTime ? Math.floor(elapsed / this.decayTime) : 0;
    return periods > counter ? 0 : counter - periods;
  }

  /** Milliseconds since the last access, in LRU form (estimateObjectIdleTime). */
  idleMs(field: number): number {
    const now = this.seconds;
    return (now >= field ? now - field : now + (LRU_CLOCK_MAX - field)) * 1000;
  }

  /** Milliseconds since the last access in either form (LFU: to the minute). */
  sinceAccessMs(field: number): number {
    if (!this.lfu) return this.idleMs(field);
    const ldt = field >>> 8;
    const now = this.minutes;
    return (now >= ldt ? now - ldt : MINUTES_MAX - ldt + now) * 60000;
  }

  /**
   * The field for a key restored or loaded with an idle time in seconds or a frequency
   * (objectSetLRUOrLFU), or -1 when the policy's form was not given (the key keeps its
   * creation value).
   */
  fromIdleOrFreq(idleSeconds: number, freq: number): number {
    if (this.lfu) return freq >= 0 ? (this.minutes << 8) | Math.min(freq, 255) : -1;
    if (idleSeconds < 0) return -1;
    let abs = this.seconds - idleSeconds;
    // A wrapped clock: half-way round the circle, so that the idle time stays high.
    if (abs < 0) abs = (this.seconds + (LRU_CLOCK_MAX >>> 1)) % LRU_CLOCK_MAX;
    return abs;
  }
}
