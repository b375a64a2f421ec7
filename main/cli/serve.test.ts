// How `wss-studio serve` prints the frame log: one write per batch, bounded batches, and skipped (counted)
// batches while stdout is backed up, so a slow terminal costs events, never socket time (bench/shells.mjs).
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_PUSH_EVENTS, FrameLog, preview } from '../echo/frame-log';
import type { LogEvent } from '../echo';
import type { Io } from './command';
import { formatEvent, printLog } from './print-log';

function fakeIo(queued: { bytes: number }) {
  const writes: string[][] = [];
  const io: Io = {
    out: (l) => writes.push([l]),
    outLines: (ls) => writes.push([...ls]),
    outQueued: () => queued.bytes,
    err: () => {},
    env: {},
    cwd: '/',
    interrupted: new Promise(() => {}),
  };
  return { io, writes };
}

const text = (i: number) => ({
  type: 'frame' as const,
  serverId: 'ws',
  conn: 1,
  dir: 'in' as const,
  opcode: 'text' as const,
  length: 4,
  ...preview(Buffer.from(`m${i}`), 'utf8'),
});

describe('printLog', () => {
  it('writes each batch as one chunk, a line per event', () => {
    const log = new FrameLog({ flushMs: 1000 });
    const { io, writes } = fakeIo({ bytes: 0 });
    printLog(log, io, false);
    for (let i = 0; i < 300; i++) log.add(text(i));
    log.flush();
    expect(writes.length).toBe(1);
    expect(writes[0]?.length).toBe(300);
    expect(writes[0]?.[299]).toMatch(/ ws#1 <- text 4 B "m299"$/);
  });

  it('prints at most one bounded batch per push and says how many it left out', () => {
    const log = new FrameLog({ flushMs: 1000 });
    const { io, writes } = fakeIo({ bytes: 0 });
    printLog(log, io, true);
    const n = DEFAULT_MAX_PUSH_EVENTS + 1500;
    for (let i = 0; i < n; i++) log.add(text(i));
    log.flush();
    expect(writes.length).toBe(1);
    const lines = writes[0] as string[];
    expect(JSON.parse(lines[0] as string)).toEqual({ type: 'missed', count: 1500 });
    expect(lines.length).toBe(DEFAULT_MAX_PUSH_EVENTS + 1);
    expect(JSON.parse(lines.at(-1) as string)).toMatchObject({
      type: 'frame',
      preview: `m${n - 1}`,
    });
  });

  it('skips batches while stdout has more than 1 MiB unwritten, then reports them once', () => {
    const log = new FrameLog({ flushMs: 1000 });
    const queued = { bytes: 2 * 1024 * 1024 };
    const { io, writes } = fakeIo(queued);
    printLog(log, io, false);
    for (let i = 0; i < 100; i++) log.add(text(i));
    log.flush();
    for (let i = 100; i < 130; i++) log.add(text(i));
    log.flush();
    expect(writes).toEqual([]);
    queued.bytes = 0;
    log.add(text(130));
    log.flush();
    expect(writes).toEqual([
      [
        '(130 events not shown: the log was busier than the terminal)',
        expect.stringMatching(/"m130"$/),
      ],
    ]);
  });
});

describe('formatEvent', () => {
  it('stamps each event with its own second (UTC), milliseconds and microseconds', () => {
    const at = (time: number) => formatEvent({ ...text(1), seq: 1, time } as LogEvent).slice(0, 15);
    expect(at(Date.UTC(2026, 0, 1, 10, 20, 30) + 5.25)).toBe('10:20:30.005250');
    expect(at(Date.UTC(2026, 0, 1, 10, 20, 30) + 999.5)).toBe('10:20:30.999500');
    expect(at(Date.UTC(2026, 0, 1, 10, 20, 31))).toBe('10:20:31.000000');
    expect(at(Date.UTC(2026, 0, 1, 23, 59, 59) + 1)).toBe('23:59:59.001000');
  });

  it('shows binary payloads as the hex of their first 24 bytes', () => {
    const bytes = Buffer.from(Array.from({ length: 30 }, (_, i) => i));
    const e = {
      ...text(1),
      opcode: 'binary' as const,
      length: 30,
      ...preview(bytes, 'base64'),
      seq: 1,
      time: 0,
    };
    expect(formatEvent(e as LogEvent)).toMatch(
      new RegExp(` <- binary 30 B 0x${bytes.subarray(0, 24).toString('hex')}…$`),
    );
    const short = { ...e, length: 3, ...preview(Buffer.from([0xde, 0xad, 0xbe]), 'base64') };
    expect(formatEvent(short as LogEvent)).toMatch(/ <- binary 3 B 0xdeadbe$/);
  });

  it('prints what a peer sent that a terminal would act on escaped, whatever the field', () => {
    // CSI as one C1 character (clear screen), an OSC title sequence, a bidi override, a line separator.
    const hostile = '/x\u009b2J\u001b]0;pwned\u0007\u202egnp.exe\u2028y\u007f';
    const http = {
      type: 'http',
      serverId: 'proxy',
      method: 'GET',
      path: hostile,
      status: 404,
      durationMs: 1,
      seq: 1,
      time: 0,
    };
    const frame = { ...text(1), ...preview(Buffer.from(hostile), 'utf8'), seq: 2, time: 0 };
    const closed = {
      type: 'close',
      serverId: 'ws',
      conn: 1,
      code: 4000,
      reason: hostile,
      by: 'client',
      clean: true,
      seq: 3,
      time: 0,
    };
    for (const e of [http, frame, closed]) {
      const line = formatEvent(e as LogEvent);
      const unsafe = [...line].filter((c) => {
        const n = c.codePointAt(0) as number;
        return (
          n < 0x20 ||
          (n >= 0x7f && n <= 0x9f) ||
          n === 0x2028 ||
          n === 0x2029 ||
          (n >= 0x202a && n <= 0x202e) ||
          (n >= 0x2066 && n <= 0x2069)
        );
      });
      expect(unsafe).toEqual([]);
      expect(line).toContain('\\u009b2J');
      expect(line).toContain('\\u202egnp.exe');
    }
    expect(formatEvent(http as LogEvent)).toContain(
      'GET /x\\u009b2J\\u001b]0;pwned\\u0007\\u202egnp.exe\\u2028y\\u007f 404',
    );
  });
});
