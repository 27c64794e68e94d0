// Worker side of bench/keyspace-load.bench.ts: decodes an RDB payload (strings) into a shared
// keyspace and posts the tables back (SharedArrayBuffers: nothing is copied).

import { setHashKey } from "../src/store/keyspace/key-hash.ts";
import { Keyspace } from "../src/store/keyspace/keyspace.ts";
import { decodeStringRdb } from "./keyspace-rdb-strings.ts";

declare const self: Worker;

self.onmessage = (e: MessageEvent<{ payload: ArrayBuffer; hashKey: [number, number] }>) => {
  setHashKey(e.data.hashKey[0], e.data.hashKey[1]);
  const t = performance.now();
  const { keys, dbs } = decodeStringRdb(new Uint8Array(e.data.payload), (expectedKeys) => new Keyspace({ expectedKeys, shared: true }));
  const decodeMs = performance.now() - t;
  const states = Array.from(dbs, ([db, ks]) => ({ db, state: ks.export() }));
  self.postMessage({ keys, decodeMs, states, postedAt: performance.timeOrigin + performance.now() });
};
