// "Front a server" in Chromium (web mode): a bad target is refused on the form with the field and the fix;
// a good one starts a trusted front whose card follows live (health, WebSocket count), and whose faults
// and inject buttons change what a real client sees.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { Client } from '../shared/client';
import type { OpenEventDto } from '../shared/api';
import { goTo, shoot, startUi, type UiRig } from './helpers/ui';

let rig: UiRig;
let api: Client;
let target: http.Server;
let targetPort: number;
let caPem: string;

beforeAll(async () => {
  rig = await startUi({ route: '#/overview' });
  api = await rig.api();
  caPem = (await api.call('ca.create', { keyType: 'ecdsa' })).certPem;
  target = http.createServer((_q, s) => s.end('hello from the target'));
  const wss = new WebSocketServer({ server: target });
  wss.on('connection', (ws) => ws.on('message', (d, b) => ws.send(d, { binary: b })));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetPort = (target.address() as net.AddressInfo).port;
  await rig.page.reload();
  await goTo(rig.page, 'Front a server');
}, 180_000);

afterAll(async () => {
  target?.closeAllConnections();
  await new Promise((r) => target?.close(r));
  await rig?.close();
});

async function refusedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('Front a server screen', () => {
  it('refuses a target that is not listening, naming the field and the fix, and creates nothing', async () => {
    const { page } = rig;
    const dead = await refusedPort();
    await page.getByLabel('Your server (target)', { exact: true }).fill(`http://127.0.0.1:${dead}`);
    await page.getByLabel('Public URL', { exact: true }).fill('https://localhost:0');
    await page.getByRole('button', { name: 'Front it' }).click();
    const alert = page.locator('form [role=alert][data-field=target]');
    await alert.waitFor();
    expect(await alert.textContent()).toContain(
      `start your server so it listens on 127.0.0.1:${dead}`,
    );
    expect(await api.call('proxy.list', {})).toEqual([]);
  });

  it('fronts a live server: the card shows it up, counts the WebSocket, and faults and inject reach the client', async () => {
    const { page } = rig;
    await page
      .getByLabel('Your server (target)', { exact: true })
      .fill(`http://127.0.0.1:${targetPort}`);
    await page.getByLabel('Public URL', { exact: true }).fill('https://localhost:0');
    await page.getByRole('button', { name: 'Front it' }).click();
    const ok = page.locator('form [role=status]');
    await ok.waitFor();
    const [proxy] = await api.call('proxy.list', {});
    expect(proxy?.state).toBe('running');
    const url = proxy?.url as string;
    expect(await ok.textContent()).toContain(url);
    const card = page.locator(`[data-proxy="${proxy?.id}"]`);
    await card.locator('[data-health=up]').waitFor();

    // A real client through the front, trusting the CA.
    const ws = new WebSocket(url.replace('https:', 'wss:') + '/', { ca: caPem });
    await new Promise((r, j) => {
      ws.once('open', r);
      ws.once('error', j);
    });
    await card.locator('[data-connections]', { hasText: '1' }).waitFor();
    const rtt = async (text: string) => {
      const t0 = performance.now();
      const got = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
      ws.send(text);
      expect(await got).toBe(text);
      return performance.now() - t0;
    };
    expect(await rtt('before')).toBeLessThan(300);

    await card.getByRole('button', { name: 'Faults & inject' }).click();
    await card.getByLabel('Latency (ms)').fill('250');
    await card.getByRole('button', { name: 'Apply faults' }).click();
    await card.locator('[data-faults]', { hasText: '+250 ms' }).waitFor();
    expect(await rtt('slow')).toBeGreaterThanOrEqual(500);
    await shoot(page, 'proxies');
    await card.getByRole('button', { name: 'Clear' }).click();
    await card.locator('[data-faults]', { hasText: 'none' }).waitFor();

    const open = (await api.call('log.snapshot', {})).events.find(
      (e): e is OpenEventDto => e.type === 'open' && e.serverId === proxy?.id,
    ) as OpenEventDto;
    const injected = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
    await card.getByLabel('Connection').fill(String(open.conn));
    await card.getByLabel('Message').fill('injected hello');
    await card.getByRole('button', { name: 'Inject' }).click();
    expect(await injected).toBe('injected hello');

    const closed = new Promise<[number, string]>((r) =>
      ws.once('close', (c, why) => r([c, String(why)])),
    );
    await card.getByLabel('Close code').fill('4009');
    await card.getByLabel('Reason').fill('ui says bye');
    await card.getByRole('button', { name: 'Close all' }).click();
    expect(await closed).toEqual([4009, 'ui says bye']);
    await card.locator('[data-connections]', { hasText: '0' }).waitFor();
  }, 60_000);

  it('the doctor offers "Front it with wss://" for a blocked ws:// URL; the button starts a working front', async () => {
    const { page } = rig;
    await goTo(page, 'Doctor');
    await page.locator('input[name="doctor-url"]').fill(`ws://app.test:${targetPort}/live`);
    await page.locator('input[name="doctor-origin"]').fill('https://app.test');
    await page.getByRole('button', { name: 'Diagnose' }).click();
    const step = page.locator('li.step[data-code="MIXED_CONTENT_BLOCKED"]');
    await step.waitFor({ timeout: 30_000 });
    expect(await step.innerText()).toContain(
      `creates a trusted https://app.test:8443 in front of http://localhost:${targetPort}`,
    );
    // The suggested port is 8443; tests here bind only free ports, so the field says 0 (any free port).
    await step.getByLabel('on port').fill('0');
    const before = new Set((await api.call('proxy.list', {})).map((p) => p.id));
    await step.getByRole('button', { name: 'Front it with wss://' }).click();
    // The front starts; app.test has no /etc/hosts line on this machine, so the answer includes it.
    const done = step.locator('[role=status]');
    await done.waitFor({ timeout: 30_000 });
    const made = (await api.call('proxy.list', {})).filter((p) => !before.has(p.id));
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({
      state: 'running',
      definition: { target: `http://localhost:${targetPort}` },
    });
    const text = await done.innerText();
    expect(text).toContain(`wss://app.test:${made[0]?.port}/live`);
    expect(text).toContain('127.0.0.1 app.test');
    // The front works: through it (app.test mapped by hand, as the hosts line would) the target answers.
    const res = await new Promise<string>((resolve, reject) => {
      https
        .get(
          {
            host: '127.0.0.1',
            servername: 'app.test',
            headers: { Host: `app.test:${made[0]?.port}` },
            port: made[0]?.port,
            path: '/',
            ca: caPem,
          },
          (r) => {
            let b = '';
            r.on('data', (d) => (b += d));
            r.on('end', () => resolve(b));
          },
        )
        .on('error', reject);
    });
    expect(res).toBe('hello from the target');
    await shoot(page, 'doctor-front-offer');
  }, 60_000);

  it('an echo server card has the same faults: latency, inject and close reach a real client', async () => {
    const { page } = rig;
    const added = await api.call('server.add', { name: 'faulty echo', scheme: 'ws', port: 0 });
    const s = await api.call('server.start', { id: added.id });
    await goTo(page, 'Servers');
    const card = page.locator(`[data-server="${s.id}"]`);
    await card.getByRole('button', { name: 'Faults & inject' }).click();
    const ws = new WebSocket(s.url as string);
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    await card.getByLabel('Latency (ms)').fill('200');
    await card.getByRole('button', { name: 'Apply faults' }).click();
    await card.getByText('Faults applied.').waitFor();
    const t0 = performance.now();
    const echoed = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
    ws.send('through the lanes');
    expect(await echoed).toBe('through the lanes');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(400);
    await shoot(page, 'server-faults');
    const open = (await api.call('log.snapshot', {})).events.find(
      (e): e is OpenEventDto => e.type === 'open' && e.serverId === s.id,
    ) as OpenEventDto;
    const injected = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
    await card.getByLabel('Connection').fill(String(open.conn));
    await card.getByLabel('Message').fill('pushed from the card');
    await card.getByRole('button', { name: 'Inject' }).click();
    expect(await injected).toBe('pushed from the card');
    const closed = new Promise<number>((r) => ws.once('close', (c) => r(c)));
    await card.getByLabel('Close code').fill('4321');
    await card.getByRole('button', { name: 'Close all' }).click();
    expect(await closed).toBe(4321);
  }, 60_000);
});
