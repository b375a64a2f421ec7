import { describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_MAX_PUSH_BYTES,
  DEFAULT_MAX_PUSH_EVENTS,
  FrameLog,
  preview,
  PREVIEW_BYTES,
} from './frame-log';
import { toHar } from './har';
import type { LogBatch } from './types';

const frame = (conn: number, text: string, dir: 'in' | 'out' = 'in') => ({
  type: 'frame' as const,
  serverId: 's1',
  conn,
  dir,
  opcode: 'text' as const,
  length: Buffer.byteLength(text),
  ...preview(Buffer.from(text), 'utf8'),
});

describe('FrameLog ring buffer', () => {
  it('keeps at most capacity events, oldest dropped and counted', () => {
    const log = new FrameLog({ capacity: 5 });
    for (let i = 0; i < 12; i++) log.add(frame(1, `m${i}`));
    expect(log.size).toBe(5);
    expect(log.total).toBe(12);
    expect(log.dropped).toBe(7);
    const evs = log.events();
    expect(evs.map((e) => (e.type === 'frame' ? e.preview : ''))).toEqual([
      'm7',
      'm8',
      'm9',
      'm10',
      'm11',
    ]);
    expect(evs.map((e) => e.seq)).toEqual([8, 9, 10, 11, 12]);
  });

  it('counts over one scope: received = held + dropped, reset by clear()', () => {
    const log = new FrameLog({ capacity: 5 });
    for (let i = 0; i < 12; i++) log.add(frame(1, `m${i}`));
    expect([log.received, log.size, log.dropped]).toEqual([12, 5, 7]);
    log.clear();
    expect([log.received, log.size, log.dropped]).toEqual([0, 0, 0]);
    for (let i = 0; i < 3; i++) log.add(frame(1, `n${i}`));
    // Before, dropped counted from the log's creation (seq - capacity) and disagreed with received.
    expect([log.received, log.size, log.dropped]).toEqual([3, 3, 0]);
    for (let i = 0; i < 4; i++) log.add(frame(1, `o${i}`));
    expect([log.received, log.size, log.dropped]).toEqual([7, 5, 2]);
  });

  it('resize() keeps the newest events, frames and objects alike, and growing never resurrects', () => {
    const log = new FrameLog({ capacity: 6 });
    for (let i = 0; i < 10; i++) {
      if (i % 3 === 0) log.add(frame(1, `m${i}`));
      else log.addFrame('s1', 1, 'in', 'text', Buffer.from(`m${i}`));
    }
    const text = () => log.events().map((e) => (e.type === 'frame' ? e.preview : ''));
    expect(text()).toEqual(['m4', 'm5', 'm6', 'm7', 'm8', 'm9']);
    log.resize(3);
    expect(log.capacity).toBe(3);
    expect(text()).toEqual(['m7', 'm8', 'm9']);
    expect([log.received, log.size, log.dropped]).toEqual([10, 3, 7]);
    // Growing keeps what is held; the overwritten events do not come back.
    log.resize(8);
    expect(text()).toEqual(['m7', 'm8', 'm9']);
    expect([log.size, log.dropped]).toEqual([3, 7]);
    for (let i = 10; i < 15; i++) log.addFrame('s1', 1, 'in', 'text', Buffer.from(`m${i}`));
    expect(text()).toEqual(['m7', 'm8', 'm9', 'm10', 'm11', 'm12', 'm13', 'm14']);
    expect(log.events().map((e) => e.seq)).toEqual([8, 9, 10, 11, 12, 13, 14, 15]);
    log.addFrame('s1', 1, 'in', 'text', Buffer.from('m15'));
    expect(text()[0]).toBe('m8');
    expect([log.received, log.size, log.dropped]).toEqual([16, 8, 8]);
    expect(() => log.resize(0)).toThrow(/capacity must be 1\.\.1000000, got 0/);
    expect(log.capacity).toBe(8);
  });

  it('stamps increasing sub-millisecond times', () => {
    const log = new FrameLog();
    const a = log.add(frame(1, 'a'));
    const b = log.add(frame(1, 'b'));
    expect(b.time).toBeGreaterThanOrEqual(a.time);
    expect(Math.abs(a.time - Date.now())).toBeLessThan(5_000);
    // performance.now() gives fractions of a millisecond.
    const times = Array.from({ length: 50 }, () => log.add(frame(1, 'x')).time);
    expect(times.some((t) => !Number.isInteger(t))).toBe(true);
  });

  it('clear() empties the log but keeps sequence numbers unique', () => {
    const log = new FrameLog({ capacity: 10 });
    log.add(frame(1, 'a'));
    log.add(frame(1, 'b'));
    log.clear();
    expect(log.events()).toEqual([]);
    expect(log.size).toBe(0);
    expect(log.add(frame(1, 'c')).seq).toBe(3);
    expect(log.events().length).toBe(1);
  });

  it('pushes to subscribers in batches on a timer, never one call per event', async () => {
    const log = new FrameLog({ capacity: 1000, flushMs: 50 });
    const batches: LogBatch[] = [];
    const unsub = log.subscribe((b) => batches.push(b));
    for (let i = 0; i < 300; i++) log.add(frame(1, `m${i}`));
    expect(batches.length).toBe(0); // nothing synchronous
    await expect
      .poll(() => batches.length, { timeout: 5_000, message: 'the first batch' })
      .toBeGreaterThan(0);
    expect(batches.length).toBe(1);
    expect(batches[0]?.events.length).toBe(300);
    expect(batches[0]?.missed).toBe(0);
    unsub();
    log.add(frame(1, 'after'));
    await new Promise((r) => setTimeout(r, 80));
    expect(batches.length).toBe(1);
  });

  it('pushes to a subscriber at most once per its intervalMs, without losing events; others keep flushMs', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const log = new FrameLog({ capacity: 1000, flushMs: 50 });
      const fast: { at: number; n: number }[] = [];
      const slow: { at: number; n: number }[] = [];
      log.subscribe((b) => fast.push({ at: Date.now(), n: b.events.length }));
      log.subscribe((b) => slow.push({ at: Date.now(), n: b.events.length }), { intervalMs: 200 });
      // The first event after a quiet spell goes out after flushMs to both.
      log.add(frame(1, 'first'));
      vi.advanceTimersByTime(50);
      expect([fast.length, slow.length]).toEqual([1, 1]);
      // Then one event every 25 ms for a second.
      for (let i = 0; i < 40; i++) {
        log.add(frame(1, `m${i}`));
        vi.advanceTimersByTime(25);
      }
      vi.advanceTimersByTime(250);
      const sum = (a: { n: number }[]) => a.reduce((s, x) => s + x.n, 0);
      expect(sum(fast)).toBe(41);
      expect(sum(slow)).toBe(41);
      expect(fast.length).toBeGreaterThanOrEqual(20);
      expect(slow.length).toBeLessThanOrEqual(7);
      for (let i = 1; i < slow.length; i++) {
        expect(
          (slow[i] as { at: number }).at - (slow[i - 1] as { at: number }).at,
        ).toBeGreaterThanOrEqual(199);
      }
      // flush() pushes now, whatever the interval.
      log.add(frame(1, 'now'));
      log.flush();
      expect(slow.at(-1)?.n).toBe(1);
      expect(() => log.subscribe(() => {}, { intervalMs: 0 })).toThrow(
        /intervalMs must be a positive integer, got 0/,
      );
    } finally {
      vi.useRealTimers();
    }
  });

  it('reports what a subscriber missed when the ring wrapped between pushes, and filters by server', async () => {
    const log = new FrameLog({ capacity: 10, flushMs: 30 });
    const got: LogBatch[] = [];
    const other: LogBatch[] = [];
    log.subscribe((b) => got.push(b));
    log.subscribe((b) => other.push(b), { serverId: 'nope' });
    for (let i = 0; i < 25; i++) log.add(frame(1, `m${i}`));
    log.flush();
    expect(got[0]?.events.length).toBe(10);
    expect(got[0]?.missed).toBe(15);
    expect(got[0]?.dropped).toBe(15);
    expect(other.length).toBe(1);
    expect(other[0]?.events).toEqual([]);
    expect(other[0]?.missed).toBe(15);
  });

  it('bounds each push: the newest maxEvents go out, the older pending ones count as missed', () => {
    const n = DEFAULT_MAX_PUSH_EVENTS + 700;
    const log = new FrameLog({ capacity: 5000, flushMs: 1000 });
    const all: LogBatch[] = [];
    const few: LogBatch[] = [];
    const mine: LogBatch[] = [];
    log.subscribe((b) => all.push(b));
    log.subscribe((b) => few.push(b), { maxEvents: 10 });
    log.subscribe((b) => mine.push(b), { serverId: 's2', maxEvents: 10 });
    for (let i = 0; i < n; i++) log.add({ ...frame(1, `m${i}`), serverId: i % 2 ? 's2' : 's1' });
    log.flush();
    expect(all[0]?.events.length).toBe(DEFAULT_MAX_PUSH_EVENTS);
    expect(all[0]?.events[0]?.seq).toBe(701);
    expect(all[0]?.events.at(-1)?.seq).toBe(n);
    expect(all[0]?.missed).toBe(700);
    expect(few[0]?.events.map((e) => e.seq)).toEqual(
      Array.from({ length: 10 }, (_, i) => n - 9 + i),
    );
    expect(few[0]?.missed).toBe(n - 10);
    // Filtered: the newest 10 of s2 (even seqs), the other s2 events missed; s1's are not counted.
    expect(mine[0]?.events.map((e) => e.seq)).toEqual(
      Array.from({ length: 10 }, (_, i) => n - 18 + 2 * i),
    );
    expect(mine[0]?.missed).toBe(n / 2 - 10);
    // Nothing pending: the next flush pushes nothing; new events go out with missed 0.
    log.flush();
    expect(few.length).toBe(1);
    log.add(frame(1, 'next'));
    log.flush();
    expect(few[1]?.events.map((e) => e.seq)).toEqual([n + 1]);
    expect(few[1]?.missed).toBe(0);
    expect(() => log.subscribe(() => {}, { maxEvents: 0 })).toThrow(RangeError);
    expect(() => log.subscribe(() => {}, { maxBytes: 1.5 })).toThrow(RangeError);
  });

  it('bounds each push by preview bytes too, and always pushes the newest event', () => {
    const log = new FrameLog({ capacity: 1000, flushMs: 1000 });
    const got: LogBatch[] = [];
    const tiny: LogBatch[] = [];
    log.subscribe((b) => got.push(b));
    log.subscribe((b) => tiny.push(b), { maxBytes: 1 });
    // 8 KiB payloads: each frame keeps a PREVIEW_BYTES (+1) capture; an echo's out reuses the in's.
    const payload = Buffer.alloc(8192, 0x61);
    for (let i = 0; i < 100; i++) {
      log.addFrame('s1', 1, 'in', 'text', payload);
      log.addFrame('s1', 1, 'out', 'text', payload, true);
    }
    log.flush();
    const fit = Math.floor(DEFAULT_MAX_PUSH_BYTES / (PREVIEW_BYTES + 1));
    expect(got[0]?.events.length).toBe(fit);
    expect(got[0]?.events.at(-1)?.seq).toBe(200);
    expect(got[0]?.missed).toBe(200 - fit);
    expect(tiny[0]?.events.map((e) => e.seq)).toEqual([200]);
    expect(tiny[0]?.missed).toBe(199);
  });

  it('replays held events to a new subscriber when asked', async () => {
    const log = new FrameLog({ capacity: 10, flushMs: 30 });
    log.add(frame(1, 'old'));
    const got: LogBatch[] = [];
    log.subscribe((b) => got.push(b), { replay: true });
    await expect
      .poll(() => got.length, { timeout: 5_000, message: 'the replayed batch' })
      .toBeGreaterThan(0);
    expect(got[0]?.events.map((e) => e.seq)).toEqual([1]);
  });

  it('previews the first 4 KiB with a truncated flag, without cutting a UTF-8 character', () => {
    const small = preview(Buffer.from('héllo'), 'utf8');
    expect(small).toEqual({ preview: 'héllo', previewEncoding: 'utf8', truncated: false });
    const big = Buffer.from('a'.repeat(PREVIEW_BYTES - 1) + 'é' + 'b'.repeat(100));
    const p = preview(big, 'utf8');
    expect(p.truncated).toBe(true);
    expect(p.preview).toBe('a'.repeat(PREVIEW_BYTES - 1)); // the 2-byte é straddles the limit: left out
    const bin = preview(Buffer.alloc(5000, 0xff), 'base64');
    expect(Buffer.from(bin.preview, 'base64').length).toBe(PREVIEW_BYTES);
    expect(bin.truncated).toBe(true);
  });

  it('addFrame keeps a private copy of the payload (reused for the echo); previews are made when read', () => {
    const log = new FrameLog({ capacity: 200 });
    const sources: Buffer[] = [];
    // Enough 4 KiB captures to cross several 256 KiB slabs.
    for (let i = 0; i < 150; i++) {
      const src = Buffer.alloc(5000, 65 + (i % 26));
      sources.push(src);
      log.addFrame('s1', 1, 'in', 'text', src);
      log.addFrame('s1', 1, 'out', 'text', src, true); // the echo reuses the capture
    }
    for (const src of sources) src.fill(0x7a); // ws may reuse its buffers
    const evs = log.events();
    expect(evs.length).toBe(200); // capacity: the oldest 100 frames were overwritten
    expect(log.dropped).toBe(100);
    evs.forEach((e, k) => {
      const i = 50 + Math.floor(k / 2);
      expect(e).toMatchObject({
        type: 'frame',
        seq: 101 + k,
        serverId: 's1',
        conn: 1,
        dir: k % 2 ? 'out' : 'in',
        opcode: 'text',
        length: 5000,
        truncated: true,
        previewEncoding: 'utf8',
      });
      expect(e.type === 'frame' && e.preview).toBe(
        String.fromCharCode(65 + (i % 26)).repeat(PREVIEW_BYTES),
      );
    });
    // Events are plain JSON.
    expect(JSON.parse(JSON.stringify(evs))).toEqual(evs);
  });

  it('previews the frame after an empty one (its capture starts at the same offset) from its own bytes', () => {
    const log = new FrameLog();
    log.addFrame('s1', 1, 'in', 'ping', Buffer.alloc(0));
    log.addFrame('s1', 1, 'out', 'pong', Buffer.alloc(0), true);
    log.addFrame('s1', 1, 'in', 'binary', Buffer.from('ab'));
    log.addFrame('s1', 1, 'in', 'binary', Buffer.alloc(0));
    log.addFrame('s1', 1, 'in', 'binary', Buffer.from('cd'));
    const previews = log.events().map((e) => e.type === 'frame' && e.preview);
    expect(previews).toEqual(['', '', 'YWI=', '', 'Y2Q=']);
  });

  it('subscribeSeqs() pushes the seqs subscribe() would build, and visit() hands over what is held', () => {
    const log = new FrameLog({ capacity: 50, flushMs: 1000 });
    const batches: LogBatch[] = [];
    const seqBatches: { seqs: number[]; missed: number }[] = [];
    log.subscribe((b) => batches.push(b), { maxEvents: 20 });
    log.subscribeSeqs((b) => seqBatches.push({ seqs: b.seqs, missed: b.missed }), {
      maxEvents: 20,
    });
    log.add(frame(1, 'object'));
    for (let i = 0; i < 30; i++)
      log.addFrame('s1', 2, i % 2 ? 'out' : 'in', 'binary', Buffer.of(i));
    log.flush();
    expect(seqBatches).toEqual(
      batches.map((b) => ({ seqs: b.events.map((e) => e.seq), missed: b.missed })),
    );
    expect(seqBatches[0]?.missed).toBe(11);
    const seen: string[] = [];
    log.visit([1, 2, 30, 31, 32], {
      frame: (serverId, conn, dir, opcode, length, data, off, len, truncated, seq, time) => {
        expect(time).toBe(log.events({ after: seq - 1 })[0]?.time);
        const hex = data.subarray(off, off + len).toString('hex');
        seen.push(`${seq} ${serverId} ${conn} ${dir} ${opcode} ${length} ${hex} ${truncated}`);
      },
      event: (e) => seen.push(`${e.seq} ${e.type}`),
    });
    expect(seen).toEqual([
      '1 frame',
      '2 s1 2 in binary 1 00 false',
      '30 s1 2 in binary 1 1c false',
      '31 s1 2 out binary 1 1d false',
    ]);
    log.addFrame('s1', 2, 'in', 'text', Buffer.alloc(50));
    seen.length = 0;
    log.visit([1, 2, 32], { frame: (...a) => seen.push(String(a[9])), event: () => {} });
    expect(seen).toEqual(['2', '32']); // capacity 50: seq 1 is gone
  });

  it('exports JSON Lines, one parseable event per line', () => {
    const log = new FrameLog();
    log.add(frame(1, 'a'));
    log.add({
      type: 'close',
      serverId: 's1',
      conn: 1,
      code: 1000,
      reason: 'bye',
      by: 'client',
      clean: true,
    });
    const lines = log.toJsonLines().trimEnd().split('\n');
    expect(lines.length).toBe(2);
    expect(JSON.parse(lines[1] as string)).toMatchObject({
      type: 'close',
      code: 1000,
      reason: 'bye',
      seq: 2,
    });
  });
});

describe('HAR export', () => {
  it("has one websocket entry per connection with _webSocketMessages in Chrome's shape", () => {
    const log = new FrameLog();
    log.add({
      type: 'open',
      serverId: 's1',
      conn: 7,
      remoteAddress: '127.0.0.1',
      remotePort: 5000,
      url: 'wss://localhost:8443/echo',
      origin: 'https://app.test',
      userAgent: 'ua',
      requestedProtocols: ['chat'],
      protocol: 'chat',
      extensions: '',
      tls: { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' },
    });
    log.add(frame(7, 'hi', 'in'));
    log.add(frame(7, 'hi', 'out'));
    log.add({
      type: 'frame',
      serverId: 's1',
      conn: 7,
      dir: 'in',
      opcode: 'binary',
      length: 2,
      ...preview(Buffer.from([1, 2]), 'base64'),
    });
    log.add({ ...frame(7, ''), opcode: 'ping' });
    const har = toHar(log.events());
    expect(har.log.version).toBe('1.2');
    expect(har.log.entries.length).toBe(1);
    const e = har.log.entries[0];
    expect(e?._resourceType).toBe('websocket');
    expect(e?.request.url).toBe('wss://localhost:8443/echo');
    expect(e?.response.status).toBe(101);
    expect(e?._webSocketMessages).toEqual([
      { type: 'send', time: expect.any(Number), opcode: 1, data: 'hi' },
      { type: 'receive', time: expect.any(Number), opcode: 1, data: 'hi' },
      { type: 'send', time: expect.any(Number), opcode: 2, data: 'AQI=' },
    ]);
    const t = e?._webSocketMessages[0]?.time as number;
    expect(t).toBeGreaterThan(1.7e9);
    expect(t).toBeLessThan(1e11); // seconds, not milliseconds
    expect(() => new Date(e?.startedDateTime as string).toISOString()).not.toThrow();
    expect(JSON.parse(JSON.stringify(har))).toEqual(har);
  });
  it('HAR: a connection whose open event was overwritten gets its server URL, not a made-up one', () => {
    const log = new FrameLog({ capacity: 10 });
    log.add(frame(9, 'only frames left'));
    const har = toHar(log.events(), (id) => (id === 's1' ? 'wss://localhost:8443/' : undefined));
    expect(har.log.entries[0]?.request.url).toBe('wss://localhost:8443/');
    expect(har.log.entries[0]?.connection).toBe('9');
    expect(toHar(log.events()).log.entries[0]?.request.url).toBe('ws://s1.invalid/');
  });
});
