// Servers screen in Chromium: the on/off switch really stops and starts the server (a foreign client
// sees it), the client count follows, and a busy port shows its error on the server's own card.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { WebSocket as WebSocketRoute } from 'playwright-core';
import type { Client } from '../shared/client';
import { shoot, startUi, type UiRig } from './helpers/ui';

let rig: UiRig;
let api: Client;
let blocker: net.Server;

/** Opens a ws client, sends one message and resolves with the echo (rejects if it cannot connect). */
function echoOnce(url: string, text: string): Promise<{ ws: WebSocket; echo: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => reject(new Error(`no echo from ${url}`)), 10_000);
    ws.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    ws.once('open', () => ws.send(text));
    ws.once('message', (data) => {
      clearTimeout(timer);
      resolve({ ws, echo: String(data) });
    });
  });
}

beforeAll(async () => {
  rig = await startUi({ route: '#/servers' });
  api = await rig.api();
  await api.call('ca.create', { keyType: 'ecdsa' });
  await api.call('cert.issue', { names: ['localhost', '127.0.0.1', '::1'] });
  const s = await api.call('server.add', { name: 'plain echo', scheme: 'ws', port: 0 });
  await api.call('server.start', { id: s.id });
  blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  await rig.page.reload();
  await rig.page.getByRole('heading', { level: 1, name: 'Servers' }).waitFor();
}, 180_000);

afterAll(async () => {
  await new Promise((r) => blocker?.close(r));
  await rig?.close();
});

describe('Servers screen', () => {
  it('toggles a server off and on; a foreign client sees each state; the client count follows', async () => {
    const { page } = rig;
    const [server] = await api.call('server.list');
    const card = page.locator(`article[data-server="${server!.id}"]`);
    await card.waitFor();
    expect(await card.getAttribute('data-state')).toBe('running');
    const url1 = server!.url!;
    const { ws, echo } = await echoOnce(url1, 'one');
    expect(echo).toBe('one');
    await expect
      .poll(() => card.locator('[data-clients]').innerText(), { timeout: 10_000 })
      .toBe('1');
    await shoot(page, 'servers');
    ws.close();

    const toggle = card.getByRole('switch');
    expect(await toggle.getAttribute('aria-checked')).toBe('true');
    await toggle.click();
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 15_000 }).toBe('stopped');
    expect(await toggle.getAttribute('aria-checked')).toBe('false');
    expect((await api.call('server.list'))[0]!.state).toBe('stopped');
    await expect(echoOnce(url1, 'nobody home')).rejects.toThrow();

    await toggle.click();
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 15_000 }).toBe('running');
    const [again] = await api.call('server.list');
    const back = await echoOnce(again!.url!, 'two');
    expect(back.echo).toBe('two');
    back.ws.close();
    // The card shows the URL it is reachable at now.
    expect(await card.locator('.url code').innerText()).toBe(again!.url);
  });

  it('shows a change made elsewhere (the CLI, another window) from the stream; a save sends only its edits', async () => {
    const { page } = rig;
    const [server] = await api.call('server.list');
    // The page's requests (web mode: RPC frames over its WebSocket), from a fresh load.
    const sent: string[] = [];
    const onSocket = (ws: WebSocketRoute) =>
      ws.on('framesent', (f) => sent.push(String(f.payload)));
    page.on('websocket', onSocket);
    await page.reload();
    const card = page.locator(`article[data-server="${server!.id}"]`);
    await card.waitFor();
    await expect.poll(() => sent.filter((f) => f.includes('"server.list"')).length).toBe(1);
    await page.getByRole('heading', { level: 1, name: 'Servers' }).waitFor();
    const asked = sent.length;
    // The user opens the options; meanwhile another client of the same engine (this test's own api)
    // renames the server and switches its mode.
    await card.getByRole('button', { name: 'Edit options' }).click();
    expect(await card.getByLabel('Echo mode').inputValue()).toBe('echo');
    await api.call('server.update', {
      id: server!.id,
      patch: { name: 'renamed elsewhere', mode: 'broadcast' },
    });
    await expect
      .poll(() => card.locator('h2').innerText(), { timeout: 10_000 })
      .toBe('renamed elsewhere');
    // The open form saves only what the user edited: the mode set elsewhere stays.
    await card.getByLabel('Subprotocols').fill('chat');
    await card.getByRole('button', { name: /^Save/ }).click();
    await card.getByRole('button', { name: 'Edit options' }).waitFor({ timeout: 15_000 });
    const def = (await api.call('server.list')).find((s) => s.id === server!.id)!.definition;
    expect(def).toMatchObject({
      name: 'renamed elsewhere',
      mode: 'broadcast',
      protocols: ['chat'],
    });
    // Since the load: the save itself, and no reload of the list (settings.problems is re-read on each
    // server.status push by the problems banner).
    const since = sent
      .slice(asked)
      .map((f) => JSON.parse(f) as { t: string; name?: string })
      .filter((m) => m.t === 'call')
      .map((m) => m.name);
    expect(since.filter((n) => n !== 'settings.problems')).toEqual(['server.update']);
    page.off('websocket', onSocket);
    await api.call('server.update', {
      id: server!.id,
      patch: { name: 'plain echo', mode: 'echo', protocols: [] },
    });
    await expect.poll(() => card.locator('h2').innerText()).toBe('plain echo');
  });

  it('shows a busy port on the card of the server that could not start', async () => {
    const { page } = rig;
    const busyPort = (blocker.address() as net.AddressInfo).port;
    await page.getByRole('button', { name: 'Add server' }).click();
    await page.locator('input[name="server-name"]').fill('busy one');
    await page.locator('select[name="server-scheme"]').selectOption('ws');
    await page.locator('input[name="server-port"]').fill(String(busyPort));
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    // Added servers start at once ("Start it now" is on by default): this one cannot.
    const card = page.getByRole('article', { name: 'Server busy one' });
    await card.waitFor();
    const alert = card.getByRole('alert');
    await alert.waitFor({ timeout: 15_000 });
    const text = await alert.innerText();
    expect(text).toContain(`port ${busyPort} is already in use`);
    // Named by its display name, not its internal id.
    expect(text).toContain('start ws server "busy one"');
    expect(text).toMatch(/pick another port/);
    expect(await card.getAttribute('data-state')).toBe('error');
    // The other server is untouched.
    const other = page.getByRole('article', { name: 'Server plain echo' });
    expect(await other.getAttribute('data-state')).toBe('running');
    expect(await other.getByRole('alert').count()).toBe(0);
    await shoot(page, 'servers-busy-port');
  });

  it('a wss card shows the name its certificate covers, the hosts line, a warning for a cert that covers nothing reachable, and the mTLS option', async () => {
    const { page } = rig;
    const app = await api.call('cert.issue', { names: ['app.test', '*.app.test'] });
    const lan = await api.call('cert.issue', { names: ['10.1.2.3'] });
    const a = await api.call('server.add', {
      name: 'app test',
      scheme: 'wss',
      certId: app.leaf.id,
    });
    const on = await api.call('server.start', { id: a.id });
    expect(on.url).toBe(`wss://app.test:${on.port}/`);
    const b = await api.call('server.add', {
      name: 'lan only',
      scheme: 'wss',
      certId: lan.leaf.id,
    });
    await api.call('server.start', { id: b.id });
    await page.reload();
    const card = page.getByRole('article', { name: 'Server app test' });
    await card.waitFor();
    expect(await card.locator('.url code').innerText()).toBe(on.url);
    expect(await card.locator('[data-url-hint]').innerText()).toMatch(
      /"127\.0\.0\.1 app\.test" to \/etc\/hosts/,
    );
    expect(await card.locator('[data-cert-warning]').count()).toBe(0);
    const bad = page.getByRole('article', { name: 'Server lan only' });
    expect(await bad.locator('[data-cert-warning]').innerText()).toMatch(
      /does not cover "127\.0\.0\.1" \(its names: 10\.1\.2\.3\)/,
    );
    // Require a client certificate from the card's options: saved, restarted, shown.
    await card.getByRole('button', { name: 'Edit options' }).click();
    await card.locator('input[name="require-client-cert"]').check();
    await card.getByRole('button', { name: /^Save/ }).click();
    await card.locator('[data-mtls]').waitFor({ timeout: 15_000 });
    expect(await card.locator('[data-mtls]').innerText()).toMatch(
      /required, issued by the WSS Studio CA/,
    );
    const def = (await api.call('server.list')).find((s) => s.id === a.id)!.definition;
    expect(def.requireClientCert).toBe(true);
    await bad.scrollIntoViewIfNeeded();
    await shoot(page, 'servers-cert-urls');

    // Renewed elsewhere (CLI, another window): the card says it still serves the old one, and restarts it.
    const renewed = await api.call('cert.renew', { id: app.leaf.id });
    await page.reload();
    const stale = card.locator('[data-stale-cert]');
    await stale.waitFor();
    expect(await stale.innerText()).toMatch(/still serves the old one until it restarts/);
    await stale.getByRole('button', { name: 'Restart' }).click();
    await stale.waitFor({ state: 'detached', timeout: 15_000 });
    // The notice goes as soon as the restart begins; the new certificate is served once it runs again.
    await expect
      .poll(
        async () => (await api.call('server.list')).find((s) => s.id === a.id)?.certFingerprint256,
        { timeout: 15_000 },
      )
      .toBe(renewed.fingerprint256);
  });
});
