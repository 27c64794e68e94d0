// Running under a supervisor, as Redis 7.0 (server.c redisIsSupervised, redisCommunicateSystemd)
// and in the background (daemonize):
//
// - supervised systemd (or auto with NOTIFY_SOCKET set): sd_notify messages on the datagram
//   socket systemd names in NOTIFY_SOCKET: "STATUS=Redis is loading..." at start, READY=1 once
//   the server accepts connections (with a STATUS saying whether a replica still waits for its
//   sync), the sync's outcome, STOPPING=1 and the final save at shutdown. Bun has no unix
//   datagram sockets, so the message goes through libc's socket/sendto (bun:ffi); a libc we
//   cannot open means no notification, logged, as a Redis built without libsystemd.
// - supervised upstart (or auto with UPSTART_JOB): SIGSTOP to ourselves once ready.
// - daemonize yes (and not supervised): the process runs itself again detached from the
//   terminal (Bun cannot fork) and the first one exits at once, as Redis's parent does.

import { spawn } from "node:child_process";
import { openLibc } from "../common/libc.ts";
import type { Config } from "../config/config.ts";
import type { Logger } from "./log.ts";

export type SupervisionMode = "no" | "systemd" | "upstart";

/** The child of a daemonize re-run carries this, so that it does not go to the background again. */
const DAEMON_CHILD_ENV = "REPLICANT_DAEMONIZED";

/**
 * The supervision actually in effect (redisIsSupervised): `auto` picks upstart or systemd from
 * the environment; a requested one whose environment is missing is "no", with Redis's warning.
 */
export function resolveSupervision(config: Config, log: Logger): SupervisionMode {
  let mode = config.str("supervised");
  if (mode === "auto") {
    if (process.env.UPSTART_JOB) {
      log.verbose("Upstart supervision detected.");
      mode = "upstart";
    } else if (process.env.NOTIFY_SOCKET) {
      log.verbose("Systemd supervision detected.");
      mode = "systemd";
    }
  }
  if (mode === "upstart") {
    if (!process.env.UPSTART_JOB) {
      log.warning("upstart supervision requested, but UPSTART_JOB not found!");
      return "no";
    }
    return "upstart";
  }
  if (mode === "systemd") {
    if (notifySystemd("STATUS=Redis is loading...\n", log) <= 0) return "no";
    log.notice("Supervised by systemd. Please make sure you set appropriate values for TimeoutStartSec and TimeoutStopSec in your service unit.");
    return "systemd";
  }
  return "no";
}

/**
 * sd_notify(0, msg): 1 when sent, 0 when NOTIFY_SOCKET is not set, -1 on an error (each logged
 * as Redis does).
 */
export function notifySystemd(msg: string, log: Logger): number {
  const path = process.env.NOTIFY_SOCKET;
  if (!path) {
    log.warning("systemd supervision error: NOTIFY_SOCKET not found!");
    return 0;
  }
  const c = openLibc();
  if (!c) {
    log.warning("systemd supervision requested or auto-detected, but libc's socket functions could not be loaded!");
    return -1;
  }
  const AF_UNIX = 1;
  const SOCK_DGRAM_CLOEXEC = 2 | 0x80000;
  const fd = c.symbols.socket(AF_UNIX, SOCK_DGRAM_CLOEXEC, 0);
  if (fd < 0) {
    log.warning(`systemd supervision error: sd_notify: ${fd}`);
    return -1;
  }
  // struct sockaddr_un: sa_family, then the path ("@..." is the abstract namespace: a NUL first).
  const abstract = path.startsWith("@");
  const name = Buffer.from(abstract ? `\0${path.slice(1)}` : path, "latin1");
  const addr = Buffer.alloc(2 + 108);
  addr.writeUInt16LE(AF_UNIX, 0);
  name.copy(addr, 2, 0, Math.min(name.length, 107));
  const body = Buffer.from(msg, "latin1");
  const sent = Number(c.symbols.sendto(fd, c.ptr(body), body.length, 0, c.ptr(addr), 2 + name.length + (abstract ? 0 : 1)));
  c.symbols.close(fd);
  if (sent < 0) {
    log.warning(`systemd supervision error: sd_notify: ${sent}`);
    return -1;
  }
  return 1;
}

/** Upstart: stop ourselves so that upstart knows we are ready (redisSupervisedUpstart). */
export function signalUpstartReady(log: Logger): void {
  log.notice("supervised by upstart, will stop to signal readiness.");
  process.kill(process.pid, "SIGSTOP");
  delete process.env.UPSTART_JOB;
}

/**
 * daemonize yes, not supervised: runs this same command again detached (new session, no
 * terminal, standard streams to /dev/null) and returns true in the first process, which then
 * exits. False in the detached one (or when not daemonizing).
 */
export function daemonizeIfAsked(config: Config): boolean {
  if (!config.bool("daemonize") || process.env[DAEMON_CHILD_ENV]) return false;
  const supervised = config.str("supervised");
  if (supervised === "systemd" || supervised === "upstart") return false;
  if (supervised === "auto" && (process.env.NOTIFY_SOCKET || process.env.UPSTART_JOB)) return false;
  // A compiled binary sees ["bun", "/$bunfs/root/...", ...args]; a script run ["bun", "main.ts", ...].
  const compiled = process.argv[1]?.startsWith("/$bunfs/");
  const args = compiled ? process.argv.slice(2) : process.argv.slice(1);
  const child = spawn(process.execPath, args, { detached: true, stdio: "ignore", env: { ...process.env, [DAEMON_CHILD_ENV]: "1" } });
  child.unref();
  return true;
}

/** Whether this process is the detached one of a daemonize (for the default pidfile). */
export function isDaemonChild(): boolean {
  return process.env[DAEMON_CHILD_ENV] === "1";
}
