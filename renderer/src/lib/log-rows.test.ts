// The frame log's row mapping and filter (pure: no DOM, no runes).
import { describe, expect, it } from 'vitest';
import type { LogEventDto } from '../../../shared/api';
import { matches, toRow, type LogFilter } from './log-rows';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const none: LogFilter = { server: '', conn: '', dir: '', opcode: '', search: '' };

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
