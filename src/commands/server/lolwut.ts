// LOLWUT (lolwut.c): computer art per Redis version. Our version is 7.0.15's, which has none
// of its own ("Redis ver. 7.0.15"); VERSION 5 draws Georg Nees's Schotter in braille
// characters, VERSION 6 an 8-bit city skyline in terminal colours, as those versions do. Both
// are random (Redis uses rand()): only their layout and deterministic parts can be compared.

import { REDIS_COMPAT_VERSION } from "../../common/version.ts";
import { NOT_INTEGER, fail } from "../../core/errors.ts";
import { parseLongLong } from "../strings/parse.ts";
import type { HandlerMap } from "../../core/command-spec.ts";

/** A canvas of small integers (colours), as lwCanvas: writes outside it are ignored. */
class Canvas {
  readonly pixels: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
    background: number,
  ) {
    this.pixels = new Uint8Array(width * height).fill(background);
  }
  set(x: number, y: number, color: number): void {
    if (x < 0 || x >= this.width || y < 0 || y >= this.height) return;
    this.pixels[x + y * this.width] = color;
  }
  get(x: number, y: number): number {
    if (x < 0 || x >= this.width || y < 0 || y >= this.height) return 0;
    return this.pixels[x + y * this.width]!;
  }
  /** Bresenham's line. */
  line(x1: number, y1: number, x2: number, y2: number, color: number): void {
    const dx = Math.abs(x2 - x1);
    const dy = Math.abs(y2 - y1);
    const sx = x1 < x2 ? 1 : -1;
    const sy = y1 < y2 ? 1 : -1;
    let err = dx - dy;
    for (;;) {
      this.set(x1, y1, color);
      if (x1 === x2 && y1 === y2) break;
      const e2 = err * 2;
      if (e2 > -dy) {
        err -= dy;
        x1 += sx;
      }
      if (e2 < dx) {
        err += dx;
        y1 += sy;
      }
    }
  }
  /**
   * A square centred on x,y, rotated by `angle`: its corners are on the circle through them,
   * starting at 45 degrees. (Single precision where Redis computes in floats, so that the
   * unrotated squares land on the same pixels.)
   */
  square(x: number, y: number, size: number, angle: number, color: number): void {
    const radius = cRound(Math.fround(Math.fround(size) / 1.4142135623));
    const px: number[] = [];
    const py: number[] = [];
    let k = Math.fround(Math.PI / 4 + angle);
    for (let j = 0; j < 4; j++) {
      px.push(cRound(Math.sin(k) * radius + x));
      py.push(cRound(Math.cos(k) * radius + y));
      k = Math.fround(k + Math.PI / 2);
    }
    for (let j = 0; j < 4; j++) this.line(px[j]!, py[j]!, px[(j + 1) % 4]!, py[(j + 1) % 4]!, color);
  }
}

/** C's rand(): 0..RAND_MAX (2^31 - 1). */
function rand(): number {
  return Math.floor(Math.random() * 2147483648);
}

/** Rounds toward zero as C's float-to-int conversion does. */
const toInt = Math.trunc;

/** C's round(): halves away from zero. */
const cRound = (v: number) => (v < 0 ? -Math.round(-v) : Math.round(v));

/** getLongFromObjectOrReply. */
function longArg(text: string): number {
  const v = parseLongLong(text);
  if (v === null) fail(NOT_INTEGER);
  return Number(v);
}

const clamp = (v: number, min: number, max: number) => Math.min(max, Math.max(min, v));

// ---------------------------------------------------------------------------------- LOLWUT 5

/** Schotter: rows of squares, more and more rotated and shifted further down. */
function schotter(cols: number, perRow: number, perCol: number): Canvas {
  const width = cols * 2;
  const padding = width > 4 ? 2 : 0;
  // Redis computes in single precision: every step rounded to a float, as C does.
  const f = Math.fround;
  const side = f((width - padding * 2) / perRow);
  const canvas = new Canvas(width, toInt(f(f(side * perCol) + padding * 2)), 0);
  for (let y = 0; y < perCol; y++) {
    for (let x = 0; x < perRow; x++) {
      let sx = toInt(f(f(f(x * side) + f(side / 2)) + padding));
      let sy = toInt(f(f(f(y * side) + f(side / 2)) + padding));
      let angle = 0;
      if (y > 1) {
        let r1 = Math.fround((rand() / 2147483647 / perCol) * y);
        let r2 = Math.fround((rand() / 2147483647 / perCol) * y);
        let r3 = Math.fround((rand() / 2147483647 / perCol) * y);
        if (rand() % 2) r1 = -r1;
        if (rand() % 2) r2 = -r2;
        if (rand() % 2) r3 = -r3;
        angle = r1;
        sx = toInt(f(sx + f(f(r2 * side) / 3)));
        sy = toInt(f(sy + f(f(r3 * side) / 3)));
      }
      canvas.square(sx, sy, side, angle, 1);
    }
  }
  return canvas;
}

/** Each 2x4 block of pixels as a braille character (U+2800 + dot bits), UTF-8 bytes as latin1. */
function renderBraille(canvas: Canvas): string {
  let text = "";
  for (let y = 0; y < canvas.height; y += 4) {
    for (let x = 0; x < canvas.width; x += 2) {
      let bits = 0;
      if (canvas.get(x, y)) bits |= 1 << 0;
      if (canvas.get(x, y + 1)) bits |= 1 << 1;
      if (canvas.get(x, y + 2)) bits |= 1 << 2;
      if (canvas.get(x + 1, y)) bits |= 1 << 3;
      if (canvas.get(x + 1, y + 1)) bits |= 1 << 4;
      if (canvas.get(x + 1, y + 2)) bits |= 1 << 5;
      if (canvas.get(x, y + 3)) bits |= 1 << 6;
      if (canvas.get(x + 1, y + 3)) bits |= 1 << 7;
      const code = 0x2800 + bits;
      text += String.fromCharCode(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f));
    }
    if (y !== canvas.height - 1) text += "\n";
  }
  return text;
}

/** LOLWUT [columns] [squares-per-row] [squares-per-col] (66, 8, 12). */
function lolwut5(args: string[]): string {
  const cols = clamp(args.length > 0 ? longArg(args[0]!) : 66, 1, 1000);
  const perRow = clamp(args.length > 1 ? longArg(args[1]!) : 8, 1, 200);
  const perCol = clamp(args.length > 2 ? longArg(args[2]!) : 12, 1, 200);
  return `${renderBraille(schotter(cols, perRow, perCol))}\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. ${REDIS_COMPAT_VERSION}\n`;
}

// ---------------------------------------------------------------------------------- LOLWUT 6

interface Skyscraper {
  xoff: number;
  width: number;
  height: number;
  windows: boolean;
  color: number;
}

function skyscraper(canvas: Canvas, s: Skyscraper): void {
  const starty = canvas.height - 1;
  const endy = starty - s.height + 1;
  for (let y = starty; y >= endy; y--) {
    for (let x = s.xoff; x < s.xoff + s.width; x++) {
      // The roof is four pixels narrower.
      if (y === endy && (x <= s.xoff + 1 || x >= s.xoff + s.width - 2)) continue;
      let color = s.color;
      if (s.windows && x > s.xoff + 1 && x < s.xoff + s.width - 2 && y > endy + 1 && y < starty - 1) {
        const relx = x - (s.xoff + 1);
        const rely = y - (endy + 1);
        // Windows two pixels wide, one tall (terminal cells are not square), in a random gray.
        if (toInt(relx / 2) % 2 && rely % 2) {
          do color = 1 + (rand() % 2);
          while (color === s.color);
          if (relx % 2) color = canvas.get(x - 1, y);
        }
      }
      canvas.set(x, y, color);
    }
  }
}

/** Two layers of gray buildings behind a black one with windows (8-bit parallax backgrounds). */
function skyline(canvas: Canvas): void {
  const h = canvas.height;
  for (let color = 2; color >= 1; color--) {
    for (let offset = -10; offset < canvas.width; ) {
      offset += rand() % 8;
      const width = 10 + (rand() % 9);
      const height = color === 2 ? toInt(h / 2) + toInt((rand() % h) / 2) : toInt(h / 2) + toInt((rand() % h) / 3);
      skyscraper(canvas, { xoff: offset, width, height, windows: false, color });
      offset += color === 2 ? toInt(width / 2) : width + 1;
    }
  }
  for (let offset = -10; offset < canvas.width; ) {
    offset += rand() % 8;
    let width = 5 + (rand() % 14);
    if (width % 4) width += width % 3;
    const height = toInt(h / 3) + toInt((rand() % h) / 2);
    skyscraper(canvas, { xoff: offset, width, height, windows: true, color: 0 });
    offset += width + 5;
  }
}

const GRAYS = ["0;30;40m", "0;90;100m", "0;37;47m", "0;97;107m"];

function renderColors(canvas: Canvas): string {
  let text = "";
  for (let y = 0; y < canvas.height; y++) {
    for (let x = 0; x < canvas.width; x++) text += `\x1b[${GRAYS[canvas.get(x, y)] ?? GRAYS[0]} \x1b[0m`;
    if (y !== canvas.height - 1) text += "\n";
  }
  return text;
}

/** LOLWUT [columns] [rows] (80, 20). */
function lolwut6(args: string[]): string {
  const cols = clamp(args.length > 0 ? longArg(args[0]!) : 80, 1, 1000);
  const rows = clamp(args.length > 1 ? longArg(args[1]!) : 20, 1, 1000);
  const canvas = new Canvas(cols, rows, 3);
  skyline(canvas);
  return `${renderColors(canvas)}\nDedicated to the 8 bit game developers of past and present.\nOriginal 8 bit image from Plaguemon by hikikomori. Redis ver. ${REDIS_COMPAT_VERSION}\n`;
}

export const handlers: HandlerMap = {
  lolwut(c, argv) {
    let args = argv.slice(1);
    let version: number | null = null;
    if (argv.length >= 3 && argv[1]!.toLowerCase() === "version") {
      // Redis formats the version as "%u.0.0" of the number cast to unsigned int.
      version = Number(BigInt.asUintN(32, BigInt(longArg(argv[2]!))));
      args = argv.slice(3);
    }
    if (version === 5) return c.reply.verbatim(lolwut5(args));
    if (version === 6) return c.reply.verbatim(lolwut6(args));
    c.reply.verbatim(`Redis ver. ${REDIS_COMPAT_VERSION}\n`);
  },
};
