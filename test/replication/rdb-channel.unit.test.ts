// The RDB channel's $ENDOFF line (Valkey 8's dual-channel replication): the snapshot's offset,
// the master's replication id (40 characters), the db and our channel's client id; anything
// else (an error reply, a missing field, a short id) aborts the attempt.

import { expect, test } from "bun:test";
import { parseEndOff } from "../../src/replication/rdb-channel.ts";

const ID = "a47ba424c45ab341f999f6c434ee708ae9b9b39e";

test("$ENDOFF: offset, replid, db and client id", () => {
  expect(parseEndOff(`$ENDOFF:26400335 ${ID} 0 17`)).toEqual({ offset: 26400335, replid: ID, dbid: 0, clientId: "17" });
  expect(parseEndOff(`$ENDOFF:0 ${ID} 3 123456789012`)).toEqual({ offset: 0, replid: ID, dbid: 3, clientId: "123456789012" });
});

test("anything else is refused", () => {
  for (const line of ["-ERR BGSAVE failed, replication can't continue", "-NOMASTERLINK Can't SYNC while not connected with my master", "$EOF:0123", `$ENDOFF:12 ${ID} 0`, `$ENDOFF:12 ${ID.slice(1)} 0 5`, `$ENDOFF:x ${ID} 0 5`, `$ENDOFF:99999999999999999999 ${ID} 0 5`, "+FULLRESYNC x 0"]) {
    expect(parseEndOff(line)).toBeNull();
  }
});
