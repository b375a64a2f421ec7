// Frame log under a flood, in Chromium: an outside client (node `ws`) sends 20,000 messages in bursts
// while the test clicks the page. The page must answer each click quickly, render only a window of rows,
// keep at most the engine's capacity in memory, show the engine's dropped count exactly once the ring
// wraps, and filter/search/pause correctly afterwards. Bounded: 20,000 messages, ~2 s of sending.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Client } from '../shared/client';
import { goTo, shoot, startUi, type UiRig } from './helpers/ui';

const N = 20_000;
const CHUNK = 1_000;

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
    .then((t) => Number(t));

describe('Frame log under a flood', () => {
  it('stays responsive through 20,000 messages, then shows the right dropped count and filters', async () => {
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
    const pause = page.locator('button.pause');
    await pause.click();
    await pause.click();
    await expect
      .poll(() => page.evaluate(() => (window as unknown as { __lat: number[] }).__lat.length), {
        timeout: 10_000,
      })
      .toBe(2);
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
    let echoed = 0;
    ws.on('message', () => echoed++);
    const sending = (async () => {
      for (let i = 0; i < N; i += CHUNK) {
        for (let j = i; j < i + CHUNK; j++) ws.send(`m-${String(j).padStart(5, '0')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    // Click Pause/Resume while the flood is running; each click must change the button.
    const wall: number[] = [];
    await page.locator('[data-count="received"]').filter({ hasNotText: /^0$/ }).waitFor();
    const receivedAtFirstClick = await count('received');
    for (let i = 0; i < 8; i++) {
      const before = await pause.getAttribute('aria-pressed');
      const t0 = performance.now();
      await pause.click();
      await expect
        .poll(() => pause.getAttribute('aria-pressed'), { interval: 5, timeout: 10_000 })
        .not.toBe(before);
      wall.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 120));
    }
    expect(await pause.getAttribute('aria-pressed')).toBe('false'); // an even number of clicks: live again
    // The clicks really happened during the flood: events kept arriving between the first and the last.
    const receivedAtLastClick = await count('received');
    expect(receivedAtLastClick - receivedAtFirstClick).toBeGreaterThan(5_000);
    await sending;
    const { lat, long } = await page.evaluate(() => {
      const w = window as unknown as { __lat: number[]; __long: number[] };
      return { lat: w.__lat, long: w.__long };
    });
    const median = [...lat].sort((a, b) => a - b)[Math.floor(lat.length / 2)]!;
    console.log(
      `click latency during flood (ms): in-page ${lat.map((x) => x.toFixed(0)).join(', ')} ` +
        `(median ${median.toFixed(0)}); test-side incl. CDP ${wall.map((x) => x.toFixed(0)).join(', ')}; ` +
        `page long tasks: ${long.length}, longest ${Math.max(0, ...long).toFixed(0)} ms`,
    );
    expect(lat).toHaveLength(8);
    // The target is "a click answers in under 200 ms". On a 2-core machine shared with other test
    // workers a single click can be starved by the OS, so the typical click (median) must meet the target
    // and no click may hang (1 s); the printed figures show the spread.
    expect(median).toBeLessThan(200);
    for (const l of lat) expect(l).toBeLessThan(1_000);

    // Every echo arrived; the log wrapped. The page shows the engine's dropped count exactly.
    await expect.poll(() => echoed, { timeout: 60_000 }).toBe(N);
    const total = 1 + 2 * N; // open + every frame in and out
    const snap = await expect
      .poll(async () => (await api.call('log.snapshot', { limit: 100_000 })).events.at(-1)?.seq, {
        timeout: 30_000,
      })
      .toBe(total)
      .then(() => api.call('log.snapshot', { limit: 100_000 }));
    expect(snap.dropped).toBe(total - snap.capacity);
    await expect.poll(() => count('dropped'), { timeout: 30_000 }).toBe(total - snap.capacity);
    expect(await count('showing')).toBe(snap.capacity);
    // Virtualised: a window of rows in the DOM, not thousands.
    const domRows = await page.locator('.vrow').count();
    expect(domRows).toBeGreaterThan(5);
    expect(domRows).toBeLessThan(120);
    await shoot(page, 'frame-log-flood');

    // Filters against what the engine holds.
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

    // Paused: the view holds still and counts what arrives.
    await pause.click();
    const receivedBefore = await count('received');
    for (let i = 0; i < 10; i++) ws.send(`late-${i}`);
    await expect.poll(() => pause.innerText(), { timeout: 15_000 }).toBe('Resume (20 new)');
    expect(await page.getByText('late-').count()).toBe(0);
    await pause.click();
    await expect.poll(() => count('received'), { timeout: 10_000 }).toBe(receivedBefore + 20);
    await expect
      .poll(() => page.locator('.r').filter({ hasText: 'late-9' }).count(), { timeout: 10_000 })
      .toBe(2);
    expect(await count('showing')).toBe(snap.capacity);
    await shoot(page, 'frame-log-filtered');
    await goTo(page, 'Overview');
  }, 180_000);
});
