// A scripted master for fault tests that a real redis-server cannot be made to produce on
// demand: a corrupt RDB payload, garbage in the command stream, a master that stalls mid
// handshake. It answers the replica handshake like Redis and then follows the script. The RDB
// it sends is a real one, produced by redis-server (see rdbFromRedis), possibly damaged.

import type { Socket, TCPSocketListener } from "bun";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RequestParser } from "../../src/protocol/request-parser.ts";
import { startRedis } from "./servers.ts";

export interface Script {
  /** Reply to PSYNC; default "+FULLRESYNC <id> 0". null: never reply (stall). */
  psyncReply?: string | null;
  /** Bytes sent after the PSYNC reply (e.g. "$len\r\n" + rdb). */
  payload?: Buffer | null;
  /** Bytes sent once the replica sends its first REPLCONF ACK after the payload. */
  stream?: Buffer | null;
  /** Do not answer PING at all (handshake stall). */
  silent?: boolean;
  /** Bytes sent in reply to SYNC (pre-PSYNC masters send the payload directly). */
  syncPayload?: Buffer | null;
  /** Answer only the first PSYNC; later ones stall (keeps the replica's data in place for checks). */
  onlyFirstPsync?: boolean;
}

export interface ScriptedMaster {
  port: number;
  /** Commands received, in order (all connections). */
  received: string[][];
  connections: number;
  setScript(s: Script): void;
  stop(): void;
}

export const REPLID = "a".repeat(40);

export function startScriptedMaster(initial: Script): ScriptedMaster {
  let script = initial;
  const received: string[][] = [];
  interface Data {
    parser: RequestParser;
    sentStream: boolean;
    sentPayload: boolean;
  }
  const state = { connections: 0 };
  let psyncs = 0;
  const listener: TCPSocketListener<Data> = Bun.listen<Data>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        state.connections++;
        s.data = { parser: new RequestParser({ maxBulkLength: 1 << 30 }), sentStream: false, sentPayload: false };
      },
      data(s: Socket<Data>, chunk) {
        const d = s.data;
        d.parser.feed(chunk);
        for (let argv = d.parser.next(); argv; argv = d.parser.next()) {
          received.push(argv);
          const cmd = argv[0]!.toUpperCase();
          if (script.silent) continue;
          if (cmd === "PING") s.write("+PONG\r\n");
          else if (cmd === "AUTH") s.write("+OK\r\n");
          else if (cmd === "REPLCONF" && argv[1]?.toUpperCase() === "ACK") {
            if (d.sentPayload && !d.sentStream && script.stream) {
              d.sentStream = true;
              s.write(script.stream);
            }
          } else if (cmd === "REPLCONF") s.write("+OK\r\n");
          else if (cmd === "SYNC") {
            if (script.syncPayload) {
              writeAll(s, script.syncPayload);
              d.sentPayload = true;
            }
          } else if (cmd === "PSYNC") {
            psyncs++;
            if (script.psyncReply === null || (script.onlyFirstPsync && psyncs > 1)) continue;
            s.write((script.psyncReply ?? `+FULLRESYNC ${REPLID} 0`) + "\r\n");
            if (script.payload) {
              writeAll(s, script.payload);
              d.sentPayload = true;
            }
          }
        }
      },
      drain() {},
    },
  });
  return {
    port: listener.port,
    received,
    get connections() {
      return state.connections;
    },
    setScript(s) {
      script = s;
    },
    stop() {
      listener.stop(true);
    },
  };
}

function writeAll(s: Socket<any>, bytes: Buffer): void {
  // Test payloads are small: the kernel takes them at once; assert it rather than queue.
  const n = s.write(bytes);
  if (n !== bytes.length) throw new Error(`scripted master: short write ${n}/${bytes.length}`);
}

/** Produces a real RDB with redis-server: runs `setup` commands, SAVE, returns the file. */
export async function rdbFromRedis(commands: Array<Array<string | number>>): Promise<Buffer> {
  const redis = await startRedis();
  try {
    const c = await redis.client();
    for (const cmd of commands) await c.call(...cmd);
    await c.call("SAVE");
    return readFileSync(join(redis.dir, "dump.rdb"));
  } finally {
    await redis.stop();
  }
}

export function bulkPayload(rdb: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`$${rdb.length}\r\n`), rdb]);
}

export function eofPayload(rdb: Buffer, mark = "m".repeat(40)): Buffer {
  return Buffer.concat([Buffer.from(`$EOF:${mark}\r\n`), rdb, Buffer.from(mark)]);
}
