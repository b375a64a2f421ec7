// Frame-log events as JSON Lines, written into one reusable byte buffer: the bytes of
// `JSON.stringify(event) + '\n'` exactly (same key order, same numbers, same escapes), but for columnar frames
// (FrameLog.visit) without the event object, the preview string, the line strings and their join and UTF-8
// copy. That was ~1.3 µs per event, the CLI's largest cost after the sockets at 70,000 frames a second
// (`wss-studio proxy --json`). Other events (open, close, errors, injected frames) go through JSON.stringify.
import { PREVIEW_BYTES, type EventSink } from './frame-log';
import type { LogEvent } from './types';

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');
const FRAME_HEAD = '{"type":"frame","serverId":';
/** `,"dir":..,"opcode":..,"length":` by dir (out: +4) and opcode. */
const DIR_OPCODE = ['in', 'out'].flatMap((dir) =>
  ['text', 'binary', 'ping', 'pong'].map((op) =>
    ascii(`,"dir":"${dir}","opcode":"${op}","length":`),
  ),
);
const OPCODE_INDEX = { text: 0, binary: 1, ping: 2, pong: 3 } as const;
const PREVIEW_KEY = ascii(',"preview":"');
/** `","previewEncoding":..,"truncated":..,"seq":` by encoding (base64: +2) and truncated (+1). */
const ENC_TRUNC = ['utf8', 'base64'].flatMap((enc) =>
  [false, true].map((t) => ascii(`","previewEncoding":"${enc}","truncated":${t},"seq":`)),
);
const TIME_KEY = ascii(',"time":');
const B64 = ascii('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');
/** Above this many payload bytes, Buffer's native base64 (through a string) beats the JS loop. */
const B64_LOOP_MAX = 192;
/** JSON escape of each ASCII byte: 0 = as is, else the letter after the backslash (u: \u00XX). */
const ESC = new Uint8Array(128);
for (let c = 0; c < 0x20; c++) ESC[c] = 0x75; // u
ESC[0x08] = 0x62; // \b
ESC[0x09] = 0x74; // \t
ESC[0x0a] = 0x6e; // \n
ESC[0x0c] = 0x66; // \f
ESC[0x0d] = 0x72; // \r
ESC[0x22] = 0x22; // \"
ESC[0x5c] = 0x5c; // \\
const HEX = ascii('0123456789abcdef');
/** "00" to "99". */
const PAIRS = ascii(Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0')).join(''));
const INITIAL_BYTES = 64 * 1024;

/**
 * The n-digit decimal (as an integer m: m / 10^n) closest to the fraction k / 4096 (ties: even m), or -1 if
 * it does not read back as it (|m / 10^n - k / 4096| < 1 / 8192; never equal for n < 13).
 */
function fractionDigits(k: number, n: number): number {
  const p10 = n === 1 ? 10 : n === 2 ? 100 : n === 3 ? 1000 : 10_000;
  const x = k * p10; // the fraction is x / 4096 in units of 10^-n
  let m = Math.floor(x / 4096);
  const r = x - m * 4096;
  if (r > 2048 || (r === 2048 && (m & 1) === 1)) m++;
  return Math.abs(8192 * m - 2 * x) < p10 ? m : -1;
}

export class JsonLinesWriter implements EventSink {
  private buf = Buffer.allocUnsafe(INITIAL_BYTES);
  private pos = 0;
  /** serverId of the last frame and its `{"type":"frame","serverId":"..","conn":` bytes. */
  private sid: string | undefined;
  private sidHead = ascii('');
  /** The last preview written (an echo's in and out frames share one capture): its source and bytes. */
  private prevData: Buffer | undefined;
  private prevOff = -1;
  private prevLen = -1;
  private prevB64 = false;
  private prevStart = 0;
  private prevEnd = 0;

  /** Start a new chunk (the bytes of the previous one are overwritten). */
  begin(): void {
    this.pos = 0;
    this.prevData = undefined;
  }

  /** The chunk: every line written since begin(), each ending in '\n'. Valid until the next begin(). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  get length(): number {
    return this.pos;
  }

  /** The last chunk is still referenced (stdout queued it): write the next ones into a fresh buffer. */
  detach(): void {
    this.buf = Buffer.allocUnsafe(this.buf.length);
    this.pos = 0;
    this.prevData = undefined;
  }

  /** A line as it is (no newline in it), then '\n'. */
  line(s: string): void {
    this.room(s.length * 3 + 1);
    this.pos += this.buf.write(s, this.pos, 'utf8');
    this.buf[this.pos++] = 0x0a;
  }

  event(e: LogEvent): void {
    this.line(JSON.stringify(e));
  }

  frame(
    serverId: string,
    conn: number,
    dir: 'in' | 'out',
    opcode: 'text' | 'binary' | 'ping' | 'pong',
    length: number,
    data: Buffer,
    off: number,
    len: number,
    truncated: boolean,
    seq: number,
    time: number,
  ): void {
    const b64 = opcode !== 'text';
    const n = Math.min(len, PREVIEW_BYTES);
    // Worst cases: 6 bytes per previewed byte (\u00XX); keys (116 bytes) and 4 numbers (24 each) in 320.
    this.room(n * 6 + serverId.length * 6 + 320);
    if (serverId !== this.sid) this.setServer(serverId);
    this.put(this.sidHead);
    this.int(conn);
    this.put(DIR_OPCODE[(dir === 'out' ? 4 : 0) + OPCODE_INDEX[opcode]] as Buffer);
    this.int(length);
    this.put(PREVIEW_KEY);
    const start = this.pos;
    if (
      data === this.prevData &&
      off === this.prevOff &&
      len === this.prevLen &&
      b64 === this.prevB64
    ) {
      this.buf.copyWithin(start, this.prevStart, this.prevEnd);
      this.pos += this.prevEnd - this.prevStart;
    } else {
      if (b64) this.base64(data, off, n);
      else this.text(data, off, len);
      this.prevData = data;
      this.prevOff = off;
      this.prevLen = len;
      this.prevB64 = b64;
      this.prevStart = start;
      this.prevEnd = this.pos;
    }
    this.put(ENC_TRUNC[(b64 ? 2 : 0) + (truncated ? 1 : 0)] as Buffer);
    this.int(seq);
    this.put(TIME_KEY);
    this.time(time);
    this.buf[this.pos++] = 0x7d; // }
    this.buf[this.pos++] = 0x0a;
  }

  private setServer(serverId: string): void {
    this.sid = serverId;
    this.sidHead = Buffer.from(`${FRAME_HEAD}${JSON.stringify(serverId)},"conn":`, 'utf8');
  }

  /** At least `n` more bytes of room, keeping what is written. */
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private put(chunk: Buffer): void {
    this.buf.set(chunk, this.pos); // a memmove, no C++ call
    this.pos += chunk.length;
  }

  /**
   * A log time as JSON.stringify (String()) writes it: the shortest decimal that reads back as the same
   * double, the closest one if there are two (ties: even last digit). Made with integers for times between
   * 2004 and 2039 (2^40 <= t < 2^41 ms, where doubles are multiples of 2^-12); others by JSON.stringify.
   * V8's own conversion (a runtime call) was a third of a frame line's cost.
   */
  private time(t: number): void {
    if (!(t >= 2 ** 40 && t < 2 ** 41)) {
      this.latin1(JSON.stringify(t));
      return;
    }
    const whole = Math.floor(t);
    const k = (t - whole) * 4096; // the fraction is exactly k / 4096, k an integer
    this.int(whole);
    if (k === 0) return;
    // The fewest digits n whose closest n-digit decimal lies within half a step (2^-13) of t: n <= 4 always
    // works (steps of 10^-4 < 2^-12), and if n works so does n + 1; 3 is tried first (4 is most common).
    let n = 4;
    if (fractionDigits(k, 3) >= 0) {
      n = 3;
      if (fractionDigits(k, 2) >= 0) n = fractionDigits(k, 1) >= 0 ? 1 : 2;
    }
    let m = fractionDigits(k, n);
    const buf = this.buf;
    let p = this.pos;
    buf[p] = 0x2e; // .
    p += n;
    this.pos = p + 1;
    for (let d = 0; d < n; d++, m = Math.floor(m / 10)) buf[p--] = 0x30 + (m % 10);
  }

  private latin1(s: string): void {
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** A non-negative integer as JSON.stringify writes it; any other number through JSON.stringify. */
  private int(v: number): void {
    if (v >= 0 && v <= 0x7fffffff && (v | 0) === v) {
      this.digits(v | 0, 0);
    } else if (v >= 0 && v < 1e16 && Math.floor(v) === v) {
      // Below 1e16 the quotient by 1e8 is exact to far better than 1e-8: two int32 halves.
      const hi = Math.floor(v / 1e8);
      this.digits(hi, 0);
      this.digits(v - hi * 1e8, 8);
    } else {
      this.latin1(JSON.stringify(v));
    }
  }

  /** Decimal digits of an int32 v >= 0, at least `width` of them (zero-padded). */
  private digits(v: number, width: number): void {
    let n =
      v < 100
        ? v < 10
          ? 1
          : 2
        : v < 10_000
          ? v < 1000
            ? 3
            : 4
          : v < 1_000_000
            ? v < 100_000
              ? 5
              : 6
            : v < 100_000_000
              ? v < 10_000_000
                ? 7
                : 8
              : v < 1_000_000_000
                ? 9
                : 10;
    if (n < width) n = width;
    const buf = this.buf;
    let p = this.pos + n;
    this.pos = p;
    // Two digits a step, from a table.
    for (; n >= 2; n -= 2) {
      const q = (v / 100) | 0;
      const r = (v - q * 100) * 2;
      buf[--p] = PAIRS[r + 1] as number;
      buf[--p] = PAIRS[r] as number;
      v = q;
    }
    if (n === 1) buf[--p] = 0x30 + v;
  }

  /** base64 of data[off, off + n), as Buffer#toString('base64') writes it. */
  private base64(data: Buffer, off: number, n: number): void {
    if (n > B64_LOOP_MAX) {
      this.pos += this.buf.write(data.toString('base64', off, off + n), this.pos, 'latin1');
      return;
    }
    const buf = this.buf;
    let p = this.pos;
    const end = off + n - (n % 3);
    let i = off;
    for (; i < end; i += 3) {
      const v =
        ((data[i] as number) << 16) | ((data[i + 1] as number) << 8) | (data[i + 2] as number);
      buf[p] = B64[v >>> 18] as number;
      buf[p + 1] = B64[(v >>> 12) & 63] as number;
      buf[p + 2] = B64[(v >>> 6) & 63] as number;
      buf[p + 3] = B64[v & 63] as number;
      p += 4;
    }
    const rest = off + n - end;
    if (rest > 0) {
      const v = ((data[i] as number) << 16) | (rest === 2 ? (data[i + 1] as number) << 8 : 0);
      buf[p] = B64[v >>> 18] as number;
      buf[p + 1] = B64[(v >>> 12) & 63] as number;
      buf[p + 2] = rest === 2 ? (B64[(v >>> 6) & 63] as number) : 0x3d;
      buf[p + 3] = 0x3d;
      p += 4;
    }
    this.pos = p;
  }

  /**
   * The JSON string content of a text preview: ASCII is escaped here as JSON.stringify does; a preview with
   * any other byte (UTF-8, or invalid bytes that decode to U+FFFD) goes through the string and JSON.stringify.
   */
  private text(data: Buffer, off: number, len: number): void {
    let end = off + Math.min(len, PREVIEW_BYTES);
    if (len > PREVIEW_BYTES) {
      // encodePreview(): back up over continuation bytes so the last character is whole.
      while (end > off && ((data[end] as number) & 0xc0) === 0x80) end--;
    }
    const buf = this.buf;
    const start = this.pos;
    let p = start;
    for (let i = off; i < end; i++) {
      const c = data[i] as number;
      if (c >= 0x80) {
        // The string's JSON brings its own quotes: it goes over the opening one, its closing one is dropped
        // (ENC_TRUNC starts with it).
        const json = JSON.stringify(data.toString('utf8', off, end));
        this.room(json.length * 3);
        this.pos = start - 1 + this.buf.write(json, start - 1, 'utf8') - 1;
        return;
      }
      const e = ESC[c] as number;
      if (e === 0) {
        buf[p++] = c;
      } else if (e !== 0x75) {
        buf[p++] = 0x5c;
        buf[p++] = e;
      } else {
        buf[p] = 0x5c;
        buf[p + 1] = 0x75;
        buf[p + 2] = 0x30;
        buf[p + 3] = 0x30;
        buf[p + 4] = HEX[c >>> 4] as number;
        buf[p + 5] = HEX[c & 15] as number;
        p += 6;
      }
    }
    this.pos = p;
  }
}
