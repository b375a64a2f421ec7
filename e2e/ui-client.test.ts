// Client screen in Chromium: connecting through the engine sends what a browser cannot (a ping, close code
// 1001), and the echo server's frame log records each frame; in browser mode that close code is refused
// inline before anything is sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../shared/client';
import { goTo, shoot, startUi, type UiRig } from './helpers/ui';

let rig: UiRig;
let api: Client;
let url: string;

beforeAll(async () => {
  rig = await startUi({ route: '#/client' });
  api = await rig.api();
  const s = await api.call('server.add', { name: 'echo', scheme: 'ws', port: 0 });
  url = (await api.call('server.start', { id: s.id })).url!;
  await rig.page.reload();
  await rig.page.getByRole('heading', { level: 1, name: 'Client' }).waitFor();
}, 180_000);

afterAll(async () => {
  await rig?.close();
});

describe('Client screen', () => {
  it('browser mode refuses a close code browsers cannot send, before sending anything', async () => {
    const { page } = rig;
    await page.locator('input[name="client-url"]').fill(url);
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.locator('[data-client-state="open"]').waitFor({ timeout: 20_000 });
    expect(await page.getByRole('button', { name: 'Ping' }).isDisabled()).toBe(true);
    await page.getByRole('spinbutton', { name: 'Close code' }).fill('1001');
    await page.getByText('browsers only send 1000 or 3000–4999').waitFor();
    expect(await page.getByRole('button', { name: 'Close', exact: true }).isDisabled()).toBe(true);
    await page.getByRole('spinbutton', { name: 'Close code' }).fill('4000');
    await page.getByRole('textbox', { name: 'Reason', exact: true }).fill('bye from the page');
    await page.getByRole('button', { name: 'Close', exact: true }).click();
    await page.locator('[data-client-state="closed"]').waitFor({ timeout: 10_000 });
    await page.getByText('closed · code 4000 "bye from the page"').waitFor();
  });

  it('engine mode pings, echoes and closes with 1001; the frame log shows ping, pong and the close code', async () => {
    const { page } = rig;
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByRole('radio', { name: /WSS Studio engine/ }).check();
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.locator('[data-client-state="open"]').waitFor({ timeout: 20_000 });
    await page.getByText('connected through the engine').waitFor();

    await page.getByRole('button', { name: 'Ping' }).click();
    await page
      .locator('li.msg[data-dir="received"]')
      .filter({ hasText: 'pong' })
      .waitFor({ timeout: 10_000 });
    await page.locator('textarea[name="client-message"]').fill('via the engine');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page
      .locator('li.msg[data-dir="received"][data-kind="text"]')
      .filter({ hasText: 'via the engine' })
      .waitFor({ timeout: 10_000 });
    await shoot(page, 'client-engine');

    await page.getByRole('spinbutton', { name: 'Close code' }).fill('1001');
    await page.getByRole('textbox', { name: 'Reason', exact: true }).fill('going away');
    await page.getByRole('button', { name: 'Close', exact: true }).click();
    await page.locator('[data-client-state="closed"]').waitFor({ timeout: 10_000 });
    await page.getByText('closed · code 1001 "going away"').waitFor();

    await goTo(page, 'Frame log');
    const rows = page.getByRole('listbox', { name: 'Frame log events' });
    await rows.locator('.r[data-dir="in"][data-opcode="ping"]').waitFor();
    await rows.locator('.r[data-dir="out"][data-opcode="pong"]').waitFor();
    const closeIn = rows.locator('.r[data-dir="in"][data-opcode="close"]').last();
    await closeIn.waitFor();
    expect(await closeIn.innerText()).toContain('code 1001 "going away"');
  });

  it('engine mode presents a stored client certificate to a server that requires one', async () => {
    const { page } = rig;
    await api.call('ca.create', { keyType: 'ecdsa' });
    const server = await api.call('cert.issue', { names: ['localhost', '127.0.0.1'] });
    const client = await api.call('cert.issue', { names: ['dev@app.test'], client: true });
    const s = await api.call('server.add', {
      name: 'mtls',
      scheme: 'wss',
      certId: server.leaf.id,
      requireClientCert: true,
    });
    const mtlsUrl = (await api.call('server.start', { id: s.id })).url!;
    await page.reload();
    await goTo(page, 'Client');
    await page.getByRole('radio', { name: /WSS Studio engine/ }).check();
    await page.locator('input[name="client-url"]').fill(mtlsUrl);
    // Without a certificate: the server's 403 reason is shown.
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.getByRole('alert').filter({ hasText: 'requires a client certificate' }).waitFor({
      timeout: 20_000,
    });
    // Only certificates with client auth are offered.
    const select = page.locator('select[name="client-cert"]');
    const offered = await select.locator('option').allInnerTexts();
    expect(offered).toEqual(['(none)', `dev@app.test · ${client.leaf.id}`]);
    await select.selectOption(client.leaf.id);
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.locator('[data-client-state="open"]').waitFor({ timeout: 20_000 });
    await shoot(page, 'client-mtls');
    const opened = (await api.call('log.snapshot', {})).events.filter(
      (e) => e.type === 'open' && e.serverId === s.id,
    );
    expect(opened.at(-1)).toMatchObject({
      clientCert: { sans: ['email:dev@app.test'], fingerprint256: client.leaf.fingerprint256 },
    });
    await page.getByRole('button', { name: 'Disconnect' }).click();
  });
});
