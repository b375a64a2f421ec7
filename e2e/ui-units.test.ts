// Unit tests for the renderer's pure helpers (no DOM, no Svelte): payload parsing and formatting used by
// the Client and Frame log screens, and the frame-log row mapping and filter.
import { describe, expect, it } from 'vitest';
import type { LogEventDto } from '../shared/api';
import {
  base64ToBytes,
  bytesToBase64,
  countdown,
  errorText,
  expiryTone,
  formatBytes,
  hexDump,
  parseBase64,
  parseHex,
  prettyJson,
} from '../renderer/src/lib/format';
import { matches, toRow, type LogFilter } from '../renderer/src/lib/log-rows';
import { splitNames } from '../renderer/src/lib/names';

const DAY = 86_400_000;
const NOW = Date.parse('2026-01-01T00:00:00Z');
const none: LogFilter = { server: '', conn: '', dir: '', opcode: '', search: '' };

describe('payload helpers', () => {
  it('parses hex in the forms people paste and names the bad digit', () => {
    expect(Array.from(parseHex('de ad BE ef').bytes!)).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(Array.from(parseHex('0xde,0xad').bytes!)).toEqual([0xde, 0xad]);
    expect(Array.from(parseHex('de:ad').bytes!)).toEqual([0xde, 0xad]);
    expect(parseHex('dea').error).toBe('odd number of hex digits (3)');
    expect(parseHex('de zz').error).toBe('"z" is not a hex digit');
  });

  it('round-trips base64 and refuses what is not base64', () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    expect(Array.from(base64ToBytes(bytesToBase64(bytes)))).toEqual(Array.from(bytes));
    expect(Array.from(parseBase64('3q2+7w==').bytes!)).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(parseBase64('not base64!').error).toBe('not valid base64');
  });

  it('hex-dumps with offsets and printable ASCII', () => {
    const dump = hexDump(new TextEncoder().encode('Hello, WebSocket world!'));
    const lines = dump.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(
      '00000000  48 65 6c 6c 6f 2c 20 57 65 62 53 6f 63 6b 65 74  Hello, WebSocket',
    );
    expect(lines[1]!.startsWith('00000010  20 77 6f 72 6c 64 21')).toBe(true);
    expect(hexDump(new Uint8Array(40), 16)).toContain('... 24 more bytes');
  });

  it('pretty-prints JSON objects and arrays only', () => {
    expect(prettyJson('{"a":[1,2]}')).toBe('{\n  "a": [\n    1,\n    2\n  ]\n}');
    expect(prettyJson('42')).toBeNull();
    expect(prettyJson('{broken')).toBeNull();
  });
});

describe('formatting', () => {
  it('formats sizes and expiry countdowns with their tone', () => {
    expect(formatBytes(7)).toBe('7 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(16 * 1024 * 1024)).toBe('16.0 MiB');
    expect(countdown(new Date(NOW + 24 * DAY).toISOString(), NOW)).toBe('in 24 days');
    expect(countdown(new Date(NOW - 3 * DAY).toISOString(), NOW)).toBe('expired 3 days ago');
    // The CLI's rule (shared/validity.ts): a fresh --days 1 certificate is "in 1 day", not "0d"/"today",
    // and a fresh 825-day one is 825 (the CLI printed 824).
    expect(countdown(new Date(NOW + DAY - 50).toISOString(), NOW)).toBe('in 1 day');
    expect(countdown(new Date(NOW + 825 * DAY - 50).toISOString(), NOW)).toBe('in 825 days');
    expect(expiryTone(new Date(NOW + 90 * DAY).toISOString(), NOW)).toBe('ok');
    expect(expiryTone(new Date(NOW + 10 * DAY).toISOString(), NOW)).toBe('warn');
    expect(expiryTone(new Date(NOW - DAY).toISOString(), NOW)).toBe('bad');
  });

  it('reads the API error shape into message and hint', () => {
    expect(
      errorText({
        code: 'X',
        action: 'start server',
        cause: 'port 1 is busy',
        hint: 'pick another',
      }),
    ).toEqual({
      message: 'failed to start server: port 1 is busy',
      hint: 'pick another',
      code: 'X',
    });
    expect(errorText('boom')).toEqual({ message: 'boom' });
  });

  it('splits the names field on spaces and commas', () => {
    expect(splitNames(' localhost, 127.0.0.1  ::1,,*.app.test ')).toEqual([
      'localhost',
      '127.0.0.1',
      '::1',
      '*.app.test',
    ]);
  });
});

describe('frame-log rows', () => {
  const frame = (
    seq: number,
    dir: 'in' | 'out',
    preview: string,
    opcode: 'text' | 'binary' = 'text',
  ): LogEventDto => ({
    seq,
    time: NOW + seq,
    serverId: 'ws-1',
    type: 'frame',
    conn: 3,
    dir,
    opcode,
    length: preview.length,
    preview,
    previewEncoding: opcode === 'text' ? 'utf8' : 'base64',
    truncated: false,
  });

  it('maps frames, opens, closes and errors to rows', () => {
    const r = toRow(frame(5, 'in', 'Hello'));
    expect(r).toMatchObject({
      seq: 5,
      conn: '3',
      dir: 'in',
      opcode: 'text',
      length: 5,
      preview: 'Hello',
    });
    expect(Object.isFrozen(r)).toBe(true);
    const open = toRow({
      seq: 1,
      time: NOW,
      serverId: 'ws-1',
      type: 'open',
      conn: 3,
      remoteAddress: '127.0.0.1',
      remotePort: 5000,
      url: 'ws://localhost/',
      origin: 'http://localhost:3000',
      userAgent: null,
      requestedProtocols: ['chat'],
      protocol: 'chat',
      extensions: '',
      tls: { version: 'TLSv1.3', cipher: null },
    });
    expect(open.opcode).toBe('open');
    expect(open.summary).toBe('127.0.0.1 · Origin http://localhost:3000 · protocol chat · TLSv1.3');
    const mtls = toRow({
      seq: 8,
      time: 1,
      serverId: 's',
      type: 'open',
      conn: 4,
      remoteAddress: '127.0.0.1',
      remotePort: 5001,
      url: 'wss://localhost/',
      origin: null,
      userAgent: null,
      requestedProtocols: [],
      protocol: null,
      extensions: '',
      tls: { version: 'TLSv1.3', cipher: null },
      clientCert: {
        subject: 'O=WSS Studio development certificate, OU=me@host, CN=dev@app.test',
        issuer: 'CN=WSS Studio me@host',
        sans: ['email:dev@app.test'],
        fingerprint256: 'AB:CD',
        notAfter: '2027-01-01T00:00:00.000Z',
      },
    });
    expect(mtls.summary).toBe('127.0.0.1 · TLSv1.3 · client cert dev@app.test');
    const close = toRow({
      seq: 9,
      time: NOW,
      serverId: 'ws-1',
      type: 'close',
      conn: 3,
      code: 4000,
      reason: 'bye',
      by: 'client',
      clean: true,
    });
    expect(close.summary).toBe('code 4000 "bye" by client');
    const err = toRow({
      seq: 10,
      time: NOW,
      serverId: 'ws-1',
      type: 'error',
      code: 'WS_ERR_INVALID_UTF8',
      message: 'invalid UTF-8',
      closeCode: 1007,
    });
    expect(err).toMatchObject({
      opcode: 'error',
      conn: '',
      summary: 'WS_ERR_INVALID_UTF8: invalid UTF-8',
    });
  });

  it('filters by server, connection, direction, opcode and text, case-insensitively', () => {
    const rows = [
      frame(1, 'in', 'Hello'),
      frame(2, 'out', 'Hello'),
      frame(3, 'in', '3q2+7w==', 'binary'),
    ].map(toRow);
    const pick = (f: Partial<LogFilter>) =>
      rows.filter((r) => matches(r, { ...none, ...f })).map((r) => r.seq);
    expect(pick({})).toEqual([1, 2, 3]);
    expect(pick({ dir: 'in' })).toEqual([1, 3]);
    expect(pick({ opcode: 'binary' })).toEqual([3]);
    expect(pick({ search: 'hello' })).toEqual([1, 2]);
    expect(pick({ search: 'hello', dir: 'out' })).toEqual([2]);
    expect(pick({ server: 'other' })).toEqual([]);
    expect(pick({ conn: '3' })).toEqual([1, 2, 3]);
    expect(pick({ conn: '4' })).toEqual([]);
    // Binary payloads are not searched as text (their preview is base64).
    expect(pick({ search: '7w==' })).toEqual([]);
  });
});
