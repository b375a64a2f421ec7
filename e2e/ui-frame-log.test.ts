// Frame log under a flood, in Chromium: an outside client (node `ws`) sends 20,000 messages in bursts
// while the test clicks the page. The page must answer each click quickly, render only a window of rows,
// keep at most the engine's capacity in memory, show the engine's dropped count exactly once the ring
// wraps, and filter/search/pause correctly afterwards. Bounded: 20,000 messages, ~2 s of sending.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import type { LogSnapshot } from '../shared/api';
import type { Client } from '../shared/client';
import { axe, axeReport, goTo, shoot, startUi, type UiRig } from './helpers/ui';

let rig: UiRig;
let api: Client;
let url: string;
let ws: WebSocket;

beforeAll(async () => {
  rig = await startUi({ route: '#/log' });
  api = await rig.api();
  const s = await api.call('server.add', { name: 'flood', scheme: 'ws', port: 0 });
  url = (await api.call('server.start', { id: s.id })).url!;
  await rig.page.reload();
  await rig.page.getByRole('heading', { level: 1, name: 'Frame log' }).waitFor();
}, 180_000);

afterAll(async () => {
  ws?.terminate();
  await rig?.close();
});

const count = (name: string) =>
  rig.page
    .locator(`[data-count="${name}"]`)
    .innerText()
    .then((t) => Number(t.replace(/,/g, '')));

describe('Frame log under a flood', () => {
  // One setup: 20,000 messages in bursts of 1,000 every 100 ms (pacing, not waiting), with eight
  // Pause/Resume clicks spread over the flood (120 ms apart, also pacing). The its below check what it left.
  const N = 20_000;
  const CHUNK = 1_000;
  let echoed = 0;
  /** In-page click latencies (ms): input event to the frame painted after the handler ran. */
  let lat: number[] = [];
  /** Test-side click round trips, CDP included (ms): printed only. */
  const wall: number[] = [];
  let long: number[] = [];
  let pressedAfterClicks: string | null = null;
  let receivedDuringClicks = 0;
  /** The engine's log once every echo is in (set by the dropped-count test, read by the later ones). */
  let snap: LogSnapshot;
  const pause = () => rig.page.locator('button.pause');

  beforeAll(async () => {
    const { page } = rig;
    // In-page click latency: from the input event's timestamp to the frame painted after the handler ran
    // (what the user feels), recorded for every click on the Pause button.
    // Also the page's own long tasks (main thread busy > 50 ms), to tell our work from a starved machine.
    await page.evaluate(() => {
      const w = window as unknown as { __lat: number[]; __long: number[] };
      w.__lat = [];
      w.__long = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.__long.push(e.duration);
      }).observe({ type: 'longtask', buffered: false });
      document.addEventListener(
        'click',
        (e) => {
          if (!(e.target as Element).closest('button.pause')) return;
          const t0 = e.timeStamp;
          requestAnimationFrame(() => setTimeout(() => w.__lat.push(performance.now() - t0), 0));
        },
        true,
      );
    });

    // One warm-up toggle before the flood (first-use code paths), not measured.
    await pause().click();
    await pause().click();
    // (expect.poll is for tests; vi.waitFor polls the same way in a setup hook.)
    await vi.waitFor(
      async () => {
        const n = await page.evaluate(
          () => (window as unknown as { __lat: number[] }).__lat.length,
        );
        if (n !== 2) throw new Error(`${n} of 2 warm-up clicks painted`);
      },
      { timeout: 10_000 },
    );
    await page.evaluate(() => {
      const w = window as unknown as { __lat: number[]; __long: number[] };
      w.__lat = [];
      w.__long = [];
    });

    ws = new WebSocket(url);
    await new Promise<void>((res, rej) => {
      ws.once('open', () => res());
      ws.once('error', rej);
    });
    ws.on('message', () => echoed++);
    const sending = (async () => {
      for (let i = 0; i < N; i += CHUNK) {
        for (let j = i; j < i + CHUNK; j++) ws.send(`m-${String(j).padStart(5, '0')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    // Click Pause/Resume while the flood is running; each click must change the button.
    await page.locator('[data-count="received"]').filter({ hasNotText: /^0$/ }).waitFor();
    const receivedAtFirstClick = await count('received');
    for (let i = 0; i < 8; i++) {
      const before = await pause().getAttribute('aria-pressed');
      const t0 = performance.now();
      await pause().click();
      await vi.waitFor(
        async () => {
          if ((await pause().getAttribute('aria-pressed')) === before)
            throw new Error(`click ${i + 1} did not change the Pause button`);
        },
        { interval: 5, timeout: 10_000 },
      );
      wall.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 120));
    }
    pressedAfterClicks = await pause().getAttribute('aria-pressed');
    receivedDuringClicks = (await count('received')) - receivedAtFirstClick;
    await sending;
    ({ lat, long } = await page.evaluate(() => {
      const w = window as unknown as { __lat: number[]; __long: number[] };
      return { lat: w.__lat, long: w.__long };
    }));
  }, 180_000);

  it('answers each click quickly while 20,000 messages arrive', () => {
    const median = [...lat].sort((a, b) => a - b)[Math.floor(lat.length / 2)]!;
    console.log(
      `click latency during flood (ms): in-page ${lat.map((x) => x.toFixed(0)).join(', ')} ` +
        `(median ${median.toFixed(0)}); test-side incl. CDP ${wall.map((x) => x.toFixed(0)).join(', ')}; ` +
        `page long tasks: ${long.length}, longest ${Math.max(0, ...long).toFixed(0)} ms`,
    );
    expect(pressedAfterClicks).toBe('false'); // an even number of clicks: live again
    // The clicks really happened during the flood: events kept arriving between the first and the last.
    expect(receivedDuringClicks).toBeGreaterThan(5_000);
    expect(lat).toHaveLength(8);
    // The target is "a click answers in under 200 ms". On a 2-core machine shared with other test
    // workers a single click can be starved by the OS, so the typical click (median) must meet the target
    // and no click may hang (1 s); the printed figures show the spread.
    expect(median).toBeLessThan(200);
    for (const l of lat) expect(l).toBeLessThan(1_000);
  });

  it("receives every echo, and shows the engine's dropped count exactly once the ring wraps", async () => {
    await expect.poll(() => echoed, { timeout: 60_000 }).toBe(N);
    const total = 1 + 2 * N; // open + every frame in and out
    snap = await expect
      .poll(async () => (await api.call('log.snapshot', { limit: 100_000 })).events.at(-1)?.seq, {
        timeout: 30_000,
      })
      .toBe(total)
      .then(() => api.call('log.snapshot', { limit: 100_000 }));
    expect(snap.dropped).toBe(total - snap.capacity);
    await expect.poll(() => count('dropped'), { timeout: 30_000 }).toBe(total - snap.capacity);
    // The page may have been sent only the newest events during the flood: it reads the ring again once
    // the pushes calm down, and then shows all the engine holds.
    await expect.poll(() => count('showing'), { timeout: 10_000 }).toBe(snap.capacity);
  });

  it('renders a window of rows, not thousands', async () => {
    const { page } = rig;
    const domRows = await page.locator('.vrow').count();
    expect(domRows).toBeGreaterThan(5);
    expect(domRows).toBeLessThan(120);
    await shoot(page, 'frame-log-flood');
  });

  it('filters by direction, payload text and opcode against what the engine holds', async () => {
    const { page } = rig;
    const inCount = snap.events.filter((e) => e.type === 'frame' && e.dir === 'in').length;
    await page.getByRole('combobox', { name: 'Direction' }).selectOption('in');
    await expect.poll(() => count('showing'), { timeout: 10_000 }).toBe(inCount);
    const last = `m-${String(N - 1).padStart(5, '0')}`;
    await page.getByRole('searchbox', { name: 'Search payloads' }).fill(last);
    await expect.poll(() => count('showing'), { timeout: 10_000 }).toBe(1);
    await page.getByRole('combobox', { name: 'Direction' }).selectOption('');
    await expect.poll(() => count('showing'), { timeout: 10_000 }).toBe(2);
    const dirs = await page
      .locator('.r')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-dir')));
    expect(dirs.sort()).toEqual(['in', 'out']);
    await page.getByRole('searchbox', { name: 'Search payloads' }).fill('');
    await page.getByRole('combobox', { name: 'Opcode' }).selectOption('open'); // the open event was overwritten
    await expect.poll(() => count('showing'), { timeout: 10_000 }).toBe(0);
    expect(await page.getByText('No event matches these filters.').count()).toBe(1);
    await page.getByRole('combobox', { name: 'Opcode' }).selectOption('');
  });

  it('paused, the view holds still and counts what arrives; resumed, it shows it', async () => {
    const { page } = rig;
    await pause().click();
    const receivedBefore = await count('received');
    for (let i = 0; i < 10; i++) ws.send(`late-${i}`);
    await expect.poll(() => pause().innerText(), { timeout: 15_000 }).toBe('Resume (20 new)');
    expect(await page.getByText('late-').count()).toBe(0);
    await pause().click();
    await expect.poll(() => count('received'), { timeout: 10_000 }).toBe(receivedBefore + 20);
    await expect
      .poll(() => page.locator('.r').filter({ hasText: 'late-9' }).count(), { timeout: 10_000 })
      .toBe(2);
    expect(await count('showing')).toBe(snap.capacity);
    await shoot(page, 'frame-log-filtered');
    await goTo(page, 'Overview');
  });

  it('keeps one scope of counters, a changeable limit, the reader’s place and the selected row', async () => {
    const { page } = rig;
    await goTo(page, 'Frame log');
    const list = page.getByRole('listbox', { name: 'Frame log events' });
    const status = page.locator('[data-follow]');

    // Counters after the burst: one scope, received = kept + dropped, equal to the engine's, and a
    // reload does not reset one of them (before: received reset, dropped did not).
    const snap = await api.call('log.snapshot', { limit: 1 });
    await expect.poll(() => count('received'), { timeout: 15_000 }).toBe(snap.received);
    expect(await count('dropped')).toBe(snap.dropped);
    expect((await count('kept')) + (await count('dropped'))).toBe(await count('received'));
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Frame log' }).waitFor();
    await expect.poll(() => count('received'), { timeout: 15_000 }).toBe(snap.received);
    expect(await count('dropped')).toBe(snap.dropped);
    await expect.poll(() => count('showing'), { timeout: 15_000 }).toBe(snap.capacity);

    // The limit is on the screen and changes the engine's ring.
    const limit = page.getByRole('combobox', { name: 'Keep last (events)' });
    expect(await limit.inputValue()).toBe(String(snap.capacity));
    await limit.selectOption('1000');
    await expect.poll(() => count('showing'), { timeout: 10_000 }).toBe(1_000);
    const small = await api.call('log.snapshot', { limit: 1 });
    expect(small.capacity).toBe(1_000);
    expect(await count('kept')).toBe(1_000);
    expect(await count('dropped')).toBe(small.received - 1_000);
    // Export says that events were dropped.
    await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export JSONL' }).click(),
    ]);
    await page.getByText(/earlier events were dropped before the export/).waitFor();
    await limit.selectOption('10000');
    await expect
      .poll(async () => (await api.call('log.snapshot', { limit: 1 })).capacity)
      .toBe(10_000);

    // The first ArrowDown from the newest rows selects the newest row, not the oldest.
    await expect.poll(() => status.getAttribute('data-follow')).toBe('following');
    await list.focus();
    await page.keyboard.press('ArrowDown');
    const selected = list.locator('[role="option"][aria-selected="true"]');
    await selected.waitFor();
    expect(await selected.innerText()).toContain('late-9');
    // aria-activedescendant names a row that exists.
    const activeExists = () =>
      list.evaluate((el) => {
        const id = el.getAttribute('aria-activedescendant');
        return !!id && !!document.getElementById(id);
      });
    expect(await activeExists()).toBe(true);
    await expect.poll(() => status.innerText()).toContain('Paused: row selected');
    // PageUp moves a page of rows; the row stays visible above the detail pane.
    const before = await selected.innerText();
    await page.keyboard.press('PageUp');
    await expect.poll(() => selected.innerText()).not.toBe(before);
    expect(await activeExists()).toBe(true);
    const inView = () =>
      page.evaluate(() => {
        const box = document.querySelector('[role="listbox"]')!.getBoundingClientRect();
        const row = document.querySelector('.vrow.selected')?.getBoundingClientRect();
        return !!row && row.top >= box.top - 1 && row.bottom <= box.bottom + 1;
      });
    expect(await inView()).toBe(true);
    await page.keyboard.press('PageDown');
    await page.keyboard.press('PageDown');
    expect(await activeExists()).toBe(true);
    expect(await inView()).toBe(true);
    const violations = await axe(page);
    expect(violations, axeReport(violations)).toEqual([]);
    await shoot(page, 'frame-log-selected');
    await page
      .getByRole('region', { name: 'Selected event' })
      .getByRole('button', { name: 'Close' })
      .click();
    await expect.poll(() => status.getAttribute('data-follow')).toBe('following');

    // Scrolled up during a bounded flood (3,000 messages): the view pauses and the rows under the
    // reader stay where they are; scrolling back to the bottom follows again.
    await list.evaluate((el) => (el.scrollTop = el.scrollHeight / 2));
    await expect.poll(() => status.innerText()).toContain('Paused: scrolled up');
    const topRow = () =>
      list.evaluate((el) => {
        const box = el.getBoundingClientRect();
        const rows = [...el.querySelectorAll('.vrow')];
        const r = rows.find((x) => x.getBoundingClientRect().bottom > box.top + 2);
        return `${r?.textContent ?? ''}@${Math.round((r?.getBoundingClientRect().top ?? 0) - box.top)}`;
      });
    const placeBefore = await topRow();
    const receivedBefore = await count('received');
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 1_000; j++) ws.send(`more-${i}-${j}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await expect.poll(() => count('received'), { timeout: 30_000 }).toBe(receivedBefore + 6_000);
    expect(await topRow()).toBe(placeBefore);
    expect(await page.locator('button.pause').innerText()).toBe('Resume (6000 new)');
    await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await expect.poll(() => status.getAttribute('data-follow')).toBe('following');
    await expect
      .poll(() => list.locator('.r').filter({ hasText: 'more-2-999' }).count(), { timeout: 10_000 })
      .toBe(2);
  }, 180_000);
});
