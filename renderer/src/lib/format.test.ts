// Payload parsing and formatting used by the Client and Frame log screens (pure: no DOM, no runes).
import { describe, expect, it } from 'vitest';
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
} from './format';

const DAY = 86_400_000;
const NOW = Date.parse('2026-01-01T00:00:00Z');

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
});
