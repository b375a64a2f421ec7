// The first-run flow from an empty home, clicked through in Chromium: "Make localhost trusted" creates
// the CA, installs it in the NSS db of the temp HOME, issues localhost 127.0.0.1 ::1 and starts a wss://
// server. Then the page's own WebSocket (the built-in Client) connects to wss://localhost: that only
// opens if this Chromium trusts the CA. The echo shows in the client and in the frame log.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goTo, probeWss, shoot, startUi, type UiRig } from './helpers/ui';
import { requireTool, runTool, tempDir } from './helpers/tools';

let rig: UiRig;

beforeAll(async () => {
  requireTool('certutil');
  rig = await startUi();
}, 180_000);

afterAll(async () => {
  await rig?.close();
});

describe('first run in the browser', () => {
  it('makes wss://localhost trusted, echoes from the built-in client, logs both frames; removing trust makes Chromium refuse it', async () => {
    const { page } = rig;
    await page.getByRole('heading', { name: 'Make localhost trusted' }).waitFor();
    expect(fs.existsSync(path.join(rig.home, 'ca'))).toBe(false);
    await shoot(page, 'overview-first-run');

    // The system store needs root and the real /etc; Java's cacerts is the machine's: the user unticks them.
    await page.locator('input[name="store-system"]').uncheck();
    await page.locator('input[name="store-java"]').uncheck();
    await page.getByRole('button', { name: 'Make localhost trusted' }).click();

    const steps = page.getByRole('list', { name: 'First-run progress' });
    await steps
      .locator('[data-step="server"][data-state="done"]')
      .or(steps.locator('[data-state="failed"]'))
      .first()
      .waitFor({ timeout: 90_000 });
    const details = await steps.innerText();
    const states = await steps
      .locator('li')
      .evaluateAll((els) =>
        els.map((e) => `${e.getAttribute('data-step')}=${e.getAttribute('data-state')}`),
      );
    expect(states, `${details}\n${rig.output()}`).toEqual([
      'ca=done',
      'trust=done',
      'cert=done',
      'server=done',
    ]);
    await expect
      .poll(() => steps.locator('[data-step="trust"]').innerText(), { timeout: 10_000 })
      .toMatch(/trusted in .*NSS/i);

    const url = (await page.locator('code.url').innerText()).trim();
    expect(url).toMatch(/^wss:\/\/localhost:\d+\/$/);
    // The trust badge for NSS on the Overview says trusted.
    await page.locator('[data-store="nss"][data-state="trusted"]').waitFor();
    await shoot(page, 'overview-ready');
    // "Run again" is no longer the main button once setup is done.
    expect(
      (await page.getByRole('button', { name: 'Run again' }).getAttribute('class')) ?? '',
    ).not.toMatch(/primary/);

    // A returning user (reload): the setup card is collapsed to one line, and the dashboard lists the
    // running server with its URL, trust at a glance and a way into the client.
    await page.reload();
    await page.getByText('localhost is set up.').waitFor();
    expect(await page.getByRole('list', { name: 'First-run progress' }).count()).toBe(0);
    const item = page.locator(`li.item[data-state="running"]`).filter({ hasText: url });
    await item.waitFor();
    expect((await item.locator('code.server-url').innerText()).trim()).toBe(url);
    await page
      .locator('[data-trust-summary]')
      .filter({ hasText: /trusted in/ })
      .waitFor();
    expect(await item.getByRole('link', { name: /Open lab/ }).getAttribute('href')).toMatch(
      /^https:\/\/localhost:\d+\/$/,
    );
    await shoot(page, 'overview-returning');

    // The built-in client, opened from the dashboard with the URL filled in: the browser's own
    // WebSocket to wss://localhost.
    await item.getByRole('button', { name: 'Open in client' }).click();
    await page.getByRole('heading', { level: 1, name: 'Client' }).waitFor();
    expect(await page.locator('input[name="client-url"]').inputValue()).toBe(url);
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.locator('[data-client-state="open"]').waitFor({ timeout: 20_000 });
    const message = 'hello from chromium';
    await page.locator('textarea[name="client-message"]').fill(message);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const received = page.locator('li.msg[data-dir="received"]');
    await received.first().waitFor();
    expect(await received.first().locator('code').innerText()).toBe(message);
    await shoot(page, 'client');

    // Both frames in the frame log, with direction and size.
    await goTo(page, 'Frame log');
    const rows = page.getByRole('listbox', { name: 'Frame log events' });
    const inRow = rows.locator('.r[data-dir="in"][data-opcode="text"]').first();
    const outRow = rows.locator('.r[data-dir="out"][data-opcode="text"]').first();
    await inRow.waitFor();
    await outRow.waitFor();
    for (const row of [inRow, outRow]) {
      const text = await row.innerText();
      expect(text).toContain(message);
      expect(text).toContain(`${Buffer.byteLength(message)} B`);
    }
    await inRow.click();
    await page.getByRole('region', { name: 'Selected event' }).waitFor();
    expect(await page.locator('pre.payload').innerText()).toBe(message);
    await shoot(page, 'frame-log');

    // The CA sits in the temp HOME's NSS db (what Chromium read), and only trust made the page connect:
    // a Chromium with an empty HOME refuses the same URL.
    const nssdb = `sql:${path.join(rig.userHome, '.pki', 'nssdb')}`;
    const listed = runTool('certutil', ['-L', '-d', nssdb]);
    expect(listed.status, listed.stderr).toBe(0);
    const ca = await (await rig.api()).call('ca.get');
    const line = listed.stdout.split('\n').find((l) => /^WSS Studio CA\b/.test(l));
    expect(line, listed.stdout).toMatch(/\sC,,\s*$/); // trusted for TLS
    const nick = line!.replace(/\s+C,,\s*$/, '').trim();
    const pem = runTool('certutil', ['-L', '-d', nssdb, '-n', nick, '-a']).stdout;
    const body = (p: string) => p.replace(/-----[^-]+-----|\s/g, '');
    expect(body(pem)).toBe(body(ca!.certPem));
    const empty = tempDir('wss-ui-emptyhome-');
    try {
      expect(await probeWss(empty.dir, url)).toBe('error');
    } finally {
      empty.cleanup();
    }

    // The Lab screen opens the HTTPS lab page of that server in a new tab; it loads because it is trusted.
    await goTo(page, 'Lab');
    const [lab] = await Promise.all([
      rig.context.waitForEvent('page'),
      page.getByRole('link', { name: 'Open the HTTPS lab page' }).click(),
    ]);
    await lab.waitForLoadState('domcontentloaded');
    expect(lab.url()).toBe(url.replace('wss:', 'https:'));
    expect(await lab.title()).toBe('WSS Studio lab');
    await lab.close();

    // Remove trust from the Overview (confirmed in the page): NSS no longer trusts it, and a fresh
    // Chromium with this HOME now refuses the URL it accepted before.
    expect(await probeWss(rig.userHome, url)).toBe('open');
    await goTo(page, 'Overview');
    await page.locator('[data-store="nss"]').getByRole('button', { name: 'Remove' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove the WSS Studio CA?' });
    await dialog.getByRole('button', { name: 'Remove CA' }).click();
    await page.locator('[data-store="nss"][data-state="not-trusted"]').waitFor({ timeout: 30_000 });
    expect(await probeWss(rig.userHome, url)).toBe('error');
  }, 240_000);
});
