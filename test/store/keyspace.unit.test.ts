// The compact keyspace (src/store/keyspace/) against a model (a Map), with seeded random
// workloads: values, expiries, deletion with backward shift, growth and shrink, big values and
// long keys outside the arena, SCAN's guarantee across resizes, RANDOMKEY, compaction, the
// copy-on-write snapshot under concurrent writes, and handing a shared keyspace to a thread.

import { describe, expect, test } from "bun:test";
import { Keyspace, NO_EXPIRE, NOT_FOUND } from "../../src/store/keyspace/keyspace.ts";
import { Flag, KIND_MASK, Kind, VOLATILE_POS_AT } from "../../src/store/keyspace/record.ts";
import { KeyspaceSnapshot } from "../../src/store/keyspace/snapshot.ts";
import { compactStep } from "../../src/store/keyspace/compaction.ts";
import { OFFSET_MASK, REF_SHIFT } from "../../src/store/keyspace/arena.ts";
import { MAX_CHUNK } from "../../src/store/keyspace/size-classes.ts";
import { setHashKey } from "../../src/store/keyspace/key-hash.ts";
import { rng, seedFromEnv } from "../helpers/seeded.ts";

setHashKey(0x01234567, 0x89abcdef);

type ModelValue = { s: string } | { o: { tag: number; items: number[] } };
interface ModelEntry {
  value: ModelValue;
  expire: number;
}

function randomBytes(random: () => number, len: number): string {
  let s = "";
  for (let i = 0; i < len; i++) s += String.fromCharCode(Math.floor(random() * 256));
  return s;
}

function randomLength(random: () => number): number {
  const r = random();
  if (r < 0.7) return Math.floor(random() * 40);
  if (r < 0.95) return Math.floor(random() * 600);
  if (r < 0.99) return Math.floor(random() * 4000);
  return MAX_CHUNK + Math.floor(random() * 3000); // outside the arena
}

function valueOf(ks: Keyspace, slot: number): ModelValue {
  const kind = ks.kindAt(slot);
  if (kind === Kind.Object) return { o: ks.objectAt(slot) as { tag: number; items: number[] } };
  return { s: ks.valueStringAt(slot) };
}

/** Every entry reachable by its key, records live, volatile positions pointing back. */
function checkInvariants(ks: Keyspace): void {
  let used = 0;
  const t = ks.table;
  for (let i = 0; i < ks.capacity; i++) {
    if (t[i << 1] === 0) continue;
    used++;
    const ref = t[(i << 1) + 1]!;
    const h = ks.arena.words[ref >>> REF_SHIFT]![(ref & OFFSET_MASK) << 1]!;
    expect(h & KIND_MASK).not.toBe(Kind.Free);
    expect(h & Flag.SnapshotKept).toBe(0);
    expect(ks.findString(ks.keyStringAt(i))).toBe(i);
  }
  expect(used).toBe(ks.size);
  let volatile = 0;
  for (let i = 0; i < ks.capacity; i++) if (t[i << 1] !== 0 && ks.expireAt(i) !== NO_EXPIRE) volatile++;
  expect(ks.volatile.size).toBe(volatile);
  for (let p = 0; p < ks.volatile.size; p++) {
    const ref = ks.volatile.refs[p]!;
    const off = (ref & OFFSET_MASK) << 3;
    expect(ks.arena.words[ref >>> REF_SHIFT]![(off + VOLATILE_POS_AT) >> 2]).toBe(p);
    expect(ks.refAt(ks.slotOfRef(ref))).toBe(ref);
  }
}

function checkAgainst(ks: Keyspace, model: Map<string, ModelEntry>): void {
  expect(ks.size).toBe(model.size);
  for (const [key, e] of model) {
    const slot = ks.findString(key);
    expect(slot).not.toBe(NOT_FOUND);
    expect(valueOf(ks, slot)).toEqual(e.value);
    expect(ks.expireAt(slot)).toBe(e.expire);
  }
}

describe("keyspace", () => {
  test("a latin1 string and its bytes find the same key", () => {
    const ks = new Keyspace();
    const key = "caf\xe9\x00\xff:1";
    ks.setString(key, "v\x80\xfe");
    const bytes = Buffer.from("xx" + key + "yy", "latin1");
    const slot = ks.findBytes(bytes, 2, key.length);
    expect(slot).toBe(ks.findString(key));
    expect(ks.valueStringAt(slot)).toBe("v\x80\xfe");
    const out = Buffer.alloc(8);
    expect(ks.copyValueAt(slot, out, 1)).toBe(3);
    expect(out.subarray(1, 4).toString("latin1")).toBe("v\x80\xfe");
    expect(ks.findString("caf\xe9\x00\xff:2")).toBe(NOT_FOUND);
    expect(ks.findString("")).toBe(NOT_FOUND);
    ks.setString("", "empty key");
    expect(ks.valueStringAt(ks.findString(""))).toBe("empty key");
  });

  test("random writes match a model", () => {
    const seed = seedFromEnv("KEYSPACE_MODEL_SEED");
    const random = rng(seed);
    const ks = new Keyspace();
    const model = new Map<string, ModelEntry>();
    const keyOf = (n: number) => (n % 97 === 0 ? "long:" + "k".repeat(MAX_CHUNK + (n % 7)) + n : `key:${n}\xe9`);
    let tag = 0;
    for (let op = 0; op < 30000; op++) {
      const n = Math.floor(random() * (op < 15000 ? 3000 : 400));
      const key = keyOf(n);
      const r = random();
      const old = model.get(key);
      if (r < 0.35) {
        const value = randomBytes(random, randomLength(random));
        const keepTtl = random() < 0.3;
        if (random() < 0.5) ks.setString(key, value, keepTtl);
        else {
          const kb = Buffer.from("!" + key, "latin1");
          const vb = Buffer.from("??" + value, "latin1");
          ks.setBytes(kb, 1, key.length, vb, 2, value.length, keepTtl);
        }
        model.set(key, { value: { s: value }, expire: keepTtl && old ? old.expire : NO_EXPIRE });
      } else if (r < 0.45) {
        const o = { tag: tag++, items: [op] };
        ks.setObject(key, o, false);
        model.set(key, { value: { o }, expire: NO_EXPIRE });
      } else if (r < 0.65) {
        const slot = ks.findString(key);
        expect(slot === NOT_FOUND).toBe(old === undefined);
        if (slot !== NOT_FOUND) ks.deleteAt(slot);
        model.delete(key);
      } else if (r < 0.85) {
        const slot = ks.findString(key);
        if (slot !== NOT_FOUND) {
          const when = 1_700_000_000_000 + Math.floor(random() * 1e9);
          ks.setExpireAt(slot, when);
          old!.expire = when;
        }
      } else if (r < 0.9) {
        const slot = ks.findString(key);
        if (slot !== NOT_FOUND) {
          expect(ks.persistAt(slot)).toBe(old!.expire !== NO_EXPIRE);
          old!.expire = NO_EXPIRE;
        }
      } else {
        const slot = ks.findString(key);
        if (slot !== NOT_FOUND) expect(valueOf(ks, slot)).toEqual(old!.value);
      }
      if (op % 5000 === 4999) {
        checkInvariants(ks);
        checkAgainst(ks, model);
      }
    }
    checkInvariants(ks);
    checkAgainst(ks, model);
    for (const key of model.keys()) ks.deleteString(key);
    expect(ks.size).toBe(0);
    expect(ks.capacity).toBe(8); // shrunk back
    expect(ks.side.size).toBe(0);
    expect(ks.volatile.size).toBe(0);
    expect(ks.arena.chunkBytes).toBe(0);
  });

  test("the last key found is remembered only while its slot and record stay (deletes, moves, resizes, compaction)", () => {
    // findString answers a repeated lookup of one key from its last slot: every way a key's
    // slot or record can change between two lookups of it comes between them here.
    const random = rng(seedFromEnv("KEYSPACE_LAST_SEED"));
    const ks = new Keyspace();
    const model = new Map<string, string>();
    const hot = ["hot:a", "hot:b", "hot:c"];
    for (let op = 0; op < 20000; op++) {
      const key = hot[Math.floor(random() * hot.length)]!;
      const r = random();
      if (r < 0.3) {
        // Sizes across size classes: an overwrite in place, or a record moved elsewhere.
        const v = "v".repeat(1 + Math.floor(random() * 300));
        ks.setString(key, v);
        model.set(key, v);
      } else if (r < 0.45) {
        ks.deleteString(key);
        model.delete(key);
      } else if (r < 0.55) {
        // Other keys come and go: growth, shrink and backward shifts around the hot ones.
        const n = Math.floor(random() * 400);
        for (let i = 0; i < n; i++) ks.setString(`cold:${op}:${i}`, "x".repeat(1 + (i % 50)));
        if (random() < 0.7) for (let i = 0; i < n; i++) ks.deleteString(`cold:${op}:${i}`);
      } else if (r < 0.6) {
        compactStep(ks, 64);
      }
      for (const k of hot) {
        // Twice: the second lookup is the remembered one.
        for (let i = 0; i < 2; i++) {
          const slot = ks.findString(k);
          expect(slot === NOT_FOUND).toBe(!model.has(k));
          if (slot !== NOT_FOUND) expect(valueOf(ks, slot)).toEqual({ s: model.get(k)! });
        }
      }
    }
    checkInvariants(ks);
  });

  test("LRU field and in-place overwrite keep the record", () => {
    const ks = new Keyspace();
    ks.setString("a", "12345");
    let slot = ks.findString("a");
    ks.touchAt(slot, 0xabcdef);
    const ref = ks.refAt(slot);
    ks.setString("a", "12346");
    slot = ks.findString("a");
    expect(ks.refAt(slot)).toBe(ref);
    expect(ks.lruAt(slot)).toBe(0xabcdef);
    ks.setString("a", "x".repeat(200));
    slot = ks.findString("a");
    expect(ks.refAt(slot)).not.toBe(ref);
    expect(ks.lruAt(slot)).toBe(0xabcdef);
  });
});

describe("keyspace SCAN", () => {
  test("returns every key present for the whole iteration, across growth, shrink and deletions", () => {
    const seed = seedFromEnv("KEYSPACE_SCAN_SEED");
    const random = rng(seed);
    for (let round = 0; round < 20; round++) {
      const ks = new Keyspace();
      let next = 0;
      const present: string[] = [];
      const initial = Math.floor(random() * 3000);
      for (; next < initial; next++) {
        ks.setString(`k${next}`, "v");
        present.push(`k${next}`);
      }
      // Keys that must be seen: present at the start and never deleted.
      const stable = new Set(present);
      const seen = new Set<string>();
      let cursor = 0;
      let calls = 0;
      do {
        const out: number[] = [];
        cursor = ks.scan(cursor, 1 + Math.floor(random() * 20), out);
        for (const slot of out) seen.add(ks.keyStringAt(slot));
        // Between calls: bursts of inserts (growth) or deletions (shrink).
        const grow = random() < 0.5;
        const burst = Math.floor(random() * (random() < 0.1 ? 4000 : 50));
        for (let i = 0; i < burst; i++) {
          if (grow) {
            ks.setString(`k${next}`, "v");
            present.push(`k${next++}`);
          } else if (present.length > 0) {
            const i = Math.floor(random() * present.length);
            const key = present[i]!;
            present[i] = present[present.length - 1]!;
            present.pop();
            ks.deleteString(key);
            stable.delete(key);
          }
        }
        calls++;
      } while (cursor !== 0 && calls < 100000);
      for (const key of stable) expect(seen.has(key)).toBe(true);
      for (const key of seen) expect(key.startsWith("k")).toBe(true);
    }
  });

  test("an unchanged table is returned exactly once, and a full scan of a big table is complete", () => {
    const ks = new Keyspace();
    for (let i = 0; i < 50000; i++) ks.setString(`key:${i}`, String(i));
    const counts = new Map<string, number>();
    let cursor = 0;
    do {
      const out: number[] = [];
      cursor = ks.scan(cursor, 100, out);
      for (const slot of out) counts.set(ks.keyStringAt(slot), (counts.get(ks.keyStringAt(slot)) ?? 0) + 1);
    } while (cursor !== 0);
    expect(counts.size).toBe(50000);
    for (const n of counts.values()) expect(n).toBe(1);
  });
});

describe("keyspace RANDOMKEY and expiry sampling", () => {
  test("random slots are used slots, spread over all keys", () => {
    const random = rng(seedFromEnv("KEYSPACE_RANDOM_SEED"));
    const ks = new Keyspace();
    for (let i = 0; i < 1000; i++) ks.setString(`k${i}`, "v");
    for (let i = 0; i < 900; i++) ks.deleteString(`k${i}`);
    const hits = new Map<string, number>();
    for (let i = 0; i < 20000; i++) {
      const slot = ks.randomSlot(random);
      const key = ks.keyStringAt(slot);
      hits.set(key, (hits.get(key) ?? 0) + 1);
    }
    expect(hits.size).toBe(100);
    for (const n of hits.values()) expect(n).toBeGreaterThan(100); // ~200 each
    expect(new Keyspace().randomSlot()).toBe(NOT_FOUND);
  });

  test("the volatile keys are the keys with an expiry, readable by position", () => {
    const ks = new Keyspace();
    for (let i = 0; i < 100; i++) ks.setString(`k${i}`, "v");
    for (let i = 0; i < 100; i += 3) ks.setExpireAt(ks.findString(`k${i}`), 1000 + i);
    expect(ks.volatile.size).toBe(34);
    const whens = new Set<number>();
    for (let p = 0; p < ks.volatile.size; p++) whens.add(ks.expireOf(ks.volatile.refs[p]!));
    expect(whens.size).toBe(34);
    // Expire those due by 1050, as active expiry would: by position, from the ref to the slot.
    for (let p = 0; p < ks.volatile.size; ) {
      const ref = ks.volatile.refs[p]!;
      if (ks.expireOf(ref) <= 1050) ks.deleteAt(ks.slotOfRef(ref));
      else p++;
    }
    expect(ks.volatile.size).toBe(17);
    checkInvariants(ks);
  });
});

describe("keyspace compaction", () => {
  test("moves the records of sparse slabs and releases them", () => {
    const random = rng(seedFromEnv("KEYSPACE_COMPACT_SEED"));
    const ks = new Keyspace();
    const model = new Map<string, ModelEntry>();
    for (let i = 0; i < 200000; i++) {
      const v = "v".repeat(20 + (i % 40));
      ks.setString(`key:${i}`, v);
      if (i % 5 === 0) ks.setExpireAt(ks.findString(`key:${i}`), 5000 + i);
      model.set(`key:${i}`, { value: { s: v }, expire: i % 5 === 0 ? 5000 + i : NO_EXPIRE });
    }
    for (const key of Array.from(model.keys())) {
      if (random() < 0.8) {
        ks.deleteString(key);
        model.delete(key);
      }
    }
    const before = ks.arena.slabBytes;
    while (compactStep(ks, 1000) > 0) {
      // Writes between steps, some on the slab being emptied.
      for (let i = 0; i < 20; i++) {
        const key = `key:${Math.floor(random() * 200000)}`;
        const r = random();
        if (r < 0.4) {
          const v = "w".repeat(20 + Math.floor(random() * 40));
          ks.setString(key, v, true);
          const old = model.get(key);
          model.set(key, { value: { s: v }, expire: old?.expire ?? NO_EXPIRE });
        } else if (r < 0.8) {
          ks.deleteString(key);
          model.delete(key);
        } else {
          const slot = ks.findString(key);
          if (slot !== NOT_FOUND) expect(valueOf(ks, slot)).toEqual(model.get(key)!.value);
        }
      }
    }
    expect(ks.arena.movedRecords).toBeGreaterThan(0);
    expect(ks.arena.slabBytes).toBeLessThan(before / 2);
    checkInvariants(ks);
    checkAgainst(ks, model);
  });

  test("a snapshot starting in the middle of a compaction ends it", () => {
    const ks = new Keyspace();
    for (let i = 0; i < 100000; i++) ks.setString(`key:${i}`, "value:" + i);
    for (let i = 0; i < 100000; i++) if (i % 4 !== 0) ks.deleteString(`key:${i}`);
    expect(compactStep(ks, 100)).toBeGreaterThan(0);
    expect(ks.arena.compacting).toBeGreaterThanOrEqual(0);
    const snap = new KeyspaceSnapshot(ks);
    expect(ks.arena.compacting).toBe(-1);
    expect(compactStep(ks)).toBe(0);
    const seen = new Set<string>();
    while (snap.step((ref) => seen.add(ks.keyStringOf(ref)), 5000)) ks.setString(`key:${seen.size}`, "x");
    expect(seen.size).toBe(25000);
    while (compactStep(ks) > 0);
    checkInvariants(ks);
    for (let i = 0; i < 100000; i += 4) expect(ks.findString(`key:${i}`)).not.toBe(NOT_FOUND);
  });
});

describe("keyspace snapshot", () => {
  test("yields exactly the state at its start while writes continue", () => {
    const seed = seedFromEnv("KEYSPACE_SNAPSHOT_SEED");
    const random = rng(seed);
    for (let round = 0; round < 8; round++) {
      const clones: unknown[] = [];
      const ks = new Keyspace({
        cloneObject: (v) => {
          const o = v as { tag: number; items: number[] };
          const c = { tag: o.tag, items: [...o.items] };
          clones.push(c);
          return c;
        },
      });
      const model = new Map<string, ModelEntry>();
      const keyOf = (n: number) => (n % 211 === 0 ? "L" + "k".repeat(MAX_CHUNK) + n : `key:${n}`);
      const write = (op: number) => {
        const key = keyOf(Math.floor(random() * 3000));
        const slot = ks.findString(key);
        const r = random();
        if (r < 0.3) {
          const value = randomBytes(random, randomLength(random));
          ks.setString(key, value, random() < 0.5);
          const old = model.get(key);
          model.set(key, { value: { s: value }, expire: slot !== NOT_FOUND && ks.expireAt(ks.findString(key)) !== NO_EXPIRE ? old!.expire : NO_EXPIRE });
        } else if (r < 0.45) {
          const o = { tag: op, items: [op] };
          ks.setObject(key, o, true);
          model.set(key, { value: { o }, expire: slot !== NOT_FOUND ? model.get(key)!.expire : NO_EXPIRE });
        } else if (r < 0.6) {
          if (slot !== NOT_FOUND) ks.deleteAt(slot);
          model.delete(key);
        } else if (r < 0.75) {
          if (slot !== NOT_FOUND) {
            const when = 1e12 + op;
            ks.setExpireAt(slot, when);
            model.get(key)!.expire = when;
          }
        } else if (r < 0.8) {
          if (slot !== NOT_FOUND) {
            ks.persistAt(slot);
            model.get(key)!.expire = NO_EXPIRE;
          }
        } else if (slot !== NOT_FOUND && ks.kindAt(slot) === Kind.Object) {
          // An aggregate changed in place, as HSET would.
          ks.beforeObjectChange(slot);
          const o = ks.objectAt(slot) as { tag: number; items: number[] };
          o.items.push(op);
          model.set(key, { value: { o }, expire: model.get(key)!.expire });
        }
      };
      for (let op = 0; op < 6000; op++) write(op);
      // The expected snapshot: deep copies of the model now.
      const expected = new Map<string, string>();
      const describe = (v: ModelValue, expire: number) => JSON.stringify([v, expire]);
      for (const [k, e] of model) expected.set(k, describe(e.value, e.expire));
      const snap = new KeyspaceSnapshot(ks);
      const got = new Map<string, string>();
      const visit = (ref: number) => {
        const key = ks.keyStringOf(ref);
        expect(got.has(key)).toBe(false);
        const kind = ks.kindOf(ref);
        const value: ModelValue = kind === Kind.Object ? { o: ks.objectOf(ref) as { tag: number; items: number[] } } : { s: ks.valueStringOf(ref) };
        got.set(key, describe(value, ks.expireOf(ref)));
      };
      let op = 6000;
      while (snap.step(visit, 1 + Math.floor(random() * 200))) {
        const writes = Math.floor(random() * 300);
        for (let i = 0; i < writes; i++) write(op++);
      }
      expect(got.size).toBe(expected.size);
      for (const [k, v] of expected) expect(got.get(k)).toBe(v);
      // After the snapshot: nothing kept, the live data is the model's.
      expect(ks.keptRecords).toBe(0);
      checkInvariants(ks);
      checkAgainst(ks, model);
      let objects = 0;
      for (const e of model.values()) if ("o" in e.value) objects++;
      let external = 0;
      for (const k of model.keys()) if (k.length > MAX_CHUNK) external++;
      let bigValues = 0;
      for (const e of model.values()) if ("s" in e.value && e.value.s.length > MAX_CHUNK - 100) bigValues++;
      expect(ks.side.size).toBeGreaterThanOrEqual(objects + external);
      expect(ks.side.size).toBeLessThanOrEqual(objects + external + bigValues);
      // Writes after the end go in place again.
      const s1 = ks.findString("key:1") === NOT_FOUND ? (ks.setString("key:1", "aaaa"), ks.findString("key:1")) : ks.findString("key:1");
      ks.setString("key:1", "bbbb");
      const ref = ks.refAt(ks.findString("key:1"));
      ks.setString("key:1", "cccc");
      expect(ks.refAt(ks.findString("key:1"))).toBe(ref);
      void s1;
    }
  });

  test("an abandoned snapshot frees what it kept", () => {
    const ks = new Keyspace();
    for (let i = 0; i < 10000; i++) ks.setString(`key:${i}`, "value");
    const bytes = ks.arena.chunkBytes;
    const snap = new KeyspaceSnapshot(ks);
    snap.step(() => {}, 10);
    for (let i = 0; i < 10000; i++) ks.setString(`key:${i}`, "value2");
    expect(ks.keptRecords).toBeGreaterThan(9000);
    snap.end();
    expect(ks.keptRecords).toBe(0);
    expect(ks.arena.chunkBytes).toBe(bytes);
    checkInvariants(ks);
  });
});

describe("keyspace handed between threads", () => {
  test("a shared keyspace built in a worker is adopted without copying", async () => {
    const worker = new Worker(new URL("./keyspace-worker-fixture.ts", import.meta.url).href);
    const state = await new Promise<any>((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => reject(e);
      worker.postMessage({ n: 20000, hashKey: [0x01234567, 0x89abcdef] });
    });
    worker.terminate();
    expect(state.table.buffer).toBeInstanceOf(SharedArrayBuffer);
    const ks = Keyspace.adopt(state);
    expect(ks.size).toBe(20002);
    expect(ks.valueLengthAt(ks.findString("big:0"))).toBe(20000);
    expect(ks.valueStringAt(ks.findString("big:2"))).toBe("a".repeat(19998));
    expect(ks.findString("big:1")).toBe(NOT_FOUND);
    ks.setString("big:3", "b".repeat(9000));
    expect(ks.side.size).toBe(3);
    for (let i = 0; i < 20000; i += 7) {
      const slot = ks.findString(`key:${i}`);
      expect(ks.valueStringAt(slot)).toBe(`value:${i}`);
      expect(ks.expireAt(slot)).toBe(i % 2 === 0 ? 1e12 + i : NO_EXPIRE);
    }
    // And it keeps working as an ordinary keyspace.
    for (let i = 20000; i < 30000; i++) ks.setString(`key:${i}`, "x");
    for (let i = 0; i < 30000; i += 2) ks.deleteString(`key:${i}`);
    expect(ks.size).toBe(15003);
    checkInvariants(ks);
  });
});

describe("growth with the next table readied ahead", () => {
  test("past 70% load the doubled table is readied a page per insert, then used by the resize; every key survives", () => {
    const ks = new Keyspace({});
    const cap = 1 << 16;
    ks.resize(cap);
    const growAt = Math.floor(cap * 0.75);
    let i = 0;
    for (; i < growAt - Math.floor(cap * 0.05) - 1; i++) ks.setString(`k${i}`, `v${i}`);
    expect(ks.spareBytes).toBe(0);
    for (; i < growAt - 10; i++) ks.setString(`k${i}`, `v${i}`);
    expect(ks.spareBytes).toBeGreaterThan(0);
    expect(ks.capacity).toBe(cap);
    for (; i < growAt + 10; i++) ks.setString(`k${i}`, `v${i}`);
    expect(ks.capacity).toBe(cap * 2);
    expect(ks.spareBytes).toBe(0);
    for (let j = 0; j < i; j++) expect(ks.valueStringAt(ks.findString(`k${j}`))).toBe(`v${j}`);
  });

  test("a readied table is dropped when no key was added between two maintenance calls", () => {
    const ks = new Keyspace({});
    const cap = 1 << 16;
    ks.resize(cap);
    for (let i = 0; i < Math.floor(cap * 0.72); i++) ks.setString(`k${i}`, "v");
    expect(ks.spareBytes).toBeGreaterThan(0);
    ks.maintainSpare(1 << 18, true);
    expect(ks.spareBytes).toBeGreaterThan(0);
    ks.maintainSpare(1 << 18, true);
    expect(ks.spareBytes).toBe(0);
  });
});
