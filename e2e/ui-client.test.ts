// Client screen in Chromium: connecting through the engine sends what a browser cannot (a ping, close code
// 1001), and the echo server's frame log records each frame; in browser mode that close code is refused
// inline before anything is sent, and Disconnect sends the code in the field (1000), not 1005. The
// conversation follows the newest message, offers "Jump to latest" when scrolled up, pretty-prints JSON,
// shows hex as hex, copies, resends, filters, and keeps a saved list across reloads; Ctrl+Enter sends.
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

async function connectBrowser(page: UiRig['page']) {
  await page.locator('input[name="client-url"]').fill(url);
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.locator('[data-client-state="open"]').waitFor({ timeout: 20_000 });
}

describe('Client screen', () => {
  it('Disconnect in browser mode sends the code in the field (1000), not "no status" 1005', async () => {
    const { page } = rig;
    await connectBrowser(page);
    expect(await page.getByRole('spinbutton', { name: 'Close code' }).inputValue()).toBe('1000');
    await page.getByRole('button', { name: 'Disconnect' }).click();
    await page.locator('[data-client-state="closed"]').waitFor({ timeout: 10_000 });
    await page.getByText('closed · code 1000').waitFor();
    expect(await page.getByText('code 1005').count()).toBe(0);
    await page.getByRole('button', { name: 'Clear' }).click();
  });

  it('follows the newest message, and offers "Jump to latest" when scrolled up', async () => {
    const { page } = rig;
    await page.setViewportSize({ width: 900, height: 600 });
    await connectBrowser(page);
    const box = page.locator('textarea[name="client-message"]');
    const pane = page.getByRole('list', { name: 'Conversation' });
    const atBottom = () =>
      pane.evaluate((el) => el.scrollTop + el.clientHeight >= el.scrollHeight - 24);
    // Ctrl+Enter sends from the message box.
    for (let i = 0; i < 30; i++) {
      await box.fill(`line ${i}`);
      await box.press('Control+Enter');
    }
    const last = page.locator('li.msg[data-dir="received"]').filter({ hasText: 'line 29' });
    await last.waitFor({ timeout: 10_000 });
    await expect.poll(atBottom).toBe(true);
    expect(await last.isVisible()).toBe(true);
    // Every message has a timestamp.
    expect(await last.locator('time').innerText()).toMatch(/^\d\d:\d\d:\d\d\.\d{3}$/);
    await shoot(page, 'client-following-900');
    // At 900×600 the conversation is the main pane: many rows, not 3.
    const paneHeight = await pane.evaluate((el) => el.clientHeight);
    expect(paneHeight).toBeGreaterThan(200);
    const rowHeight = await last.evaluate((el) => el.getBoundingClientRect().height);
    console.log(
      `conversation pane at 900×600: ${paneHeight} px, ${Math.floor(paneHeight / rowHeight)} one-line messages`,
    );

    // Scrolled up: new messages do not move the view; the button says how many arrived.
    await pane.evaluate((el) => (el.scrollTop = 0));
    await page.getByRole('button', { name: /^Jump to latest/ }).waitFor();
    await box.fill('while away');
    await box.press('Control+Enter');
    await page.getByRole('button', { name: 'Jump to latest (2 new)' }).waitFor({ timeout: 10_000 });
    expect(await pane.evaluate((el) => el.scrollTop)).toBe(0);
    await shoot(page, 'client-scrolled-up-900');
    await page.getByRole('button', { name: /^Jump to latest/ }).click();
    await expect.poll(atBottom).toBe(true);
    expect(await page.getByRole('button', { name: /^Jump to latest/ }).count()).toBe(0);
    // The composer growing (an error line under the box) does not hide the newest message.
    await page.getByRole('radio', { name: 'hex' }).check();
    await box.fill('zz');
    await page.getByText('"z" is not a hex digit').waitFor();
    await expect.poll(atBottom).toBe(true);
    await box.fill('');
    await page.getByRole('radio', { name: 'text' }).check();
  });

  it('pretty-prints JSON, shows hex as hex, resends, filters with "Clear filters", keeps saved messages', async () => {
    const { page } = rig;
    await page.getByRole('button', { name: 'Clear' }).click();
    const box = page.locator('textarea[name="client-message"]');
    await page.getByRole('radio', { name: 'JSON' }).check();
    await box.fill('{"type":"greeting","items":[1,2]}');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const json = page.locator('li.msg[data-dir="received"][data-format="json"]');
    await json.waitFor({ timeout: 10_000 });
    expect(await json.locator('pre.json').innerText()).toBe(
      '{\n  "type": "greeting",\n  "items": [\n    1,\n    2\n  ]\n}',
    );
    // Collapsible: the summary closes it.
    await json.locator('summary').click();
    expect(await json.locator('pre.json').isVisible()).toBe(false);

    await page.getByRole('radio', { name: 'hex' }).check();
    await box.fill('de ad be ef');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const hexIn = page.locator('li.msg[data-dir="received"][data-format="hex"]');
    await hexIn.waitFor({ timeout: 10_000 });
    expect(await hexIn.locator('code.text').textContent()).toBe('hexde ad be ef');
    expect(
      await page.locator('li.msg[data-dir="sent"][data-format="hex"] code.text').textContent(),
    ).toBe('hexde ad be ef');

    // Resend the JSON message: one more sent and one more echo.
    const sentJson = page.locator('li.msg[data-dir="sent"][data-format="json"]');
    await sentJson.getByRole('button', { name: 'Resend' }).click();
    await expect.poll(() => json.count(), { timeout: 10_000 }).toBe(2);
    expect(await sentJson.count()).toBe(2);

    // Filter; an empty result offers "Clear filters".
    await page.getByRole('searchbox', { name: 'Filter messages' }).fill('greeting');
    await expect.poll(() => page.locator('li.msg').count()).toBe(4);
    await page.getByRole('searchbox', { name: 'Filter messages' }).fill('no such thing');
    await page.getByText('No message matches this filter.').waitFor();
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(() => page.locator('li.msg').count()).toBeGreaterThan(4);
    await shoot(page, 'client-conversation-900');

    // The saved list survives a reload (localStorage) and fills the box in its mode.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Client' }).waitFor();
    await page.getByText('Saved messages (1)').click();
    await shoot(page, 'client-saved-900');
    await page
      .getByRole('list', { name: 'Saved messages' })
      .getByRole('button', { name: 'hex de ad be ef' })
      .click();
    expect(await box.inputValue()).toBe('de ad be ef');
    expect(await page.getByRole('radio', { name: 'hex' }).isChecked()).toBe(true);
    await page.getByRole('radio', { name: 'text' }).check();
    await page.setViewportSize({ width: 1100, height: 720 });
  });

  it('browser mode refuses a close code browsers cannot send, before sending anything', async () => {
    const { page } = rig;
    await page.locator('input[name="client-url"]').fill(url);
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.locator('[data-client-state="open"]').waitFor({ timeout: 20_000 });
    expect(await page.getByRole('button', { name: 'Ping' }).isDisabled()).toBe(true);
    await page.getByRole('spinbutton', { name: 'Close code' }).fill('1001');
    await page.getByText('browsers only send 1000 or 3000–4999').waitFor();
    expect(await page.getByRole('button', { name: 'Disconnect' }).isDisabled()).toBe(true);
    await page.getByRole('spinbutton', { name: 'Close code' }).fill('4000');
    await page.getByRole('textbox', { name: 'Reason', exact: true }).fill('bye from the page');
    await page.getByRole('button', { name: 'Disconnect' }).click();
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
    await page.getByRole('button', { name: 'Disconnect' }).click();
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
