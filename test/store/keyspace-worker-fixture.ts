// Worker side of keyspace.unit.test.ts's hand-over test: builds a shared keyspace and posts it.

import { Keyspace } from "../../src/store/keyspace/keyspace.ts";
import { setHashKey } from "../../src/store/keyspace/key-hash.ts";

declare const self: Worker;

self.onmessage = (e: MessageEvent<{ n: number; hashKey: [number, number] }>) => {
  setHashKey(e.data.hashKey[0], e.data.hashKey[1]);
  const ks = new Keyspace({ shared: true });
  const key = Buffer.alloc(32);
  const value = Buffer.alloc(32);
  for (let i = 0; i < e.data.n; i++) {
    const kl = key.latin1Write(`key:${i}`, 0);
    const vl = value.latin1Write(`value:${i}`, 0);
    ks.addBytes(key, 0, kl, value, 0, vl, i % 2 === 0 ? 1e12 + i : -1);
  }
  // Values outside the arena (side-table entries, in SharedArrayBuffers), one released: a hole.
  const big = Buffer.alloc(20000, 0x61);
  for (let i = 0; i < 3; i++) ks.setBytes(Buffer.from(`big:${i}`), 0, 5, big, 0, big.length - i);
  ks.deleteString("big:1");
  self.postMessage(ks.export());
};
