// The few libc functions Bun has no API for, through bun:ffi: the datagram socket of systemd's
// sd_notify (core/supervision.ts) and madvise (core/code-pages.ts). Opened on first use, glibc
// or musl; null where neither opens (another OS, a libc under another name): callers then do
// without, as a Redis built without the feature would.

/** The functions, as bun:ffi calls them (pointers as the addresses ffi.ptr gives, or numbers). */
interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  sendto(fd: number, buf: unknown, len: number, flags: number, addr: unknown, addrlen: number): number | bigint;
  close(fd: number): number;
  madvise(addr: number | bigint, len: number | bigint, advice: number): number;
}

/** Process-wide: one libc handle for every server of the process (not per-server state). */
let opened: { symbols: Libc; ptr: (b: Buffer) => unknown } | null | undefined;

export function openLibc(): typeof opened {
  if (opened !== undefined) return opened;
  opened = null;
  if (process.platform !== "linux") return opened;
  try {
    // A variable import keeps bun:ffi (and its compiler) out of every path that does not call libc.
    const ffi = require("bun:ffi") as typeof import("bun:ffi");
    const { FFIType } = ffi;
    for (const name of ["libc.so.6", `libc.musl-${process.arch === "arm64" ? "aarch64" : "x86_64"}.so.1`, "libc.so"]) {
      try {
        const lib = ffi.dlopen(name, {
          socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
          sendto: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i64 },
          close: { args: [FFIType.i32], returns: FFIType.i32 },
          madvise: { args: [FFIType.u64, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
        });
        opened = { symbols: lib.symbols as unknown as Libc, ptr: (b: Buffer) => ffi.ptr(b) };
        break;
      } catch {}
    }
  } catch {}
  return opened;
}
