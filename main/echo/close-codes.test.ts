import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { closeCodeOf, WS_ERROR_CLOSE_CODES } from './close-codes';

// ws's frame parser, fed hostile frames directly: the close code ws itself sends for each error (kept under
// a private symbol) must be the one our table gives for the error's public code.
const { Receiver } = createRequire(import.meta.url)('ws') as {
  Receiver: new (opts: { isServer: boolean; maxPayload: number }) => Writable;
};

function wsError(frame: number[]): Promise<Error & { code?: string }> {
  const r = new Receiver({ isServer: true, maxPayload: 16 });
  return new Promise((resolve, reject) => {
    r.on('error', resolve);
    r.write(Buffer.from(frame), () => {});
    setTimeout(() => reject(new Error('ws accepted the frame')), 1_000);
  });
}

function wsStatusCode(err: object): unknown {
  const sym = Object.getOwnPropertySymbols(err).find((s) => s.description === 'status-code');
  return sym ? (err as Record<symbol, unknown>)[sym] : undefined;
}

const MASK = [0, 0, 0, 0];

describe('close codes for ws protocol errors', () => {
  const cases: Array<[string, number[]]> = [
    ['invalid opcode', [0x83, 0x80, ...MASK]],
    ['RSV2 set', [0xa1, 0x80, ...MASK]],
    ['RSV1 without permessage-deflate', [0xc1, 0x80, ...MASK]],
    ['unmasked client frame', [0x81, 0x00]],
    ['fragmented ping', [0x09, 0x80, ...MASK]],
    ['ping longer than 125 bytes', [0x89, 0xfe, 0x00, 0x7e, ...MASK]],
    ['invalid UTF-8 text', [0x81, 0x81, ...MASK, 0xff]],
    ['message over maxPayload', [0x82, 0x91, ...MASK, ...new Array<number>(17).fill(0)]],
    ['close code 999', [0x88, 0x82, ...MASK, 0x03, 0xe7]],
    ['invalid UTF-8 close reason', [0x88, 0x83, ...MASK, 0x03, 0xe8, 0xff]],
  ];
  for (const [what, frame] of cases) {
    it(`${what}: the table's code is ws's own`, async () => {
      const err = await wsError(frame);
      expect(err.code).toMatch(/^WS_ERR_/);
      expect(Object.keys(WS_ERROR_CLOSE_CODES)).toContain(err.code);
      expect(closeCodeOf(err.code)).toBe(wsStatusCode(err));
    });
  }

  it('bad deflate data (zlib codes) is 1007, anything unknown 1002', () => {
    expect(closeCodeOf('Z_DATA_ERROR')).toBe(1007);
    expect(closeCodeOf('Z_BUF_ERROR')).toBe(1007);
    expect(closeCodeOf('SOMETHING_ELSE')).toBe(1002);
    expect(closeCodeOf(undefined)).toBe(1002);
  });
});
