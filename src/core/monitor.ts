// MONITOR (Redis's monitorCommand and replicationFeedMonitors): the client receives, as status
// replies, every command the server executes:
//
//   +<unix seconds>.<microseconds> [<db> <ip:port>] "<arg>" "<arg>" ...
//
// Arguments are quoted and escaped as sdscatrepr does. The origin is "lua" for commands run by
// scripts, "unix:<path>" for the unix socket's clients, and our master's address for the
// commands of the replication stream.
// A command is shown after it ran (EVAL, EVALSHA and FCALL before, so the commands of their
// script follow them; an EXEC refused before it ran is shown too), unless it is an admin
// command or flagged skip_monitor. Passwords (AUTH, HELLO AUTH, sensitive CONFIG SET values)
// are shown as "(redacted)" (the handlers mark them in c.redactedArgs).
//
// Lines are queued on the monitors' buffers and sent once per turn of the event loop (not a
// write per command), as Redis's monitors get theirs when the event loop writes.
//
// A monitor is exempt from client pauses, and like Redis's monitors (replicas internally) it
// may not run commands that touch the keyspace. RESET leaves the mode; QUIT ends the connection.

import type { Client } from "./client.ts";
import type { Server } from "./server.ts";

/** sdscatrepr: a quoted string with \\ \" \n \r \t \a \b and \xHH escapes for the rest. */
function reprString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    switch (ch) {
      case 0x5c:
        out += "\\\\";
        break;
      case 0x22:
        out += '\\"';
        break;
      case 0x0a:
        out += "\\n";
        break;
      case 0x0d:
        out += "\\r";
        break;
      case 0x09:
        out += "\\t";
        break;
      case 0x07:
        out += "\\a";
        break;
      case 0x08:
        out += "\\b";
        break;
      default:
        if (ch >= 0x20 && ch <= 0x7e) out += s[i];
        else out += "\\x" + (ch < 16 ? "0" : "") + ch.toString(16);
    }
  }
  return out + '"';
}

/** The wall clock in microseconds (gettimeofday). */
function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/**
 * replicationFeedMonitors: shows one command to every monitor. `c` is the client that ran it,
 * `argv` its arguments as received (before any rewriting for propagation).
 */
export function feedMonitors(c: Client, argv: readonly string[]): void {
  const server = c.server;
  if (server.monitors.size === 0 || server.loading) return;
  const us = nowMicros();
  const secs = Math.floor(us / 1e6);
  const micros = String(us % 1e6).padStart(6, "0");
  const origin = c.conn === null ? "lua" : c.unixSocket ? `unix:${server.config.str("unixsocket")}` : c.addr;
  let line = `${secs}.${micros} [${c.db.id} ${origin}]`;
  const redacted = c.redactedArgs;
  for (let i = 0; i < argv.length; i++) {
    line += " ";
    line += redacted !== null && redacted.includes(i) ? '"(redacted)"' : reprString(argv[i]!);
  }
  for (const m of server.monitors) m.reply.simple(line);
  if (!server.monitorFlushPending) {
    server.monitorFlushPending = true;
    queueMicrotask(() => flushMonitors(server));
  }
}

function flushMonitors(server: Server): void {
  server.monitorFlushPending = false;
  for (const m of server.monitors) {
    if (m.reply.length === 0) continue;
    server.stats.netOutputBytes += m.reply.length;
    m.flush();
  }
}

/** Leaves MONITOR mode (RESET, disconnection). */
export function stopMonitoring(c: Client): void {
  if (!c.monitor) return;
  c.monitor = false;
  c.server.monitors.delete(c);
}
