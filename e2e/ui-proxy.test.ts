// "Front a server" in Chromium (web mode): a bad target is refused on the form with the field and the fix;
// a good one starts a trusted front whose card follows live (health, WebSocket count), and whose faults
// and inject buttons change what a real client sees.
import http from 'node:http';
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
});
