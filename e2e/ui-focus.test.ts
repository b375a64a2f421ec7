// Focus and feedback in Chromium: inline forms take focus and close on Escape (focus back on the button
// that opened them), a server switch toggled with Space keeps focus, Issue and Export leave focus on a
// control and say what was issued or exported, the Overview's export note goes away, a newly added
// server starts, copy buttons are named by what they copy, and commands never wrap inside a word.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../shared/client';
import { goTo, startUi, type UiRig } from './helpers/ui';

let rig: UiRig;
let api: Client;

beforeAll(async () => {
  rig = await startUi({ route: '#/servers', viewport: { width: 900, height: 600 } });
  api = await rig.api();
  await api.call('ca.create', { keyType: 'ecdsa' });
  await rig.page.reload();
  await rig.page.getByRole('heading', { level: 1, name: 'Servers' }).waitFor();
}, 180_000);

afterAll(async () => {
  await rig?.close();
});

const focused = () =>
  rig.page.evaluate(() => {
    const el = document.activeElement;
    return el && el !== document.body
      ? `${el.tagName.toLowerCase()}:${el.getAttribute('name') ?? el.getAttribute('aria-label') ?? el.textContent?.trim()}`
      : 'body';
  });

describe('focus and feedback', () => {
  it('Add server: the form takes focus, Escape closes it, and an added server starts', async () => {
    const { page } = rig;
    const open = page.getByRole('button', { name: 'Add server' });
    await open.click();
    expect(await focused()).toBe('input:server-name');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('input[name="server-name"]').count()).toBe(0);
    expect(await focused()).toBe('button:Add server');

    await page.keyboard.press('Enter');
    await page.locator('input[name="server-name"]').fill('focus echo');
    await page.locator('select[name="server-scheme"]').selectOption('ws');
    expect(await page.getByRole('checkbox', { name: 'Start it now' }).isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page
      .getByText(/^Added "focus echo" at ws:\/\/(localhost|127\.0\.0\.1):\d+\/\.$/)
      .waitFor();
    expect(await focused()).toBe('button:Add server');
    const [s] = await api.call('server.list');
    expect(s?.state).toBe('running');
  });

  it('Space on a server switch toggles it and keeps focus on the switch', async () => {
    const { page } = rig;
    const sw = page.getByRole('switch', { name: 'Server focus echo on/off' });
    await sw.focus();
    await page.keyboard.press('Space');
    await expect.poll(async () => (await api.call('server.list'))[0]?.state).toBe('stopped');
    await expect.poll(() => sw.getAttribute('aria-checked')).toBe('false');
    expect(await focused()).toBe('button:Server focus echo on/off');
    await page.keyboard.press('Space');
    await expect.poll(async () => (await api.call('server.list'))[0]?.state).toBe('running');
    expect(await focused()).toBe('button:Server focus echo on/off');
  });

  it('Issue: the form takes focus, Escape closes it; issuing says what and leaves focus on Issue certificate', async () => {
    const { page } = rig;
    await goTo(page, 'Certificates');
    const open = page.getByRole('button', { name: 'Issue certificate' });
    await open.click();
    expect(await focused()).toBe('input:names');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('input[name="names"]').count()).toBe(0);
    expect(await focused()).toBe('button:Issue certificate');
    await page.keyboard.press('Enter');
    await page.locator('input[name="names"]').fill('localhost 127.0.0.1');
    const issue = page.getByRole('button', { name: 'Issue', exact: true });
    await expect.poll(() => issue.isDisabled(), { timeout: 10_000 }).toBe(false);
    await issue.click();
    await page.getByText(/^Issued a certificate for localhost 127\.0\.0\.1 \(.+\)\.$/).waitFor();
    expect(await focused()).toBe('button:Issue certificate');
  });

  it('Export: focus stays on the export button and the message names the file', async () => {
    const { page } = rig;
    const pem = page.getByRole('button', { name: 'Certificate (PEM)' });
    await pem.focus();
    const [dl] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    await page.getByText(`Exported ${dl.suggestedFilename()} to your downloads.`).waitFor();
    expect(await focused()).toBe('button:Certificate (PEM)');
    // Copy buttons are named by what they copy, never by the whole value.
    await page.locator('summary').filter({ hasText: /^PEM$/ }).click();
    await page.getByRole('button', { name: 'Copy PEM' }).waitFor();
    await page.getByRole('button', { name: 'Copy fingerprint' }).waitFor();
    const names = await page
      .getByRole('button')
      .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? e.textContent ?? ''));
    expect(names.filter((n) => /BEGIN CERTIFICATE|[0-9A-F]{2}:[0-9A-F]{2}:/.test(n))).toEqual([]);
  });

  it('Overview: the export note says what was exported and goes away; commands never wrap inside a word', async () => {
    const { page } = rig;
    await goTo(page, 'Overview');
    await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CA (PEM)' }).click(),
    ]);
    const note = page.getByText(/^Exported the CA certificate as .+ to your downloads\.$/);
    await note.waitFor();
    await note.waitFor({ state: 'detached', timeout: 15_000 });

    // The trust fixes are commands ("wss-studio trust install --stores nss"): at 900 px and at a
    // narrow 700 px no word of them is split over two lines (a hyphen used to be a break point).
    await page.locator('code.command').first().waitFor({ timeout: 30_000 });
    expect(await page.locator('code.command .word').count()).toBeGreaterThan(3);
    for (const width of [900, 700]) {
      await page.setViewportSize({ width, height: 600 });
      const split = await page
        .locator('code.command .word')
        .evaluateAll((els) =>
          els.filter((e) => e.getClientRects().length > 1).map((e) => e.textContent),
        );
      expect(split, `words broken at ${width} px`).toEqual([]);
    }
    await page.setViewportSize({ width: 900, height: 600 });
  });
});
