// A seeded random workload over every command family, for the differential tests: the same
// steps go to a real redis-server and to Replicant (replies compared), or to a redis-server
// master with Replicant as its replica (datasets compared).
//
// The workload runs in phases. Short TTLs all point at the phase's deadline (a token resolved
// when the batch is sent: ms left, or the absolute time), and the runner waits for the
// deadline between phases, so a key either is expired for every command of a phase or for
// none, on both servers: expiry happens during the run without making replies racy.
//
// With `deterministic` (reply comparison), commands whose effect is random (SPOP with a small
// count, XADD with "*" on a stream that may not exist) are left out; read-only random replies
// (SRANDMEMBER, HRANDFIELD, ZRANDMEMBER, RANDOMKEY) stay in, compared by shape only.

import { rng } from "../helpers/seeded.ts";

/** Replaced at send time by the milliseconds left until the phase's deadline (at least 1). */
export const TTL_MS = "\u0000ttl-ms";
/**
 * Replaced at send time by the phase's deadline plus ABSOLUTE_LATER, as absolute Unix ms: later
 * than any relative TTL of the phase (those land a little after the deadline, by how late the
 * server ran the command), so GT/LT between the two kinds are not a race.
 */
export const TTL_AT = "\u0000ttl-at";
export const ABSOLUTE_LATER = 200;

export type Compare =
  /** Byte for byte. */
  | "exact"
  /** The top-level array as a multiset of elements (hashtable order). */
  | "unordered"
  /** The top-level array as a multiset of consecutive pairs (HGETALL, HRANDFIELD WITHVALUES). */
  | "unordered-pairs"
  /** Exact when the OBJECT ENCODING reply just before says listpack/intset/... else "unordered". */
  | "ordered-if-compact"
  | "ordered-if-compact-pairs"
  /** A SCAN-family reply: as "ordered-if-compact" on the elements, cursor equal. */
  | "scan"
  | "scan-pairs"
  /** Same RESP type; same array length (random replies). */
  | "shape"
  /** Integers within a tolerance (TTL family); the tolerance is in the command's unit. */
  | "ttl-s"
  | "ttl-ms"
  /** Parsed, with time-like integers (delivery times, idle times, seen-times) masked. */
  | "stream-timed"
  /** A DUMP payload: exact unless the value is hashtable-encoded (then only its presence). */
  | "dump";

export interface Step {
  cmd: string[];
  cmp: Compare;
  /** May block (a timeout): the runner ends the batch after it, so later TTLs are not late. */
  blocking?: boolean;
  /**
   * Built when the step runs, from the replies to the previous step (redis-server's, then
   * Replicant's): RESTORE of a DUMP payload. The runner ends the batch before such a step.
   */
  derive?: (redisReply: string, replicantReply: string) => string[] | null;
}

export interface Phase {
  steps: Step[];
}

export const DATABASES = [0, 1, 2, 3];
const TYPES = ["str", "int", "bm", "hll", "list", "hash", "set", "zset", "geo", "st"] as const;
/** Sorted sets whose scores are all 0, for the lex commands (undefined order otherwise). */
type KeyType = (typeof TYPES)[number] | "lex";
const KEYS_PER_TYPE = 4;
const GROUPS = ["g1", "g2"];
const CONSUMERS = ["alice", "bob", "carol"];

/** Commands the workload can send, by family, to report coverage. */
export class Workload {
  readonly rand: () => number;
  /** The ms part of stream IDs: far ahead of the clock, so "*" continues the sequence. */
  private streamMs = 5_000_000_000_000;
  private db = 0;
  private inMulti = false;
  private libraryLoaded = false;

  constructor(
    seed: number,
    readonly deterministic: boolean,
    /** EVAL / EVALSHA / FCALL in the mix. */
    readonly scripting = true,
    /**
     * The Redis version whose commands the master has, as 70015 for 7.0.15 (Valkey: the Redis
     * it forked from, 70204): newer commands join the mix on masters that have them.
     */
    readonly compat = 70015,
  ) {
    this.rand = rng(seed);
  }

  // ---- random helpers

  private int(n: number): number {
    return Math.floor(this.rand() * n);
  }
  private chance(p: number): boolean {
    return this.rand() < p;
  }
  private pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
  private key(t: KeyType): string {
    return `${t}:${this.int(KEYS_PER_TYPE)}`;
  }
  /** A key of the type most of the time, any key sometimes (WRONGTYPE, cross-type renames). */
  private keyOf(t: KeyType): string {
    return this.chance(0.04) ? this.anyKey() : this.key(t);
  }
  private anyKey(): string {
    return this.key(this.pick(TYPES));
  }
  /** Another key of the same family most of the time (so that keys mostly keep their type). */
  private related(k: string): string {
    return this.chance(0.85) ? `${k.slice(0, k.indexOf(":"))}:${this.int(KEYS_PER_TYPE)}` : this.anyKey();
  }
  private value(): string {
    const r = this.rand();
    if (r < 0.2) return String(this.int(2000) - 500);
    if (r < 0.25) return this.pick(["9223372036854775807", "-9223372036854775808", "9223372036854775808", "007", "-0", "1e3", " 1"]);
    if (r < 0.3) return this.pick(["1.5", "-2.25", "3e2", "0.1", "inf", "1e308", "5.0e-3"]);
    if (r < 0.35) return this.pick(["", "\u0000", "a\u0000b", "\u00ff\u00fe\r\n", "\u0080x"]);
    if (r < 0.9) return `v${this.int(100)}`.repeat(1 + this.int(3));
    return "L".repeat(40 + this.int(300)) + this.int(10);
  }
  private member(): string {
    const r = this.rand();
    if (r < 0.4) return String(this.int(50));
    if (r < 0.97) return `m${this.int(40)}`;
    return "M".repeat(65 + this.int(20));
  }
  private members(n: number): string[] {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.member());
    return out;
  }
  /** Many elements at once now and then, to cross the compact-encoding limits. */
  private count(): number {
    return this.chance(0.1) ? 10 + this.int(30) : 1 + this.int(3);
  }
  private score(): string {
    const r = this.rand();
    if (r < 0.6) return String(this.int(30) - 5);
    if (r < 0.85) return (this.int(400) / 8 - 10).toString();
    if (r < 0.92) return this.pick(["-inf", "+inf", "1e300", "-0", "0.1", "3e-5"]);
    return this.pick(["nan", "abc", "1.5.5", ""]);
  }
  private lexBound(): string {
    const r = this.rand();
    if (r < 0.15) return this.pick(["-", "+"]);
    return `${this.pick(["[", "("])}${this.member()}`;
  }
  private scoreBound(): string {
    const r = this.rand();
    if (r < 0.15) return this.pick(["-inf", "+inf"]);
    return `${this.chance(0.3) ? "(" : ""}${this.int(30) - 5}`;
  }
  private index(): string {
    return String(this.int(20) - 8);
  }
  /** A long TTL in seconds (never expires during the run). */
  private longSeconds(): string {
    return String(100 + this.int(100000));
  }
  /** A short TTL: expires at the phase's deadline. */
  private shortTtl(): boolean {
    return this.chance(0.5);
  }
  private expireArgs(forSet: boolean): string[] {
    const r = this.rand();
    if (r < 0.25) return ["EX", this.longSeconds()];
    if (r < 0.5) return ["PX", this.shortTtl() ? TTL_MS : String(100000 + this.int(10000000))];
    if (r < 0.6) return ["EXAT", this.chance(0.2) ? String(1 + this.int(1000)) : String(Math.floor(Date.now() / 1000) + 100000 + this.int(10000))];
    if (r < 0.75) return ["PXAT", this.shortTtl() ? TTL_AT : String(Date.now() + 100000000)];
    if (r < 0.78) return [this.pick(["EX", "PX"]), this.pick(["0", "-5", "abc", "9223372036854775807"])];
    return forSet ? ["KEEPTTL"] : ["PERSIST"];
  }

  /** One MULTI/EXEC block of exact-compared commands, sometimes after a WATCH. */
  private multiBlock(): Step[] {
    const steps: Step[] = [];
    if (this.chance(0.4)) {
      // EXEC then fails when a command in between modified a watched key: every write must
      // signal exactly the keys it changed (and a no-op write none).
      steps.push({ cmd: ["WATCH", this.anyKey(), ...(this.chance(0.5) ? [this.anyKey()] : [])], cmp: "exact" });
      for (let i = this.int(3); i > 0; i--) {
        let s: Step[];
        do s = this.oneCommand();
        while (s.some((x) => x.derive || x.blocking || x.cmd[0] === "MULTI" || x.cmd[0] === "SELECT"));
        steps.push(...s);
      }
      if (this.chance(0.1)) steps.push({ cmd: ["UNWATCH"], cmp: "exact" });
    }
    steps.push({ cmd: ["MULTI"], cmp: "exact" });
    this.inMulti = true;
    const n = 1 + this.int(5);
    for (let i = 0; i < n; i++) {
      let s: Step[];
      do s = this.oneCommand();
      while (s.length !== 1 || s[0]!.cmp !== "exact" || s[0]!.derive);
      steps.push(s[0]!);
    }
    if (this.chance(0.05)) steps.push({ cmd: ["LPUSH"], cmp: "exact" }); // arity error: EXECABORT
    this.inMulti = false;
    steps.push({ cmd: [this.chance(0.07) ? "DISCARD" : "EXEC"], cmp: "exact" });
    return steps;
  }

  /** The steps of one generated command (a read of the encoding may come first). */
  oneCommand(): Step[] {
    const r = this.rand();
    if (r < 0.14) return this.strings();
    if (r < 0.19) return this.bitmaps();
    if (r < 0.22) return this.hll();
    if (r < 0.34) return this.keys();
    if (r < 0.45) return this.lists();
    if (r < 0.55) return this.hashes();
    if (r < 0.65) return this.sets();
    if (r < 0.78) return this.zsets();
    if (r < 0.83) return this.geo();
    if (r < 0.94) return this.streams();
    if (r < 0.96) return this.sort();
    if (r < 0.97 && this.scripting) return this.scripts();
    if (r < 0.982) return this.edges();
    if (r < 0.988) return this.moreEdges();
    if (r < 0.99 && !this.inMulti) return this.multiBlock();
    const db = this.pick(DATABASES);
    this.db = db;
    return [{ cmd: ["SELECT", String(db)], cmp: "exact" }];
  }

  /** A phase of about `n` commands. Starts with a SELECT so replays can begin at any phase. */
  phase(n: number): Phase {
    const steps: Step[] = [{ cmd: ["SELECT", String(this.db)], cmp: "exact" }];
    if (!this.libraryLoaded) {
      this.libraryLoaded = true;
      steps.push({ cmd: ["FUNCTION", "LOAD", "REPLACE", LIBRARY], cmp: "exact" }, { cmd: ["SCRIPT", "LOAD", SCRIPTS[0]!], cmp: "exact" });
    }
    while (steps.length < n) steps.push(...this.oneCommand());
    return { steps };
  }

  // ---- families

  private strings(): Step[] {
    const counter = this.chance(0.3);
    const k = this.keyOf(counter ? "int" : "str");
    const r = this.rand();
    // Counters mostly hold integers, so that INCR and friends mostly succeed.
    const value = () => (counter && this.chance(0.8) ? String(this.int(2000) - 1000) : this.value());
    const ex = (cmd: string[]): Step[] => [{ cmd, cmp: "exact" }];
    if (r < 0.2) {
      const opts: string[] = [];
      if (this.chance(0.3)) opts.push(this.pick(["NX", "XX"]));
      if (this.chance(0.2)) opts.push("GET");
      if (this.chance(0.5)) opts.push(...this.expireArgs(true));
      if (this.chance(0.03)) opts.push(this.pick(["NX", "XX", "KEEPTTL", "EX", "BOGUS"]));
      return ex(["SET", k, value(), ...opts]);
    }
    if (r < 0.24) return ex(["SETEX", k, this.chance(0.05) ? "0" : this.longSeconds(), value()]);
    if (r < 0.28) return ex(["PSETEX", k, this.chance(0.5) ? TTL_MS : String(1000000 + this.int(1000)), value()]);
    if (r < 0.3) return ex(["SETNX", k, value()]);
    if (r < 0.34) {
      const pairs: string[] = [];
      for (let i = 1 + this.int(3); i > 0; i--) pairs.push(this.keyOf("str"), value());
      if (this.chance(0.03)) pairs.pop();
      return ex([this.chance(0.7) ? "MSET" : "MSETNX", ...pairs]);
    }
    if (r < 0.38) return ex(["APPEND", k, value()]);
    if (r < 0.41) return ex(["SETRANGE", k, String(this.chance(0.03) ? -1 : this.int(60)), value()]);
    if (r < 0.52) {
      const cmd = this.pick(["INCR", "DECR", "INCRBY", "DECRBY"]);
      const by = this.chance(0.05) ? this.pick(["9223372036854775807", "-9223372036854775808", "x", "1.5"]) : String(this.int(200) - 100);
      return ex(cmd.endsWith("BY") ? [cmd, k, by] : [cmd, k]);
    }
    if (r < 0.57) return ex(["INCRBYFLOAT", k, this.pick(["0.1", "1.5", "-3", "1e3", "2.0e-2", "10.5", "abc", "inf", "5"])]);
    if (r < 0.6) return ex(["GETSET", k, value()]);
    if (r < 0.63) return ex(["GETDEL", k]);
    if (r < 0.68) return ex(["GETEX", k, ...(this.chance(0.7) ? this.expireArgs(false) : [])]);
    if (r < 0.78) return ex(["GET", k]);
    if (r < 0.82) return ex(["MGET", k, this.keyOf("str"), this.keyOf("int")]);
    if (r < 0.86) return ex(["STRLEN", k]);
    if (r < 0.9) return ex(["GETRANGE", k, this.index(), this.index()]);
    if (r < 0.93) {
      const opts = this.pick([[], ["LEN"], ["IDX"], ["IDX", "MINMATCHLEN", "2"], ["IDX", "WITHMATCHLEN"]]);
      return ex(["LCS", k, this.keyOf("str"), ...opts]);
    }
    return [{ cmd: ["OBJECT", "ENCODING", k], cmp: "exact" }];
  }

  private bitmaps(): Step[] {
    const k = this.keyOf(this.chance(0.8) ? "bm" : "str");
    const r = this.rand();
    const ex = (cmd: string[]): Step[] => [{ cmd, cmp: "exact" }];
    if (r < 0.3) return ex(["SETBIT", k, String(this.int(this.chance(0.1) ? 5000 : 200)), this.chance(0.05) ? "2" : String(this.int(2))]);
    if (r < 0.4) return ex(["GETBIT", k, String(this.int(300))]);
    if (r < 0.5) return ex(["BITCOUNT", k, ...(this.chance(0.5) ? [this.index(), this.index(), ...(this.chance(0.5) ? [this.pick(["BYTE", "BIT"])] : [])] : [])]);
    if (r < 0.57) return ex(["BITPOS", k, String(this.int(2)), ...(this.chance(0.5) ? [this.index(), ...(this.chance(0.5) ? [this.index(), this.pick(["BYTE", "BIT"])] : [])] : [])]);
    if (r < 0.7) {
      const op = this.pick(["AND", "OR", "XOR", "NOT"]);
      const srcs = op === "NOT" ? [this.keyOf("bm")] : [this.keyOf("bm"), this.keyOf("bm"), ...(this.chance(0.3) ? [this.keyOf("str")] : [])];
      return ex(["BITOP", op, this.key("bm"), ...srcs]);
    }
    if (r < 0.95) {
      const ops: string[] = [];
      for (let i = 1 + this.int(3); i > 0; i--) {
        const type = `${this.pick(["u", "i"])}${1 + this.int(this.chance(0.5) ? 8 : 63)}`;
        const off = this.chance(0.3) ? `#${this.int(10)}` : String(this.int(100));
        const q = this.rand();
        if (q < 0.2) ops.push("OVERFLOW", this.pick(["WRAP", "SAT", "FAIL"]));
        if (q < 0.5) ops.push("GET", type, off);
        else if (q < 0.75) ops.push("SET", type, off, String(this.int(1000) - 300));
        else ops.push("INCRBY", type, off, String(this.int(300) - 100));
      }
      return ex(["BITFIELD", k, ...ops]);
    }
    return ex(["BITFIELD_RO", k, "GET", "u8", String(this.int(40))]);
  }

  private hll(): Step[] {
    const r = this.rand();
    const k = this.keyOf("hll");
    if (r < 0.55) return [{ cmd: ["PFADD", k, ...this.members(this.chance(0.1) ? 200 : this.int(4))], cmp: "exact" }];
    if (r < 0.8) return [{ cmd: ["PFCOUNT", k, ...(this.chance(0.3) ? [this.keyOf("hll")] : [])], cmp: "exact" }];
    if (r < 0.95) return [{ cmd: ["PFMERGE", this.key("hll"), k, ...(this.chance(0.5) ? [this.keyOf("hll")] : [])], cmp: "exact" }];
    return [{ cmd: ["GET", k], cmp: "exact" }];
  }

  private keys(): Step[] {
    const k = this.anyKey();
    const r = this.rand();
    const ex = (cmd: string[]): Step[] => [{ cmd, cmp: "exact" }];
    if (r < 0.08) return ex([this.pick(["DEL", "UNLINK"]), k, ...(this.chance(0.3) ? [this.anyKey()] : [])]);
    if (r < 0.24) {
      const cmd = this.pick(["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"]);
      let t: string;
      if (this.chance(0.04)) t = this.pick(["-1", "0", "abc", "9223372036854775807"]);
      else if (cmd === "EXPIRE") t = this.longSeconds();
      else if (cmd === "PEXPIRE") t = this.chance(0.6) ? TTL_MS : String(1000 * Number(this.longSeconds()));
      else if (cmd === "EXPIREAT") t = this.chance(0.1) ? "1" : String(Math.floor(Date.now() / 1000) + Number(this.longSeconds()));
      else t = this.chance(0.6) ? TTL_AT : this.chance(0.1) ? "1000" : String(Date.now() + 1000 * Number(this.longSeconds()));
      const flags = this.chance(0.5) ? [this.pick(["NX", "XX", "GT", "LT"])] : this.chance(0.05) ? [this.pick(["NX", "GT"]), this.pick(["XX", "LT", "FOO"])] : [];
      // Two relative short TTLs differ by when each server ran each command: GT/LT between
      // them would be a race. The absolute form is later than any relative one.
      if (t === TTL_MS && (flags.includes("GT") || flags.includes("LT"))) return ex(["PEXPIREAT", k, TTL_AT, ...flags]);
      return ex([cmd, k, t, ...flags]);
    }
    if (r < 0.3) return [{ cmd: [this.pick(["TTL", "EXPIRETIME"]), k], cmp: "ttl-s" }];
    if (r < 0.36) return [{ cmd: [this.pick(["PTTL", "PEXPIRETIME"]), k], cmp: "ttl-ms" }];
    if (r < 0.4) return ex(["PERSIST", k]);
    if (r < 0.47) return ex([this.pick(["RENAME", "RENAMENX"]), k, this.chance(0.9) ? this.related(k) : k]);
    if (r < 0.55) {
      const opts: string[] = [];
      if (this.chance(0.4)) opts.push("DB", String(this.chance(0.03) ? 99 : this.pick(DATABASES)));
      if (this.chance(0.4)) opts.push("REPLACE");
      return ex(["COPY", k, this.chance(0.9) ? this.related(k) : k, ...opts]);
    }
    if (r < 0.59) return ex(["MOVE", k, String(this.chance(0.03) ? 99 : this.pick(DATABASES))]);
    if (r < 0.6) return ex(["SWAPDB", String(this.pick(DATABASES)), String(this.pick(DATABASES))]);
    if (r < 0.603 && !this.inMulti) return ex(["FLUSHDB", ...(this.chance(0.5) ? [this.pick(["SYNC", "ASYNC"])] : [])]);
    if (r < 0.68 && !this.inMulti) {
      // DUMP, then RESTORE of one of the two payloads into another key (or over it).
      const dst = this.chance(0.7) ? this.related(k) : k;
      const fromRedis = this.chance(0.5);
      const ttl = this.chance(0.7) ? "0" : this.chance(0.5) ? String(1000000 + this.int(1000)) : String(Date.now() + 100000000);
      const absttl = ttl.length > 10 ? ["ABSTTL"] : [];
      const replace = this.chance(0.6) ? ["REPLACE"] : [];
      return [
        { cmd: ["OBJECT", "ENCODING", k], cmp: "exact" },
        { cmd: ["DUMP", k], cmp: "dump" },
        {
          cmd: ["RESTORE", dst, ttl, "<payload>", ...replace, ...absttl],
          cmp: "exact",
          derive: (a, b) => {
            const raw = fromRedis ? a : b;
            const payload = bulkValue(raw);
            if (payload === null) return null;
            return ["RESTORE", dst, ttl, payload, ...replace, ...absttl];
          },
        },
      ];
    }
    if (r < 0.74) return ex(["TOUCH", k, ...(this.chance(0.5) ? [this.anyKey()] : [])]);
    if (r < 0.8) return ex([this.pick(["TYPE", "EXISTS"]), k]);
    if (r < 0.9) return ex(["OBJECT", "ENCODING", k]);
    if (r < 0.95) return [{ cmd: ["KEYS", this.pick(["*", "s*", "*:1", "z?et:*", "[hl]*"])], cmp: "unordered" }];
    return [{ cmd: ["RANDOMKEY"], cmp: "shape" }];
  }

  private lists(): Step[] {
    const k = this.keyOf("list");
    const r = this.rand();
    const ex = (cmd: string[]): Step[] => [{ cmd, cmp: "exact" }];
    const elems = () => {
      const out: string[] = [];
      for (let i = this.count(); i > 0; i--) out.push(this.chance(0.5) ? this.member() : this.value());
      return out;
    };
    if (r < 0.25) return ex([this.pick(["LPUSH", "RPUSH", "LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]), k, ...elems()]);
    if (r < 0.3) return ex(["LINSERT", k, this.pick(["BEFORE", "AFTER"]), this.member(), this.member()]);
    if (r < 0.34) return ex(["LSET", k, this.index(), this.value()]);
    if (r < 0.38) return ex(["LREM", k, String(this.int(5) - 2), this.member()]);
    if (r < 0.41) return ex(["LTRIM", k, String(this.int(5)), String(this.int(40) - 5)]);
    if (r < 0.5) return ex([this.pick(["LPOP", "RPOP"]), k, ...(this.chance(0.4) ? [String(this.int(5))] : [])]);
    if (r < 0.55) return ex(["LMOVE", k, this.keyOf("list"), this.pick(["LEFT", "RIGHT"]), this.pick(["LEFT", "RIGHT"])]);
    if (r < 0.57) return ex(["RPOPLPUSH", k, this.keyOf("list")]);
    if (r < 0.61) return ex(["LMPOP", "2", k, this.keyOf("list"), this.pick(["LEFT", "RIGHT"]), ...(this.chance(0.5) ? ["COUNT", String(1 + this.int(4))] : [])]);
    if (r < 0.64) {
      // Blocking forms: served at once when there is data, a 10 ms timeout otherwise.
      const q = this.rand();
      let cmd: string[];
      if (q < 0.3) cmd = [this.pick(["BLPOP", "BRPOP"]), k, this.keyOf("list"), "0.01"];
      else if (q < 0.55) cmd = ["BLMOVE", k, this.keyOf("list"), this.pick(["LEFT", "RIGHT"]), this.pick(["LEFT", "RIGHT"]), "0.01"];
      else if (q < 0.8) cmd = ["BLMPOP", "0.01", "1", k, this.pick(["LEFT", "RIGHT"]), "COUNT", String(1 + this.int(3))];
      else cmd = ["BRPOPLPUSH", k, this.keyOf("list"), "0.01"];
      return [{ cmd, cmp: "exact", blocking: !this.inMulti }];
    }
    if (r < 0.8) return ex(["LRANGE", k, this.index(), this.index()]);
    if (r < 0.86) return ex(["LINDEX", k, this.index()]);
    if (r < 0.9) return ex(["LLEN", k]);
    if (r < 0.95) return ex(["LPOS", k, this.member(), ...(this.chance(0.4) ? ["RANK", String(this.int(5) - 2 || 1)] : []), ...(this.chance(0.4) ? ["COUNT", String(this.int(3))] : []), ...(this.chance(0.2) ? ["MAXLEN", String(this.int(10))] : [])]);
    return ex(["OBJECT", "ENCODING", k]);
  }

  private hashes(): Step[] {
    const k = this.keyOf("hash");
    if (this.compat >= 70400 && this.chance(0.3)) return this.hashFieldTtls(k);
    const r = this.rand();
    const ex = (cmd: string[]): Step[] => [{ cmd, cmp: "exact" }];
    const probed = (cmd: string[], cmp: Compare): Step[] => [
      { cmd: ["OBJECT", "ENCODING", k], cmp: "exact" },
      { cmd, cmp },
    ];
    if (r < 0.25) {
      const pairs: string[] = [];
      for (let i = this.count(); i > 0; i--) pairs.push(this.member(), this.value());
      return ex([this.pick(["HSET", "HSET", "HMSET"]), k, ...pairs]);
    }
    if (r < 0.29) return ex(["HSETNX", k, this.member(), this.value()]);
    if (r < 0.38) return ex(["HDEL", k, ...this.members(1 + this.int(3))]);
    if (r < 0.44) return ex(["HINCRBY", k, this.member(), this.chance(0.05) ? "x" : String(this.int(100) - 50)]);
    if (r < 0.48) return ex(["HINCRBYFLOAT", k, this.member(), this.pick(["0.5", "-1.25", "3", "1e2", "x"])]);
    if (r < 0.58) return ex(["HGET", k, this.member()]);
    if (r < 0.62) return ex(["HMGET", k, ...this.members(3)]);
    if (r < 0.7) return probed(["HGETALL", k], "ordered-if-compact-pairs");
    if (r < 0.74) return probed([this.pick(["HKEYS", "HVALS"]), k], "ordered-if-compact");
    if (r < 0.8) {
      const cmd = this.pick(["HLEN", "HEXISTS", "HSTRLEN"]);
      return ex(cmd === "HLEN" ? [cmd, k] : [cmd, k, this.member()]);
    }
    if (r < 0.9) {
      const n = this.int(8) - 3;
      const withValues = this.chance(0.4) ? ["WITHVALUES"] : [];
      if (n === 0 || this.chance(0.2)) return [{ cmd: ["HRANDFIELD", k], cmp: "shape" }];
      // A count covering the whole hash returns it all: comparable as a multiset.
      if (n > 0 && this.chance(0.3)) return [{ cmd: ["HRANDFIELD", k, "1000", ...withValues], cmp: withValues.length ? "unordered-pairs" : "unordered" }];
      return [{ cmd: ["HRANDFIELD", k, String(n), ...withValues], cmp: "shape" }];
    }
    if (r < 0.95) return probed(["HSCAN", k, "0", "COUNT", "1000"], "scan-pairs");
    return ex(["OBJECT", "ENCODING", k]);
  }

  /** Redis 7.4's hash field expiration: TTLs that pass during the run, in the past, conditions. */
  private hashFieldTtls(k: string): Step[] {
    const ex = (cmd: string[]): Step[] => [{ cmd, cmp: "exact" }];
    const fields = () => {
      const f = this.members(1 + this.int(3));
      if (this.chance(0.03)) return ["FIELDS", String(f.length + 1), ...f];
      if (this.chance(0.02)) return ["FIELDS", this.pick(["0", "-1", "abc"]), ...f];
      return ["FIELDS", String(f.length), ...f];
    };
    const r = this.rand();
    if (r < 0.5) {
      const cmd = this.pick(["HEXPIRE", "HPEXPIRE", "HEXPIREAT", "HPEXPIREAT"]);
      let t: string;
      const q = this.rand();
      if (q < 0.06) t = this.pick(["0", "1", "-1", "abc", "70368744177664", "9223372036854775807"]);
      else if (cmd === "HEXPIRE") t = this.longSeconds();
      else if (cmd === "HPEXPIRE") t = this.chance(0.6) ? TTL_MS : String(1000 * Number(this.longSeconds()));
      else if (cmd === "HEXPIREAT") t = this.chance(0.1) ? "1" : String(Math.floor(Date.now() / 1000) + Number(this.longSeconds()));
      else t = this.chance(0.6) ? TTL_AT : this.chance(0.1) ? "1000" : String(Date.now() + 1000 * Number(this.longSeconds()));
      const cond = this.chance(0.4) ? [this.pick(["NX", "XX", "GT", "LT"])] : this.chance(0.03) ? ["NX", "XX"] : [];
      // GT/LT between two relative short TTLs would be a race (see keys()): the absolute form.
      if (t === TTL_MS && cond.length) return ex(["HPEXPIREAT", k, TTL_AT, ...cond, ...fields()]);
      return ex([cmd, k, t, ...cond, ...fields()]);
    }
    if (r < 0.62) return ex(["HPERSIST", k, ...fields()]);
    if (r < 0.8) return [{ cmd: [this.pick(["HTTL", "HEXPIRETIME"]), k, ...fields()], cmp: "exact" }];
    if (r < 0.9) return [{ cmd: [this.pick(["HPTTL", "HPEXPIRETIME"]), k, ...fields()], cmp: "exact" }];
    return ex(["HSCAN", k, "0", "NOVALUES"]);
  }

  private sets(): Step[] {
    const k = this.keyOf("set");
    const r = this.rand();
    const ex = (cmd: string[]): Step[] => [{ cmd, cmp: "exact" }];
    const probed = (key: string, cmd: string[], cmp: Compare): Step[] => [
      { cmd: ["OBJECT", "ENCODING", key], cmp: "exact" },
      { cmd, cmp },
    ];
    if (r < 0.25) return ex(["SADD", k, ...this.members(this.count())]);
    if (r < 0.33) return ex(["SREM", k, ...this.members(1 + this.int(3))]);
    if (r < 0.38) return ex(["SMOVE", k, this.keyOf("set"), this.member()]);
    if (r < 0.43) {
      if (this.deterministic) return [{ cmd: ["SPOP", k, "1000"], cmp: "unordered" }];
      return ex(["SPOP", k, ...(this.chance(0.6) ? [String(this.int(6))] : [])]);
    }
    if (r < 0.53) {
      const cmd = this.pick(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]);
      const dst = this.key("set");
      return [{ cmd: [cmd, dst, k, this.keyOf("set"), ...(this.chance(0.3) ? [this.keyOf("set")] : [])], cmp: "exact" }, ...probed(dst, ["SMEMBERS", dst], "ordered-if-compact")];
    }
    if (r < 0.6) return [{ cmd: [this.pick(["SINTER", "SUNION", "SDIFF"]), k, this.keyOf("set")], cmp: "unordered" }];
    if (r < 0.63) return ex(["SINTERCARD", "2", k, this.keyOf("set"), ...(this.chance(0.5) ? ["LIMIT", String(this.int(5))] : [])]);
    if (r < 0.73) return ex(this.chance(0.5) ? ["SCARD", k] : ["SISMEMBER", k, this.member()]);
    if (r < 0.77) return ex(["SMISMEMBER", k, ...this.members(3)]);
    if (r < 0.85) return probed(k, ["SMEMBERS", k], "ordered-if-compact");
    if (r < 0.92) {
      const n = this.int(8) - 3;
      if (n > 0 && this.chance(0.3)) return [{ cmd: ["SRANDMEMBER", k, "1000"], cmp: "unordered" }];
      return [{ cmd: ["SRANDMEMBER", k, ...(n === 0 && this.chance(0.5) ? [] : [String(n)])], cmp: "shape" }];
    }
    if (r < 0.96) return probed(k, ["SSCAN", k, "0", "COUNT", "1000"], "scan");
    return ex(["OBJECT", "ENCODING", k]);
  }

  private zsets(): Step[] {
    const k = this.keyOf("zset");
    const r = this.rand();
    const ex = (cmd: string[]): Step[] => [{ cmd, cmp: "exact" }];
    const zkeys = (n: number) => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push(this.chance(0.2) ? this.keyOf("set") : this.keyOf("zset"));
      return out;
    };
    if (r < 0.05) {
      const lex = this.key("lex");
      if (this.chance(0.3)) return ex(["ZREM", lex, ...this.members(1 + this.int(3))]);
      const pairs: string[] = [];
      for (let i = this.count(); i > 0; i--) pairs.push("0", this.member());
      return ex(["ZADD", lex, ...pairs]);
    }
    if (r < 0.22) {
      const opts: string[] = [];
      if (this.chance(0.2)) opts.push(this.pick(["NX", "XX"]));
      if (this.chance(0.2)) opts.push(this.pick(["GT", "LT"]));
      if (this.chance(0.2)) opts.push("CH");
      const incr = this.chance(0.1);
      if (incr) opts.push("INCR");
      const pairs: string[] = [];
      for (let i = incr ? 1 : this.count(); i > 0; i--) pairs.push(this.score(), this.member());
      return ex(["ZADD", k, ...opts, ...pairs]);
    }
    if (r < 0.26) return ex(["ZINCRBY", k, this.score(), this.member()]);
    if (r < 0.31) return ex(["ZREM", k, ...this.members(1 + this.int(3))]);
    if (r < 0.34) {
      const q = this.rand();
      if (q < 0.33) return ex(["ZREMRANGEBYRANK", k, this.index(), this.index()]);
      if (q < 0.66) return ex(["ZREMRANGEBYSCORE", k, this.scoreBound(), this.scoreBound()]);
      return ex(["ZREMRANGEBYLEX", this.key("lex"), this.lexBound(), this.lexBound()]);
    }
    if (r < 0.39) return ex([this.pick(["ZPOPMIN", "ZPOPMAX"]), k, ...(this.chance(0.5) ? [String(this.int(4))] : [])]);
    if (r < 0.42) return ex(["ZMPOP", "2", k, this.keyOf("zset"), this.pick(["MIN", "MAX"]), ...(this.chance(0.5) ? ["COUNT", String(1 + this.int(4))] : [])]);
    if (r < 0.44) {
      const cmd = this.chance(0.5) ? [this.pick(["BZPOPMIN", "BZPOPMAX"]), k, this.keyOf("zset"), "0.01"] : ["BZMPOP", "0.01", "1", k, this.pick(["MIN", "MAX"]), "COUNT", String(1 + this.int(3))];
      return [{ cmd, cmp: "exact", blocking: !this.inMulti }];
    }
    if (r < 0.5) {
      const dst = this.key("zset");
      const q = this.rand();
      if (q < 0.35) return ex(["ZRANGESTORE", dst, k, this.index(), this.index(), ...(this.chance(0.3) ? ["REV"] : [])]);
      if (q < 0.7) return ex(["ZRANGESTORE", dst, k, this.scoreBound(), this.scoreBound(), "BYSCORE", ...(this.chance(0.3) ? ["REV"] : []), ...(this.chance(0.3) ? ["LIMIT", String(this.int(3)), String(this.int(5) - 1)] : [])]);
      return ex(["ZRANGESTORE", this.key("lex"), this.key("lex"), this.lexBound(), this.lexBound(), "BYLEX", ...(this.chance(0.3) ? ["LIMIT", String(this.int(3)), String(this.int(5))] : [])]);
    }
    if (r < 0.6) {
      const cmd = this.pick(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]);
      const n = 1 + this.int(3);
      const opts: string[] = [];
      if (cmd !== "ZDIFFSTORE") {
        if (this.chance(0.4)) {
          opts.push("WEIGHTS");
          for (let i = 0; i < n; i++) opts.push(this.pick(["1", "2", "-1", "0.5", "0", "inf"]));
        }
        if (this.chance(0.4)) opts.push("AGGREGATE", this.pick(["SUM", "MIN", "MAX"]));
      }
      return ex([cmd, this.key("zset"), String(n), ...zkeys(n), ...opts]);
    }
    if (r < 0.64) {
      const cmd = this.pick(["ZUNION", "ZINTER", "ZDIFF"]);
      const n = 1 + this.int(3);
      return ex([cmd, String(n), ...zkeys(n), ...(cmd !== "ZDIFF" && this.chance(0.3) ? ["AGGREGATE", this.pick(["SUM", "MIN", "MAX"])] : []), ...(this.chance(0.5) ? ["WITHSCORES"] : [])]);
    }
    if (r < 0.65) return ex(["ZINTERCARD", "2", k, this.keyOf("zset"), ...(this.chance(0.5) ? ["LIMIT", String(this.int(5))] : [])]);
    if (r < 0.78) {
      const q = this.rand();
      if (q < 0.3) return ex(["ZRANGE", k, this.index(), this.index(), ...(this.chance(0.3) ? ["REV"] : []), ...(this.chance(0.5) ? ["WITHSCORES"] : [])]);
      if (q < 0.6) return ex(["ZRANGE", k, this.scoreBound(), this.scoreBound(), "BYSCORE", ...(this.chance(0.3) ? ["REV"] : []), ...(this.chance(0.3) ? ["LIMIT", String(this.int(3)), String(this.int(5) - 1)] : []), ...(this.chance(0.5) ? ["WITHSCORES"] : [])]);
      if (q < 0.75) return ex(["ZRANGE", this.key("lex"), this.lexBound(), this.lexBound(), "BYLEX", ...(this.chance(0.3) ? ["REV"] : [])]);
      if (q < 0.85) return ex([this.pick(["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]), k, this.scoreBound(), this.scoreBound(), ...(this.chance(0.5) ? ["WITHSCORES"] : [])]);
      return ex([this.pick(["ZRANGEBYLEX", "ZREVRANGEBYLEX"]), this.key("lex"), this.lexBound(), this.lexBound(), ...(this.chance(0.3) ? ["LIMIT", String(this.int(3)), String(this.int(5) - 1)] : [])]);
    }
    if (r < 0.84) return ex([this.pick(["ZRANK", "ZREVRANK", "ZSCORE"]), k, this.member()]);
    if (r < 0.86) return ex(["ZMSCORE", k, ...this.members(3)]);
    if (r < 0.9) return ex(this.pick([["ZCOUNT", k, this.scoreBound(), this.scoreBound()], ["ZLEXCOUNT", this.key("lex"), this.lexBound(), this.lexBound()], ["ZCARD", k]]));
    if (r < 0.94) {
      const n = this.int(8) - 3;
      if (n > 0 && this.chance(0.3)) return [{ cmd: ["ZRANDMEMBER", k, "1000", ...(this.chance(0.5) ? ["WITHSCORES"] : [])], cmp: "ordered-if-compact" }];
      return [{ cmd: ["ZRANDMEMBER", k, ...(n === 0 ? [] : [String(n)]), ...(n !== 0 && this.chance(0.4) ? ["WITHSCORES"] : [])], cmp: "shape" }];
    }
    if (r < 0.96) {
      return [
        { cmd: ["OBJECT", "ENCODING", k], cmp: "exact" },
        { cmd: ["ZSCAN", k, "0", "COUNT", "1000"], cmp: "scan-pairs" },
      ];
    }
    return ex(["OBJECT", "ENCODING", k]);
  }

  private geo(): Step[] {
    const k = this.keyOf("geo");
    const r = this.rand();
    const ex = (cmd: string[]): Step[] => [{ cmd, cmp: "exact" }];
    const place = () => `p${this.int(30)}`;
    const lon = () => (this.int(3600) / 10 - 180 + this.int(1000) / 100000).toFixed(5);
    const lat = () => (this.int(1700) / 10 - 85 + this.int(1000) / 100000).toFixed(5);
    const unit = () => this.pick(["m", "km", "mi", "ft"]);
    const shape = () => (this.chance(0.5) ? ["BYRADIUS", String(100 + this.int(5000)), "km"] : ["BYBOX", String(100 + this.int(5000)), String(100 + this.int(5000)), "km"]);
    const near = () => (this.chance(0.5) ? ["FROMMEMBER", place()] : ["FROMLONLAT", lon(), lat()]);
    const order = () => (this.chance(0.7) ? [this.pick(["ASC", "DESC"])] : []);
    const cnt = () => (this.chance(0.4) ? ["COUNT", String(1 + this.int(5)), ...(this.chance(0.3) ? ["ANY"] : [])] : []);
    if (r < 0.3) {
      const opts = this.chance(0.2) ? [this.pick(["NX", "XX"])] : [];
      if (this.chance(0.2)) opts.push("CH");
      const triples: string[] = [];
      for (let i = this.count(); i > 0; i--) triples.push(this.chance(0.02) ? "200" : lon(), lat(), place());
      return ex(["GEOADD", k, ...opts, ...triples]);
    }
    if (r < 0.38) return ex(["GEOPOS", k, place(), place()]);
    if (r < 0.45) return ex(["GEODIST", k, place(), place(), ...(this.chance(0.5) ? [unit()] : [])]);
    if (r < 0.5) return ex(["GEOHASH", k, place(), place()]);
    if (r < 0.62) {
      // Without ASC/DESC the order is Redis's box scan order; ANY too: compared as a set then.
      const o = order();
      const c = cnt();
      const cmp: Compare = o.length ? "exact" : "unordered";
      return [{ cmd: ["GEOSEARCH", k, ...near(), ...shape(), ...o, ...c, ...(this.chance(0.3) ? ["WITHDIST"] : []), ...(this.chance(0.3) ? ["WITHCOORD"] : []), ...(this.chance(0.2) ? ["WITHHASH"] : [])], cmp }];
    }
    if (r < 0.77) return ex(["GEOSEARCHSTORE", this.key(this.chance(0.7) ? "zset" : "geo"), k, ...near(), ...shape(), ...order(), ...cnt(), ...(this.chance(0.4) ? ["STOREDIST"] : [])]);
    if (r < 0.9) {
      const dst = this.key(this.chance(0.7) ? "zset" : "geo");
      const store = this.chance(0.5) ? ["STORE", dst] : ["STOREDIST", dst];
      if (this.chance(0.5)) return ex(["GEORADIUS", k, lon(), lat(), String(100 + this.int(5000)), unit(), ...order(), ...cnt(), ...store]);
      return ex(["GEORADIUSBYMEMBER", k, place(), String(100 + this.int(5000)), unit(), ...order(), ...cnt(), ...store]);
    }
    const o = order();
    return [{ cmd: [this.pick(["GEORADIUS_RO", "GEORADIUS"]), k, lon(), lat(), String(500 + this.int(5000)), "km", ...o, ...(this.chance(0.4) ? ["WITHDIST"] : [])], cmp: o.length ? "exact" : "unordered" }];
  }

  private streamId(): string {
    if (this.chance(0.1)) return this.pick(["0", "0-1", "abc"]);
    return `${this.streamMs - this.int(40)}-${this.int(3)}`;
  }

  private streams(): Step[] {
    const k = this.keyOf("st");
    const r = this.rand();
    const ex = (cmd: string[]): Step[] => [{ cmd, cmp: "exact" }];
    const group = this.pick(GROUPS);
    const consumer = this.pick(CONSUMERS);
    const trim = (): string[] => {
      const q = this.rand();
      if (q < 0.6) return [];
      const approx = this.pick(["~", "=", ""]);
      const spec = approx ? [approx] : [];
      if (q < 0.85) return ["MAXLEN", ...spec, String(this.int(30)), ...(approx === "~" && this.chance(0.3) ? ["LIMIT", String(this.int(20))] : [])];
      return ["MINID", ...spec, `${this.streamMs - this.int(30)}`];
    };
    if (r < 0.3) {
      this.streamMs += this.pick([0, 1, 1, 2]);
      const idForm = this.rand();
      const id = !this.deterministic && idForm < 0.3 ? "*" : idForm < 0.7 ? `${this.streamMs}-*` : `${this.streamMs}-${this.int(4)}`;
      const fields: string[] = [];
      for (let i = 1 + this.int(3); i > 0; i--) fields.push(this.chance(0.7) ? `f${i}` : this.member(), this.value());
      return ex(["XADD", k, ...(this.chance(0.05) ? ["NOMKSTREAM"] : []), ...trim(), id, ...fields]);
    }
    if (r < 0.35) return ex(["XDEL", k, this.streamId(), ...(this.chance(0.3) ? [this.streamId()] : [])]);
    if (r < 0.38) {
      const t = trim();
      return ex(["XTRIM", k, ...(t.length ? t : ["MAXLEN", "~", String(this.int(50))])]);
    }
    if (r < 0.44) {
      const id = this.pick(["$", "0", "0", this.streamId()]);
      return ex(["XGROUP", "CREATE", k, group, id, ...(this.chance(0.6) ? ["MKSTREAM"] : []), ...(this.chance(0.2) ? ["ENTRIESREAD", String(this.int(20))] : [])]);
    }
    if (r < 0.455) return ex(["XGROUP", "SETID", k, group, this.pick(["$", "0", this.streamId()]), ...(this.chance(0.4) ? ["ENTRIESREAD", String(this.int(20) - 1)] : [])]);
    if (r < 0.46) return ex(["XGROUP", "DESTROY", k, group]);
    if (r < 0.47) return ex(["XGROUP", this.pick(["CREATECONSUMER", "DELCONSUMER"]), k, group, consumer]);
    if (r < 0.57) {
      const ids = this.chance(0.25) ? [this.pick(["0", this.streamId()])] : [">"];
      const block = !this.inMulti && this.chance(0.05) ? ["BLOCK", "10"] : [];
      return [{ cmd: ["XREADGROUP", "GROUP", group, consumer, ...(this.chance(0.7) ? ["COUNT", String(1 + this.int(5))] : []), ...block, ...(this.chance(0.15) ? ["NOACK"] : []), "STREAMS", k, ...ids], cmp: "exact", blocking: block.length > 0 }];
    }
    if (r < 0.63) return ex(["XACK", k, group, this.streamId(), ...(this.chance(0.5) ? [this.streamId(), this.streamId()] : [])]);
    if (r < 0.68) {
      const opts: string[] = [];
      if (this.chance(0.2)) opts.push("RETRYCOUNT", String(this.int(10)));
      if (this.chance(0.3)) opts.push("FORCE");
      if (this.chance(0.3)) opts.push("JUSTID");
      if (this.chance(0.1)) opts.push("LASTID", this.streamId());
      return [{ cmd: ["XCLAIM", k, group, consumer, this.pick(["0", "3600000"]), this.streamId(), ...(this.chance(0.5) ? [this.streamId()] : []), ...opts], cmp: "stream-timed" }];
    }
    if (r < 0.72) return [{ cmd: ["XAUTOCLAIM", k, group, consumer, this.pick(["0", "3600000"]), this.pick(["0", "0-0", this.streamId()]), ...(this.chance(0.6) ? ["COUNT", String(1 + this.int(6))] : []), ...(this.chance(0.3) ? ["JUSTID"] : [])], cmp: "stream-timed" }];
    if (r < 0.74) {
      this.streamMs += 3;
      return ex(["XSETID", k, `${this.streamMs}-${this.int(3)}`, ...(this.chance(0.4) ? ["ENTRIESADDED", String(500 + this.int(100))] : []), ...(this.chance(0.3) ? ["MAXDELETEDID", `${this.streamMs - 2}-0`] : [])]);
    }
    if (r < 0.8) {
      const count = this.chance(0.5) ? ["COUNT", String(1 + this.int(10))] : [];
      return ex(this.chance(0.5) ? ["XRANGE", k, "-", "+", ...count] : ["XREVRANGE", k, "+", "-", ...count]);
    }
    if (r < 0.83) return ex(["XLEN", k]);
    if (r < 0.86) return [{ cmd: ["XPENDING", k, group, ...(this.chance(0.6) ? ["-", "+", String(1 + this.int(10)), ...(this.chance(0.3) ? [consumer] : [])] : [])], cmp: "stream-timed" }];
    if (r < 0.9) return [{ cmd: ["XINFO", "STREAM", k, ...(this.chance(0.5) ? ["FULL"] : [])], cmp: "stream-timed" }];
    if (r < 0.93) return [{ cmd: this.chance(0.5) ? ["XINFO", "GROUPS", k] : ["XINFO", "CONSUMERS", k, group], cmp: "stream-timed" }];
    if (r < 0.96) return ex(["XREAD", ...(this.chance(0.5) ? ["COUNT", String(1 + this.int(5))] : []), "STREAMS", k, this.pick(["0", this.streamId()])]);
    return ex(["OBJECT", "ENCODING", k]);
  }

  /** A number at the edge of what parsers accept (never one that makes a server allocate a lot). */
  private edgeNumber(): string {
    return this.pick(["-9223372036854775808", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "-1", "0", "1", "1e400", "-1e400", "nan", "inf", "-inf", "+inf", "0x10", "", " 1", "1 ", "+1", "-0", "00", "1.0", "1.5", "3e2", "18446744073709551615", "2147483648", "-2147483649", "abc"]);
  }

  /** Commands with arguments at the edges: counts, indexes, offsets, TTLs, timeouts, scores. */
  private edges(): Step[] {
    const n = () => this.edgeNumber();
    // A TTL of 1 (s or ms) would expire in the middle of a phase: a race between the servers.
    const ttl = () => {
      const v = this.edgeNumber();
      return v === "1" ? "-1" : v;
    };
    const ex = (cmd: string[]): Step[] => [{ cmd, cmp: "exact" }];
    const r = this.int(40);
    switch (r) {
      case 0: return ex(["LPOP", this.key("list"), n()]);
      case 1: return ex(["LRANGE", this.key("list"), n(), n()]);
      case 2: return ex(["LINDEX", this.key("list"), n()]);
      case 3: return ex(["LSET", this.key("list"), n(), "x"]);
      case 4: return ex(["LTRIM", this.key("list"), n(), n()]);
      case 5: return ex(["LREM", this.key("list"), n(), this.member()]);
      case 6: return ex(["LPOS", this.key("list"), this.member(), this.pick(["RANK", "COUNT", "MAXLEN"]), n()]);
      case 7: return ex(["GETRANGE", this.key("str"), n(), n()]);
      case 8: return ex(["SETRANGE", this.key("str"), this.pick(["536870912", "-1", "9223372036854775807", "abc"]), "x"]);
      case 9: return ex(["SETBIT", this.key("bm"), this.pick(["4294967296", "-1", "abc", "1e3"]), "1"]);
      case 10: return ex(["BITCOUNT", this.key("bm"), n(), n(), ...(this.chance(0.5) ? [this.pick(["BIT", "BYTE", "bits"])] : [])]);
      case 11: return ex(["BITPOS", this.key("bm"), this.pick(["0", "1", "2", "-1"]), n(), n()]);
      case 12: return ex(["BITFIELD", this.key("bm"), this.pick(["GET", "SET", "INCRBY"]), this.pick(["i64", "u63", "u64", "i65", "i0", "u0", "x8", "i1"]), this.pick(["0", "#1", "-1", "4294967296", "#-1"]), ...(this.chance(0.5) ? [n()] : [])]);
      case 13: return ex([this.pick(["INCRBY", "DECRBY"]), this.key("int"), n()]);
      case 14: return ex(["INCRBYFLOAT", this.key("int"), n()]);
      case 15: return ex([this.pick(["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"]), this.anyKey(), ttl(), ...(this.chance(0.3) ? [this.pick(["GT", "LT", "NX", "XX"])] : [])]);
      case 16: return ex(["SET", this.key("str"), "v", this.pick(["EX", "PX", "EXAT", "PXAT"]), ttl()]);
      case 17: return ex(["GETEX", this.key("str"), this.pick(["EX", "PX", "EXAT", "PXAT"]), ttl()]);
      // (A count covering the whole collection replies it in hashtable order: a multiset.)
      case 18: return [{ cmd: [this.pick(["SRANDMEMBER", "HRANDFIELD", "ZRANDMEMBER"]), this.anyKey(), this.pick(["-9223372036854775808", "9223372036854775807", "0", "abc", "1.5"])], cmp: "unordered" }];
      case 19: return ex(["SPOP", this.key("set"), this.pick(["-1", "abc", "9223372036854775808"])]);
      case 20: return ex(["ZADD", this.key("zset"), ...(this.chance(0.3) ? ["INCR"] : []), n(), this.member()]);
      case 21: return ex(["ZINCRBY", this.key("zset"), n(), this.member()]);
      case 22: return ex(["ZRANGE", this.key("zset"), n(), n(), ...(this.chance(0.5) ? ["BYSCORE", "LIMIT", n(), n()] : [])]);
      case 23: return ex(["ZRANGEBYSCORE", this.key("zset"), this.pick(["(", "[", ""]) + n(), n(), "LIMIT", n(), n()]);
      case 24: return ex([this.pick(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]), this.key("zset"), n(), this.key("zset")]);
      case 25: return ex([this.pick(["ZINTERCARD", "SINTERCARD"]), n(), this.anyKey(), ...(this.chance(0.5) ? ["LIMIT", n()] : [])]);
      case 26: return ex(["ZUNIONSTORE", this.key("zset"), "2", this.key("zset"), this.key("zset"), "WEIGHTS", n(), n()]);
      case 27: return ex(["HINCRBY", this.key("hash"), this.member(), n()]);
      case 28: return ex(["HINCRBYFLOAT", this.key("hash"), this.member(), n()]);
      case 29: return ex(["GEOADD", this.key("geo"), this.pick(["180.0000001", "-180", "181", "0", "nan", "abc"]), this.pick(["85.05112879", "85.06", "-85.06", "0", "inf"]), "p1"]);
      case 30: return ex(["GEOSEARCH", this.key("geo"), "FROMLONLAT", "0", "0", "BYRADIUS", n(), this.pick(["km", "m", "parsecs"]), ...(this.chance(0.5) ? ["COUNT", n()] : [])]);
      case 31: return ex([this.pick(["BLPOP", "BZPOPMIN"]), this.anyKey(), this.pick(["-1", "abc", "nan", "9223372036854775808"])]);
      case 32: return ex(["SELECT", this.pick(["16", "-1", "abc", "9223372036854775808", "2147483648", "-0"])]);
      case 33: {
        const db = this.pick(["16", "-1", "abc", "2147483648"]);
        return ex(this.chance(0.5) ? ["MOVE", this.anyKey(), db] : ["COPY", this.anyKey(), this.anyKey(), "DB", db]);
      }
      case 34: return ex(["SWAPDB", this.pick(["0", "16", "-1", "abc"]), this.pick(["1", "16", "-1", "abc"])]);
      case 35: return ex(["SORT", this.key("list"), "LIMIT", n(), n()]);
      case 36: return ex(["XADD", this.key("st"), this.pick(["MAXLEN", "MINID"]), this.pick(["~", "=", ""]), n(), ...(this.chance(0.3) ? ["LIMIT", n()] : []), `${this.streamMs + 1}-*`, "f", "v"].filter((x) => x !== ""));
      // (Redis allocates COUNT stream IDs up front: 2147483648 asks for 32 GiB and kills a master
      // on a machine that does not overcommit that much. 2^25 still allocates, 512 MiB.)
      case 37: return ex(["XAUTOCLAIM", this.key("st"), "g1", "c", n(), "0", "COUNT", n().replace(/^2147483648$/, "33554432")]);
      case 38: return ex(["XREADGROUP", "GROUP", "g1", "c", "COUNT", n(), "STREAMS", this.key("st"), ">"]);
      default: return [{ cmd: ["XPENDING", this.key("st"), "g1", ...(this.chance(0.5) ? ["IDLE", n()] : []), "-", "+", n()], cmp: "stream-timed" }];
    }
  }

  /** More parsers at their edges: numkeys, cursors, IDs, options in odd combinations. */
  private moreEdges(): Step[] {
    const n = () => this.edgeNumber();
    const ex = (cmd: string[]): Step[] => [{ cmd, cmp: "exact" }];
    const id = () => this.pick(["0-0", "0-1", "18446744073709551615-18446744073709551615", "18446744073709551615-0", "1-18446744073709551615", "18446744073709551616-0", "-1-0", "1-", "-", "+", "$", ">", "1.5-0", `${this.streamMs}-18446744073709551615`]);
    const r = this.int(36);
    switch (r) {
      case 0: return ex(["LMPOP", n(), this.key("list"), this.pick(["LEFT", "RIGHT", "UP"]), ...(this.chance(0.5) ? ["COUNT", n()] : [])]);
      case 1: return ex(["ZMPOP", n(), this.key("zset"), this.pick(["MIN", "MAX", "MID"]), ...(this.chance(0.5) ? ["COUNT", n()] : [])]);
      case 2: return ex(["BLMPOP", "0.01", n(), this.key("list"), "LEFT"]);
      // Only cursors and counts Redis refuses: a valid cursor walks the hashtable.
      case 3: return ex(["SCAN", ...(this.chance(0.5) ? [this.pick(["abc", " 1", "1 ", "18446744073709551616"])] : ["0", "COUNT", this.pick(["0", "-1", "abc"])])]);
      case 4: return ex([this.pick(["HSCAN", "SSCAN", "ZSCAN"]), this.anyKey(), this.pick(["abc", "-1", "18446744073709551616"]), ...(this.chance(0.5) ? ["COUNT", this.pick(["0", "-1", "abc"])] : [])]);
      case 5: return ex(["XADD", this.key("st"), id(), "f", "v"]);
      case 6: return ex(["XADD", this.key("st"), "NOMKSTREAM", "MAXLEN", "~", "5", "LIMIT", n(), `${this.streamMs + 5}-*`, "f", "v"]);
      case 7: return ex(["XSETID", this.key("st"), id(), ...(this.chance(0.5) ? ["ENTRIESADDED", n()] : []), ...(this.chance(0.5) ? ["MAXDELETEDID", id()] : [])]);
      case 8: return ex(["XGROUP", "CREATE", this.key("st"), this.pick(["g1", "g2", "new"]), id(), ...(this.chance(0.5) ? ["MKSTREAM"] : []), ...(this.chance(0.7) ? ["ENTRIESREAD", n()] : [])]);
      case 9: return ex(["XRANGE", this.key("st"), id(), id(), ...(this.chance(0.5) ? ["COUNT", n()] : [])]);
      case 10: return ex(["XDEL", this.key("st"), id()]);
      case 11: return ex(["XREAD", "COUNT", n(), "STREAMS", this.key("st"), id()]);
      case 12: return ex(["XCLAIM", this.key("st"), "g1", "c", "0", id(), this.pick(["IDLE", "TIME", "RETRYCOUNT", "LASTID"]), this.pick([n(), id()])]);
      case 13: return ex(["BITFIELD_RO", this.key("bm"), this.pick(["GET", "SET", "INCRBY", "OVERFLOW"]), "u8", "0", ...(this.chance(0.5) ? ["1"] : [])]);
      case 14: return ex(["LCS", this.key("str"), this.key("str"), this.pick(["MINMATCHLEN", "LEN", "IDX"]), ...(this.chance(0.5) ? [n()] : []), ...(this.chance(0.3) ? ["LEN", "IDX"] : [])]);
      case 15: return ex(["SUBSTR", this.key("str"), n(), n()]);
      case 16: return ex(["SORT", this.key("list"), "GET", this.pick(["#", "hash:*->m1", "str:*", "*->", "nosuchpattern"]), ...(this.chance(0.5) ? ["ALPHA"] : []), ...(this.chance(0.3) ? ["BY", this.pick(["hash:*->m1", "nosort", "x"])] : [])]);
      case 17: return ex(["ZADD", this.key("zset"), ...this.pick([["GT", "LT"], ["NX", "XX"], ["NX", "GT"], ["INCR"], ["CH", "CH"], ["XX", "CH", "INCR"]]), "1", "a", ...(this.chance(0.5) ? ["2", "b"] : [])]);
      case 18: return ex([this.pick(["HSET", "HMSET", "MSET", "MSETNX"]), this.key("hash"), "f"]);
      case 19: return ex(this.inMulti ? ["PING"] : [this.pick(["EXEC", "DISCARD", "UNWATCH"])]);
      case 20: return ex(["SET", this.key("str"), "v", ...this.pick([["NX", "XX"], ["GET", "GET"], ["KEEPTTL", "EX", "10"], ["EX", "10", "PX", "10"], ["PXAT"], ["EX"], ["GET", "NX"]])]);
      case 21: return ex(["GETEX", this.key("str"), ...this.pick([["PERSIST", "EX", "10"], ["EX", "10", "EX", "10"], ["KEEPTTL"], ["PERSIST", "PERSIST"]])]);
      case 22: return ex(["EXPIRE", this.anyKey(), "100", ...this.pick([["NX", "NX"], ["GT", "GT"], ["NX", "XX"], ["LT", "GT"], ["XX", "GT"], ["XX", "LT"]])]);
      case 23: return ex(["RESTORE", this.key("str"), n(), "garbage", ...(this.chance(0.5) ? ["REPLACE"] : []), ...(this.chance(0.3) ? ["IDLETIME", n()] : []), ...(this.chance(0.3) ? ["FREQ", n()] : [])]);
      case 24: return ex(["OBJECT", this.pick(["ENCODING", "REFCOUNT", "FREQ", "IDLETIME", "NOSUCH", "HELP"]), ...(this.chance(0.7) ? [this.anyKey()] : [])]);
      case 25: return ex(["GEORADIUS", this.key("geo"), "0", "0", n(), this.pick(["m", "km", "lightyears"]), ...(this.chance(0.5) ? ["COUNT", n()] : []), ...(this.chance(0.3) ? ["STORE"] : [])]);
      case 26: return ex(["GEOSEARCH", this.key("geo"), ...this.pick([["FROMMEMBER", "p1", "FROMLONLAT", "0", "0"], ["BYRADIUS", "1", "km"], ["FROMLONLAT", "0", "0", "BYBOX", n(), n(), "km"], ["FROMLONLAT", "0", "0", "BYRADIUS", "1", "km", "BYBOX", "1", "1", "km"], ["FROMLONLAT", "0", "0", "BYRADIUS", "1", "km", "ANY"]])]);
      case 27: return ex(["GEODIST", this.key("geo"), "p1", "p2", this.pick(["parsecs", "KM", "M", ""])]);
      case 28: return ex(["ZRANGESTORE", this.key("zset"), this.key("zset"), n(), n(), ...this.pick([[], ["BYSCORE"], ["BYLEX"], ["REV"], ["WITHSCORES"], ["BYSCORE", "LIMIT", "0"]])]);
      case 29: return ex(["ZRANGE", this.key("zset"), "0", "-1", ...this.pick([["BYSCORE", "BYLEX"], ["LIMIT", "0", "1"], ["REV", "REV"], ["WITHSCORES", "BYLEX"]])]);
      case 30: return ex(["LINSERT", this.key("list"), this.pick(["BEFORE", "AFTER", "MIDDLE"]), this.member(), "x"]);
      case 31: return ex([this.pick(["LMOVE", "BLMOVE"]), this.key("list"), this.key("list"), this.pick(["LEFT", "UP"]), this.pick(["RIGHT", "DOWN"]), ...(this.chance(0.5) ? ["0.01"] : [])].filter((_x, i, a) => !(a[0] === "LMOVE" && i === 5)));
      case 32: return ex(["PFADD", this.key("str"), "a"]);
      case 33: return ex(["PFCOUNT", ...Array.from({ length: 1 + this.int(4) }, () => this.anyKey())]);
      case 34: return ex(["SMOVE", this.anyKey(), this.anyKey(), this.member()]);
      default: return ex(["RENAME", this.anyKey(), this.anyKey()]);
    }
  }

  /** EVAL / EVALSHA / FCALL: writes from scripts (propagated by Redis 7.0 as their effects). */
  private scripts(): Step[] {
    const r = this.rand();
    const ex = (cmd: string[]): Step[] => [{ cmd, cmp: "exact" }];
    if (r < 0.5) {
      const i = this.int(SCRIPTS.length);
      const [keys, args] = this.scriptArgs(i);
      const body = SCRIPTS[i]!;
      if (this.chance(0.3)) return ex(["EVALSHA", sha1(body), String(keys.length), ...keys, ...args]);
      return ex([this.chance(0.1) && i === 0 ? "EVAL_RO" : "EVAL", body, String(keys.length), ...keys, ...args]);
    }
    const q = this.rand();
    if (q < 0.4) return ex(["FCALL", "incr_get", "1", this.keyOf("int"), String(this.int(20) - 5)]);
    if (q < 0.6) return ex(["FCALL_RO", "ro_get", "1", this.keyOf("str")]);
    if (q < 0.7) return ex(["FCALL_RO", "incr_get", "1", this.keyOf("int"), "1"]);
    return ex(["FCALL", "push_many", "1", this.keyOf("list"), ...this.members(1 + this.int(4))]);
  }

  private scriptArgs(i: number): [string[], string[]] {
    switch (i) {
      case 0:
        return [[this.keyOf("str")], []];
      case 1:
        return [[this.keyOf("str")], [this.value()]];
      case 2:
        return [[this.keyOf("int")], [String(this.int(10))]];
      case 3:
        return [[this.keyOf("zset"), this.key("zset")], [this.score(), this.member()]];
      case 4:
        return [[this.anyKey()], [this.chance(0.5) ? TTL_MS : String(100000 + this.int(100000))]];
      case 5:
        return [[this.keyOf("hash")], [this.member(), this.value()]];
      default:
        return [[this.keyOf("list")], [this.member()]];
    }
  }

  private sort(): Step[] {
    const family = this.pick(["list", "set", "zset"] as const);
    const k = family === "set" ? this.keyOf(family) : this.key(family);
    const opts: string[] = [];
    if (this.chance(0.3)) opts.push("LIMIT", String(this.int(3)), String(this.int(6) - 1));
    if (this.chance(0.3)) opts.push("GET", "#");
    if (this.chance(0.2)) opts.push("GET", "str:*");
    if (this.chance(0.4)) opts.push("DESC");
    const alpha = this.chance(0.5);
    if (alpha) opts.push("ALPHA");
    // ALPHA BY leaves ties (missing weights) in the order the elements came in: a set's
    // hashtable order, which differs between any two servers (even a Redis master and replica).
    if (this.chance(0.15) && !alpha) opts.push("BY", "int:*");
    const store = this.chance(0.5) ? ["STORE", this.key(this.chance(0.8) ? "list" : "str")] : [];
    // BY nosort keeps the source's order: a list's or a sorted set's; a set's is its hashtable
    // order, unless it is stored (Redis sorts it then). The key may hold a set after a RENAME.
    if (family !== "set" && !opts.includes("BY") && (store.length || !this.deterministic) && this.chance(0.15)) opts.push("BY", "nosort");
    const ro = store.length === 0 && this.chance(0.3);
    return [{ cmd: [ro ? "SORT_RO" : "SORT", k, ...opts, ...store], cmp: "exact" }];
  }
}

/** A function library loaded at the start of the run (FUNCTION LOAD REPLACE). */
const LIBRARY = [
  "#!lua name=difflib",
  "redis.register_function('incr_get', function(keys, args) redis.call('INCRBY', keys[1], args[1]); return redis.call('GET', keys[1]) end)",
  "redis.register_function{function_name='ro_get', callback=function(keys, args) return redis.call('GET', keys[1]) end, flags={'no-writes'}}",
  "redis.register_function('push_many', function(keys, args) local n = 0 for i = 1, #args do n = redis.call('RPUSH', keys[1], args[i]) end return n end)",
].join("\n");

/** Scripts for EVAL / EVALSHA (the first is loaded with SCRIPT LOAD at the start). */
const SCRIPTS = [
  "return redis.call('GET', KEYS[1])",
  "local old = redis.call('GET', KEYS[1]) redis.call('SET', KEYS[1], ARGV[1]) return old",
  "local n = redis.call('INCRBY', KEYS[1], ARGV[1]) return {n, redis.call('TYPE', KEYS[1])}",
  "redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2]) redis.call('ZUNIONSTORE', KEYS[2], 1, KEYS[1]) return redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')",
  "return redis.call('PEXPIRE', KEYS[1], ARGV[1])",
  "local r = redis.pcall('HSET', KEYS[1], ARGV[1], ARGV[2]) if type(r) == 'table' then return r end return {r, redis.call('HLEN', KEYS[1]), 1.5, true, false}",
  "local r = redis.pcall('LPUSH', KEYS[1], ARGV[1]) if type(r) == 'table' and r.err then return redis.error_reply('wrapped: ' .. r.err) end return redis.status_reply('pushed ' .. r)",
];

function sha1(text: string): string {
  return new Bun.CryptoHasher("sha1").update(Buffer.from(text, "latin1")).digest("hex");
}

/** The value of a raw RESP2 bulk reply, or null for a null bulk / anything else. */
export function bulkValue(raw: string): string | null {
  if (raw[0] !== "$") return null;
  const nl = raw.indexOf("\r\n");
  const n = Number(raw.slice(1, nl));
  if (n < 0) return null;
  return raw.slice(nl + 2, nl + 2 + n);
}
