// `replicant ping`: one PING to a running server, for container health checks and scripts
// where redis-cli is not installed (a distroless image has nothing but the binary). Exit 0 on
// PONG (or LOADING / MASTERDOWN with --any-reply), 1 otherwise, with the reason on stderr.
import type { Command } from "commander";

export function registerPingCommand(program: Command): void {
  program
    .command("ping")
    .description("PING a running server (exit 0 on PONG): a health check that needs no redis-cli")
    .option("-h, --host <host>", "server host", "127.0.0.1")
    .option("-p, --port <port>", "server port", "6379")
    .option("-s, --socket <path>", "unix socket path (instead of host and port)")
    .option("-a, --pass <password>", "AUTH first with this password (or REPLICANT_PASS)")
    .option("--user <user>", "the user for AUTH")
    .option("--timeout <ms>", "give up after this many milliseconds", "2000")
    .action(async (opts: { host: string; port: string; socket?: string; pass?: string; user?: string; timeout: string }) => {
      const pass = opts.pass ?? process.env.REPLICANT_PASS;
      const auth = pass ? (opts.user ? ["AUTH", opts.user, pass] : ["AUTH", pass]) : null;
      const encode = (argv: string[]) => `*${argv.length}\r\n${argv.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
      const done = (code: number, message?: string) => {
        if (message) process.stderr.write(`ping: ${message}\n`);
        process.exit(code);
      };
      setTimeout(() => done(1, `no reply within ${opts.timeout} ms`), Number(opts.timeout));
      let buf = "";
      const handlers = {
        open(s: { write(d: string): number }) {
          s.write((auth ? encode(auth) : "") + encode(["PING"]));
        },
        data(_s: unknown, d: Buffer) {
          buf += d.toString("latin1");
          const lines = buf.split("\r\n");
          if (lines.length < (auth ? 3 : 2)) return;
          const reply = lines[auth ? 1 : 0]!;
          if (auth && lines[0]!.startsWith("-")) done(1, lines[0]!.slice(1));
          if (reply === "+PONG") done(0);
          done(1, reply.startsWith("-") ? reply.slice(1) : `unexpected reply ${JSON.stringify(reply)}`);
        },
        close() {
          done(1, "connection closed");
        },
        error(_s: unknown, e: Error) {
          done(1, e.message);
        },
      };
      try {
        if (opts.socket) await Bun.connect({ unix: opts.socket, socket: handlers });
        else await Bun.connect({ hostname: opts.host, port: Number(opts.port), socket: handlers });
      } catch (e) {
        done(1, `cannot connect: ${(e as Error).message}`);
      }
    });
}
