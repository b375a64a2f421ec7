// `--json` output written from the log's columns (JsonLinesWriter) must be the bytes the object path
// writes: JSON.stringify(event) + '\n' per event, the missed line, batch by batch. Random logs are printed
// both ways from the same FrameLog and compared byte for byte.
import { describe, expect, it } from 'vitest';
import { FrameLog, PREVIEW_BYTES, preview } from '../echo/frame-log';
import { JsonLinesWriter } from '../echo/json-lines';
import { seeded } from '../echo/testing';
import type { LogEvent } from '../echo';
import type { Io } from './command';
import { printLog } from './print-log';

/** The same cases on every run. */
const rng = seeded;

/** Text that JSON escapes every way: quotes, backslash, controls, DEL, U+2028/9, astral, non-BMP. */
const AWKWARD = [
  '"',
  '\\',
  '\n',
  '\r',
  '\t',
  '\b',
  '\f',
  '\u0000',
  '\u0001',
  '\u001f',
  '\u007f',
  '/',
  '\u2028',
  '\u2029',
  'é',
  '€',
  '😀',
  '\ufeff',
  'a',
  ' ',
  '{"k":[1,2]}',
];

function randomBytes(r: () => number, size: number, below: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = Math.floor(r() * below);
  return b;
}

function payload(r: () => number): Buffer {
  const sizes = [0, 1, 2, 3, 4, 31, 32, 33, 191, 192, 193, 1024, 4095, 4096, 4097, 4098, 6000];
  const size =
    r() < 0.5 ? (sizes[Math.floor(r() * sizes.length)] as number) : Math.floor(r() * 300);
  const kind = Math.floor(r() * 5);
  if (kind === 0) return randomBytes(r, size, 256);
  if (kind === 1) return Buffer.alloc(size, 0x20 + Math.floor(r() * 95));
  if (kind === 2) return randomBytes(r, size, 128);
  const parts: string[] = [];
  for (let bytes = 0; bytes < size;) {
    const part = AWKWARD[Math.floor(r() * AWKWARD.length)] as string;
    parts.push(part);
    bytes += Buffer.byteLength(part);
  }
  const b = Buffer.from(parts.join(''));
  // kind 4: invalid UTF-8 too (a lone continuation byte, an encoded surrogate), and cut anywhere.
  if (kind === 4 && b.length > 0) {
    b[Math.floor(r() * b.length)] = r() < 0.5 ? 0x80 : 0xed;
    return b.subarray(0, Math.floor(r() * (b.length + 1)));
  }
  return b;
}

const SERVERS = ['ws', 'wss', 'proxy', 'a "quoted" \\ id é', '\ud800lone'];

function randomObject(r: () => number, serverId: string): Parameters<FrameLog['add']>[0] {
  const conn = 1 + Math.floor(r() * 1000);
  const text = (payload(r).toString('utf8') + '\ud83d').slice(0, 40); // a lone surrogate at times
  switch (Math.floor(r() * 7)) {
    case 0:
      return {
        type: 'open',
        serverId,
        conn,
        remoteAddress: '127.0.0.1',
        remotePort: 50000,
        url: `ws://localhost/${text}`,
        origin: r() < 0.5 ? null : text,
        userAgent: null,
        requestedProtocols: ['a', text],
        protocol: null,
        extensions: '',
        tls: null,
      };
    case 1:
      return {
        type: 'close',
        serverId,
        conn,
        code: 1000,
        reason: text,
        by: 'client',
        clean: true,
      };
    case 2:
      return { type: 'error', serverId, code: 'WS_ERR_X', message: text, closeCode: 1002 };
    case 3:
      return {
        type: 'http',
        serverId,
        method: 'GET',
        path: `/${text}`,
        status: 200,
        durationMs: 1.5,
      };
    case 4:
      return { type: 'fault', serverId, conn, fault: 'drop', dir: 'in', message: text };
    case 5:
      return {
        type: 'frame',
        serverId,
        conn,
        dir: 'out',
        opcode: 'close',
        length: 2 + Buffer.byteLength(text),
        ...preview(Buffer.from(text), 'utf8'),
        closeCode: 4000,
        closeReason: text,
      };
    default:
      return {
        type: 'frame',
        serverId,
        conn,
        dir: 'out',
        opcode: r() < 0.5 ? 'text' : 'binary',
        length: 3,
        ...preview(payload(r), r() < 0.5 ? 'utf8' : 'base64'),
        source: 'injected',
        note: text,
      };
  }
}

interface Printed {
  /** The --json output as stdout got it. */
  bytes: () => Buffer;
}

/** printLog() with stdout taking lines (strings, JSON.stringify per event: the reference). */
function linesIo(queued: { bytes: number }): Io & Printed {
  const out: string[] = [];
  return {
    out: (l) => out.push(l + '\n'),
    outLines: (ls) => out.push(ls.join('\n') + '\n'),
    outQueued: () => queued.bytes,
    err: () => {},
    env: {},
    cwd: '/',
    interrupted: new Promise(() => {}),
    bytes: () => Buffer.from(out.join(''), 'utf8'),
  };
}

/**
 * printLog() with stdout taking bytes (JsonLinesWriter). A chunk it reports taken is copied now (the writer
 * reuses its buffer); one it reports queued is kept as given and read only at the end, so reusing a buffer
 * stdout still holds would show.
 */
function bytesIo(queued: { bytes: number }, r: () => number): Io & Printed {
  const chunks: Uint8Array[] = [];
  return {
    ...linesIo(queued),
    outBytes: (b) => {
      const taken = r() < 0.7;
      chunks.push(taken ? Buffer.from(b) : b);
      return taken;
    },
    bytes: () => Buffer.concat(chunks),
  };
}

function run(seed: number): { reference: Buffer; written: Buffer; events: number } {
  const r = rng(seed);
  const log = new FrameLog({ capacity: 200 + Math.floor(r() * 3000), flushMs: 1000 });
  const queued = { bytes: 0 };
  const ref = linesIo(queued);
  const fast = bytesIo(queued, r);
  printLog(log, ref, true);
  printLog(log, fast, true);
  let events = 0;
  for (let step = 0; step < 25; step++) {
    const n = Math.floor(r() * (r() < 0.1 ? 3000 : 120));
    for (let i = 0; i < n; i++) {
      const serverId = SERVERS[Math.floor(r() * SERVERS.length)] as string;
      events++;
      if (r() < 0.08) {
        log.add(randomObject(r, serverId));
        continue;
      }
      const opcodes = ['text', 'binary', 'ping', 'pong'] as const;
      const opcode = opcodes[Math.floor(r() * 4)] as (typeof opcodes)[number];
      const data = payload(r);
      const conn = r() < 0.05 ? 2 ** 31 + Math.floor(r() * 1e6) : Math.floor(r() * 70_000);
      log.addFrame(serverId, conn, 'in', opcode, data);
      if (r() < 0.6) {
        // The echo: same capture (an echo server), or the same bytes copied again (the proxy).
        events++;
        log.addFrame(serverId, conn, 'out', opcode, data, r() < 0.7);
      }
    }
    // stdout backed up now and then: both skip the batch and count it.
    queued.bytes = r() < 0.15 ? 2 * 1024 * 1024 : 0;
    log.flush();
  }
  queued.bytes = 0;
  log.flush();
  return { reference: ref.bytes(), written: fast.bytes(), events };
}

describe('printLog --json from the columns', () => {
  it('writes exactly the bytes of JSON.stringify per event, across batches, skips and missed counts', () => {
    let lines = 0;
    let missed = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const { reference, written } = run(seed);
      if (!written.equals(reference)) {
        // Name the first line that differs.
        const a = reference.toString().split('\n');
        const b = written.toString().split('\n');
        const i = a.findIndex((l, k) => l !== b[k]);
        expect({ seed, line: i, written: b[i] }).toEqual({ seed, line: i, written: a[i] });
      }
      expect(written.equals(reference)).toBe(true);
      const text = reference.toString();
      lines += text.split('\n').length - 1;
      missed += (text.match(/^\{"type":"missed"/gm) ?? []).length;
    }
    // The runs did cover what they are for: many frames, batches skipped and counted.
    expect(lines).toBeGreaterThan(20_000);
    expect(missed).toBeGreaterThan(10);
  });

  it('writes a frame exactly as JSON.stringify does, for every time fraction and odd numbers', () => {
    const w = new JsonLinesWriter();
    const data = Buffer.from('0123456789abcdef"\\\u0001é'.repeat(400));
    const times = [0, 1, 1.5, 1e21, 5e-7, 2 ** 40 - 0.25, 2 ** 41, 2 ** 41 + 0.5, Date.now()];
    for (const base of [2 ** 40, 1_796_180_510_295, 2 ** 41 - 1]) {
      for (let k = 0; k < 4096; k++) times.push(base + k / 4096);
    }
    const ints = [
      0,
      9,
      10,
      99,
      100,
      2 ** 31 - 1,
      2 ** 31,
      1e8 - 1,
      1e8,
      123_456_789_012,
      1e16,
      2.5,
      -1,
      NaN,
    ];
    times.forEach((time, i) => {
      const conn = ints[i % ints.length] as number;
      const length = ints[(i + 3) % ints.length] as number;
      const seq = ints[(i + 7) % ints.length] as number;
      const opcode = (['text', 'binary', 'ping', 'pong'] as const)[i % 4] as 'text';
      const len = i % (PREVIEW_BYTES + 2);
      const off = i % 97;
      const e: LogEvent = {
        type: 'frame',
        serverId: 'ws',
        conn,
        dir: i % 3 ? 'in' : 'out',
        opcode,
        length,
        ...preview(data.subarray(off, off + len), opcode === 'text' ? 'utf8' : 'base64'),
        seq,
        time,
      };
      w.begin();
      w.frame('ws', conn, e.dir, opcode, length, data, off, len, e.truncated, seq, time);
      expect(w.bytes().toString()).toBe(JSON.stringify(e) + '\n');
    });
  });
});
