// Replay from the frame log, in Chromium (web mode): select a stretch of one connection's events (a row,
// then Shift+click another), pick the connection to play to, a speed and whether to wait for the
// client, and "Replay to connection N". A real `ws` client receives the recorded server->client messages
// in order, the frame log marks them as replayed, and with waiting nothing is played until the client
// sends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Client } from '../shared/client';
import { shoot, startUi, type UiRig } from './helpers/ui';

let rig: UiRig;
let api: Client;
let url: string;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  rig = await startUi({ route: '#/log', viewport: { width: 1280, height: 900 } });
  api = await rig.api();
  const s = await api.call('server.add', { name: 'replay echo', scheme: 'ws', port: 0 });
  url = (await api.call('server.start', { id: s.id })).url as string;
  await rig.page.reload();
  await rig.page.getByRole('heading', { level: 1, name: 'Frame log' }).waitFor();
}, 180_000);

afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await rig?.close();
});

async function open(): Promise<{ ws: WebSocket; got: string[]; conn: number }> {
  const before = new Set(
    (await api.call('log.snapshot', {})).events.flatMap((e) => (e.type === 'open' ? [e.conn] : [])),
  );
  const ws = new WebSocket(url);
  sockets.push(ws);
  const got: string[] = [];
  ws.on('message', (d: Buffer) => got.push(d.toString()));
  await new Promise((res, rej) => {
    ws.once('open', res);
    ws.once('error', rej);
  });
  let conn = 0;
  await expect
    .poll(async () => {
      const evs = (await api.call('log.snapshot', {})).events;
      conn = evs.flatMap((e) => (e.type === 'open' && !before.has(e.conn) ? [e.conn] : []))[0] ?? 0;
      return conn;
    })
    .toBeGreaterThan(0);
  return { ws, got, conn };
}

describe('frame log replay', () => {
  it('replays a selected range of one connection to another, then waits for the client', async () => {
    const { page } = rig;
    // The recording: three messages echoed on connection A.
    const a = await open();
    for (const m of ['one', 'two', 'three']) {
      a.ws.send(m);
      await expect
        .poll(() => a.got.length)
        .toBeGreaterThanOrEqual(['one', 'two', 'three'].indexOf(m) + 1);
    }
    a.ws.close();
    const b = await open();

    // Only A's events in the list, then select from its first message to its last echo.
    await page.getByRole('combobox', { name: 'Connection' }).selectOption(String(a.conn));
    const rows = page.locator('[role="option"]');
    await expect.poll(() => rows.filter({ hasText: 'three' }).count()).toBe(2);
    const frames = (await api.call('log.snapshot', {})).events.filter(
      (e) => e.type === 'frame' && e.conn === a.conn && e.opcode === 'text',
    );
    const first = frames[0]!.seq;
    const last = frames[frames.length - 1]!.seq;
    await page.locator(`[data-seq="${first}"]`).click();
    const selection = page.locator('[data-replay-selection]');
    await expect
      .poll(() => selection.innerText())
      .toMatch(
        new RegExp(
          `^Event ${first} of connection #${a.conn}: 0 server→client, 1 client→server message\\.`,
        ),
      );
    await page.locator(`[data-seq="${last}"]`).click({ modifiers: ['Shift'] });
    await expect
      .poll(() => selection.innerText())
      .toMatch(
        new RegExp(
          `^Events ${first}–${last} of connection #${a.conn}: 3 server→client, 3 client→server messages\\.`,
        ),
      );
    // The range is highlighted: every row of it, and nothing else.
    expect(await page.locator('.r.in-range').count()).toBe(6);

    // The newest open connection (B) is offered; play at double speed.
    const target = page.getByLabel('Replay to connection');
    expect(await target.inputValue()).toBe(String(b.conn));
    await page.getByLabel('Replay speed factor').fill('2');
    const go = page.getByRole('button', { name: `Replay to connection #${b.conn}` });
    await go.click();
    await expect.poll(() => b.got).toEqual(['one', 'two', 'three']);
    const result = page.locator('[data-replay-result]');
    await expect
      .poll(() => result.innerText())
      .toMatch(
        new RegExp(
          `^Replaying 3 messages of connection #${a.conn} \\(events ${first}–${last}\\) to connection #${b.conn} \\(replay-\\d+\\)\\.$`,
        ),
      );
    const replayed = (await api.call('log.snapshot', {})).events.filter(
      (e) => e.type === 'frame' && e.conn === b.conn && e.source === 'replay',
    );
    expect(replayed.map((e) => (e.type === 'frame' ? e.preview : ''))).toEqual([
      'one',
      'two',
      'three',
    ]);

    // Waiting for the client: nothing is played until B sends, then one message per client message.
    await page.getByLabel("Wait for the client's messages").check();
    await go.click();
    await expect.poll(() => result.innerText()).toMatch(/waiting for 3 client messages/);
    await new Promise((r) => setTimeout(r, 300));
    expect(b.got).toHaveLength(3);
    b.ws.send('go');
    await expect.poll(() => b.got.length).toBe(4);
    expect(b.got[3]).toBe('one');
    await page.locator('section.detail').scrollIntoViewIfNeeded();
    await shoot(page, 'frame-log-replay');

    // A connection that is not open: the engine's error, shown as is.
    await target.fill('999999');
    await page.getByRole('button', { name: 'Replay to connection #999999' }).click();
    await expect
      .poll(() => page.locator('.replay [role="alert"]').innerText())
      .toMatch(/connection 999999 is not open on this server/);
  });
});
