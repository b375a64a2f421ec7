// FrameLogState with a fake engine: counters are the engine's (one scope), pausing by scroll/selection and
// resuming only what that cause paused, and a smaller limit trims the rows held. Compiled by the Svelte
// plugin in vitest.config.ts, so the runes are the real ones.
import { describe, expect, it, vi } from 'vitest';
import type { LogEventDto, Streams } from '../../../shared/api';
import { FrameLogState } from './frame-log.svelte';

type Batch = Streams['log.batch'];

function frame(seq: number, text = `m${seq}`): LogEventDto {
  return {
    type: 'frame',
    serverId: 's1',
    conn: 1,
    dir: 'in',
    opcode: 'text',
    length: text.length,
    preview: text,
    previewEncoding: 'utf8',
    truncated: false,
    seq,
    time: 1_700_000_000_000 + seq,
  };
}
const frames = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => frame(from + i));

function fakeEngine(snapshot: {
  events: LogEventDto[];
  received: number;
  dropped: number;
  capacity: number;
}) {
  // Tests may replace snapshot's fields: the engine's ring as it is now.
  let push: ((b: Batch) => void) | undefined;
  const calls: { name: string; input: unknown }[] = [];
  const api = {
    on: (_name: string, cb: (b: Batch) => void) => {
      push = cb;
      return () => (push = undefined);
    },
    call: async (name: string, input: unknown) => {
      calls.push({ name, input });
      if (name === 'log.snapshot') return snapshot;
      if (name === 'log.configure') {
        const capacity = (input as { capacity: number }).capacity;
        return { capacity, received: snapshot.received, dropped: snapshot.received - capacity };
      }
      return { ok: true };
    },
  };
  return { api: api as never, push: (b: Batch) => push?.(b), calls, snapshot };
}

/** Row building is chunked over macrotasks: poll until the rows are there (vi.waitFor: every 50 ms, 1 s). */
const rowsUpTo = (log: FrameLogState, seq: number) =>
  vi.waitFor(() => expect(log.view.at(-1)?.seq).toBe(seq));
/** Row building is chunked over macrotasks and published at most every RENDER_MS: wait for both. */
const settle = () => new Promise((r) => setTimeout(r, FrameLogState.RENDER_MS + 20));

describe('FrameLogState', () => {
  it('shows the engine counters over one scope, also for events it never held', async () => {
    const eng = fakeEngine({ events: frames(6, 15), received: 15, dropped: 5, capacity: 10 });
    const log = new FrameLogState(eng.api);
    log.start();
    await vi.waitFor(() =>
      expect([log.received, log.dropped, log.capacity, log.view.length]).toEqual([15, 5, 10, 10]),
    );
    eng.push({ events: frames(16, 17), missed: 0, dropped: 7, received: 17 });
    // Rows and counters are published together, at most every RENDER_MS: poll for both.
    await vi.waitFor(() =>
      expect([log.received, log.dropped, log.view.length]).toEqual([17, 7, 10]),
    );
    expect(log.view.at(-1)?.seq).toBe(17);
    // received = kept + dropped, as the screen shows them.
    expect(log.received - log.dropped).toBe(log.view.length);
  });

  it('pauses on scroll or selection and resumes only what that cause paused', async () => {
    const eng = fakeEngine({ events: frames(1, 3), received: 3, dropped: 0, capacity: 10 });
    const log = new FrameLogState(eng.api);
    log.start();
    await rowsUpTo(log, 3);
    log.pause('scroll');
    eng.push({ events: frames(4, 5), missed: 0, dropped: 0, received: 5 });
    await vi.waitFor(() => expect(log.arrivedWhilePaused).toBe(2));
    expect(log.view.length).toBe(3); // frozen under the reader
    expect(log.arrivedWhilePaused).toBe(2);
    log.resumeIf('select');
    expect(log.paused).toBe(true);
    log.resumeIf('scroll');
    expect(log.paused).toBe(false);
    expect(log.view.length).toBe(5);

    log.select(5);
    expect([log.paused, log.pausedBy, log.selected?.seq]).toEqual([true, 'select', 5]);
    // Pause pressed while paused by a selection: now it is the user's pause; closing the row keeps it.
    log.pause();
    log.select(null);
    expect([log.paused, log.pausedBy]).toEqual([true, 'user']);
    log.resume();
    log.select(4);
    log.select(null);
    expect(log.paused).toBe(false);
  });

  it('publishes rows and counters together, at most once per RENDER_MS while they stream in', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const eng = fakeEngine({ events: frames(1, 2), received: 2, dropped: 0, capacity: 100 });
      const log = new FrameLogState(eng.api);
      log.start();
      await vi.advanceTimersByTimeAsync(FrameLogState.RENDER_MS + 50);
      // The first push after a quiet spell shows at once (its rows are built in one macrotask)...
      eng.push({ events: frames(3, 3), missed: 0, dropped: 0, received: 3 });
      await vi.advanceTimersByTimeAsync(1);
      expect([log.received, log.view.length]).toEqual([3, 3]);
      const shown = log.version;
      // ...the next ones within RENDER_MS wait for the next publish, rows (the view's version) and
      // counters alike.
      eng.push({ events: frames(4, 5), missed: 0, dropped: 0, received: 5 });
      await vi.advanceTimersByTimeAsync(FrameLogState.RENDER_MS - 10);
      expect([log.received, log.version]).toEqual([3, shown]);
      await vi.advanceTimersByTimeAsync(10);
      expect([log.received, log.version, log.view.length]).toEqual([5, shown + 1, 5]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('counts what it was not sent live, then reads the ring again once pushes calm down', async () => {
    const eng = fakeEngine({ events: frames(1, 4), received: 4, dropped: 0, capacity: 100 });
    const log = new FrameLogState(eng.api);
    log.start();
    await settle();
    expect(log.notLive).toBe(0);
    // The log was busy: the engine sent the newest 2 of 30 new events and counted 28 as missed.
    eng.push({ events: frames(33, 34), missed: 28, dropped: 0, received: 34 });
    await settle();
    expect([log.received, log.view.length, log.notLive]).toEqual([34, 6, 28]);
    expect(eng.calls.filter((c) => c.name === 'log.snapshot')).toHaveLength(1);
    // Quiet for QUIET_MS: the page asks for the ring and then holds what the engine holds.
    Object.assign(eng.snapshot, { events: frames(1, 34), received: 34 });
    await vi.waitFor(() => expect(log.view.length).toBe(34), {
      timeout: FrameLogState.QUIET_MS + FrameLogState.RENDER_MS * 4,
    });
    expect(log.view.map((r) => r.seq)).toEqual(frames(1, 34).map((e) => e.seq));
    expect(log.notLive).toBe(0);
    expect(eng.calls.filter((c) => c.name === 'log.snapshot')).toHaveLength(2);
  });

  it('counts every event the engine received while paused, also those it did not send', async () => {
    const eng = fakeEngine({ events: frames(1, 3), received: 3, dropped: 0, capacity: 100 });
    const log = new FrameLogState(eng.api);
    log.start();
    await settle();
    log.pause();
    eng.push({ events: frames(12, 13), missed: 8, dropped: 0, received: 13 });
    await settle();
    expect(log.arrivedWhilePaused).toBe(10);
    expect(log.view.length).toBe(3); // frozen under the reader
  });

  it('takes no pushes while hidden, and reads the ring again when shown', async () => {
    const eng = fakeEngine({ events: frames(1, 3), received: 3, dropped: 0, capacity: 100 });
    const log = new FrameLogState(eng.api);
    log.start();
    await settle();
    log.setVisible(false);
    eng.push({ events: frames(4, 9), missed: 0, dropped: 0, received: 9 });
    await settle();
    expect([log.received, log.view.length]).toEqual([3, 3]);
    Object.assign(eng.snapshot, { events: frames(1, 9), received: 9 });
    log.setVisible(true);
    await settle();
    expect([log.received, log.view.length]).toEqual([9, 9]);
    eng.push({ events: frames(10, 10), missed: 0, dropped: 0, received: 10 });
    await settle();
    expect(log.view.at(-1)?.seq).toBe(10);
  });

  it('a smaller limit asks the engine and trims the rows the page holds', async () => {
    const eng = fakeEngine({ events: frames(1, 8), received: 8, dropped: 0, capacity: 10 });
    const log = new FrameLogState(eng.api);
    log.start();
    await rowsUpTo(log, 8);
    await log.setCapacity(3);
    expect(eng.calls.find((c) => c.name === 'log.configure')?.input).toEqual({ capacity: 3 });
    expect([log.capacity, log.dropped, log.view.map((r) => r.seq)]).toEqual([3, 5, [6, 7, 8]]);
  });
});
