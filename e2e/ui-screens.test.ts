// Every screen, populated, in light and dark at the smallest supported window (900×600) and at 1280×800:
// screenshots to e2e/screenshots/, no horizontal overflow, axe-core finds no violation (the frame log
// with a frame selected), and the navigation is reachable and usable from the keyboard.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Client } from '../shared/client';
import { axe, axeReport, goTo, shoot, startUi, type UiRig } from './helpers/ui';

const SCREENS = [
  'Overview',
  'Certificates',
  'Servers',
  'Front a server',
  'Frame log',
  'Client',
  'Doctor',
  'Lab',
];

let rig: UiRig;
let api: Client;

beforeAll(async () => {
  rig = await startUi({ viewport: { width: 900, height: 600 } });
  api = await rig.api();
  await api.call('ca.create', { keyType: 'ecdsa' });
  const { leaf } = await api.call('cert.issue', { names: ['localhost', '127.0.0.1', '::1'] });
  await api.call('cert.issue', { names: ['app.test', '*.app.test'], client: true });
  await api.call('cert.issue', { names: ['soon.test'], days: 10 });
  const wss = await api.call('server.add', {
    name: 'localhost (wss)',
    scheme: 'wss',
    port: 0,
    certId: leaf.id,
  });
  await api.call('server.start', { id: wss.id });
  const plain = await api.call('server.add', {
    name: 'plain ws',
    scheme: 'ws',
    port: 0,
    protocols: ['chat'],
  });
  const started = await api.call('server.start', { id: plain.id });
  // A little traffic for the frame log: text, JSON, binary.
  const ws = new WebSocket(started.url!, ['chat']);
  await new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('error', rej);
  });
  let got = 0;
  const all = new Promise<void>((res) => ws.on('message', () => ++got === 3 && res()));
  ws.send('hello');
  ws.send(JSON.stringify({ type: 'greeting', items: [1, 2, 3] }));
  ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x41]));
  await all;
  ws.close(1000, 'done');
  await rig.page.reload();
}, 180_000);

afterAll(async () => {
  await rig?.close();
});

describe('every screen', () => {
  it('renders each screen in light and dark at 900×600 without horizontal overflow', async () => {
    const { page } = rig;
    for (const name of SCREENS) {
      await goTo(page, name);
      if (name === 'Frame log') {
        await page.locator('.r[data-opcode="binary"]').first().click();
        await page.getByRole('region', { name: 'Selected event' }).waitFor();
        expect(await page.locator('pre.payload').innerText()).toMatch(
          /^00000000 {2}de ad be ef 00 41 /,
        );
        // HAR export: a file Chrome DevTools can open, with the frames as _webSocketMessages.
        const [har] = await Promise.all([
          page.waitForEvent('download'),
          page.getByRole('button', { name: 'Export HAR' }).click(),
        ]);
        const harFile = path.join(rig.root, har.suggestedFilename());
        await har.saveAs(harFile);
        const parsed = JSON.parse(fs.readFileSync(harFile, 'utf8')) as {
          log: { entries: { _webSocketMessages?: { type: string; data: string }[] }[] };
        };
        const msgs = parsed.log.entries.flatMap((e) => e._webSocketMessages ?? []);
        expect(
          msgs
            .filter((m) => m.data === 'hello')
            .map((m) => m.type)
            .sort(),
        ).toEqual(['receive', 'send']);
        const [jsonl] = await Promise.all([
          page.waitForEvent('download'),
          page.getByRole('button', { name: 'Export JSONL' }).click(),
        ]);
        const jsonlFile = path.join(rig.root, jsonl.suggestedFilename());
        await jsonl.saveAs(jsonlFile);
        const lines = fs
          .readFileSync(jsonlFile, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { type: string });
        expect(lines.filter((l) => l.type === 'frame').length).toBeGreaterThanOrEqual(6);
      }
      if (name === 'Overview') {
        // The dashboard: both running servers with their URLs, and the certificate that expires soon.
        await page.locator('li.item[data-state="running"]').nth(1).waitFor();
        const soon = page.getByRole('list', { name: 'Expiring certificates' }).locator('li');
        expect(await soon.allInnerTexts()).toEqual([
          expect.stringMatching(/^in (9|10) days\s+soon\.test\s+Renew on Certificates/),
        ]);
        // Renew opens that certificate on the Certificates screen.
        await soon.getByRole('link', { name: /Renew on Certificates/ }).click();
        await page.getByRole('heading', { level: 1, name: 'Certificates' }).waitFor();
        await page.getByRole('heading', { level: 2, name: 'soon.test' }).waitFor();
        await goTo(page, 'Overview');
      }
      if (name === 'Certificates') await page.locator('tr[data-cert]').first().waitFor();
      if (name === 'Servers') {
        await page.locator('article[data-state="running"]').nth(1).waitFor();
        // Edit options on the plain server: subprotocols and echo mode reach the engine.
        const card = page.getByRole('article', { name: 'Server plain ws' });
        await card.getByRole('button', { name: 'Edit options' }).click();
        await card.getByLabel('Subprotocols').fill('chat, v2.json');
        await card.getByLabel('Echo mode').selectOption('broadcast');
        await card.getByRole('button', { name: /^Save/ }).click();
        await expect
          .poll(async () => (await api.call('server.list'))[1]?.definition.mode, {
            timeout: 10_000,
          })
          .toBe('broadcast');
        expect((await api.call('server.list'))[1]!.definition.protocols).toEqual([
          'chat',
          'v2.json',
        ]);
        await card.getByRole('button', { name: 'Edit options' }).waitFor();
      }
      if (name === 'Client') {
        const [, plain] = await api.call('server.list');
        await page.locator('input[name="client-url"]').fill(plain!.url!);
        await page.locator('input[name="client-protocols"]').fill('chat');
        await page.getByRole('button', { name: 'Connect' }).click();
        await page.locator('[data-client-state="open"]').waitFor({ timeout: 20_000 });
        await page.getByRole('radio', { name: 'JSON' }).check();
        await page.locator('textarea[name="client-message"]').fill('{"hello": "world"}');
        await page.getByRole('button', { name: 'Send', exact: true }).click();
        await page.locator('li.msg[data-dir="received"]').waitFor();
        // Bad hex is refused inline before anything is sent.
        await page.getByRole('radio', { name: 'hex' }).check();
        await page.locator('textarea[name="client-message"]').fill('de ad zz');
        await page.getByText('"z" is not a hex digit').waitFor();
        expect(await page.getByRole('button', { name: 'Send', exact: true }).isDisabled()).toBe(
          true,
        );
      }
      if (name === 'Doctor') {
        const [wss] = await api.call('server.list');
        await page
          .locator('input[name="doctor-url"]')
          .fill(wss!.url!.replace('127.0.0.1', 'localhost'));
        await page.getByRole('button', { name: 'Diagnose' }).click();
        await page.locator('[data-verdict]').waitFor({ timeout: 30_000 });
      }
      await shoot(page, `screen-${name.toLowerCase().replace(/\s+/g, '-')}`);
      const overflow = await page.evaluate(() => {
        const main = document.querySelector('main') as HTMLElement;
        return {
          doc: document.documentElement.scrollWidth - window.innerWidth,
          main: main.scrollWidth - main.clientWidth,
        };
      });
      expect(overflow, `${name} overflows horizontally at 900×600`).toEqual({ doc: 0, main: 0 });
      const violations = await axe(page);
      expect(violations, `${name} at 900×600:\n${axeReport(violations)}`).toEqual([]);
    }
  });

  it('renders each screen at 1280×800 in light and dark, axe-clean, the frame log with a frame selected', async () => {
    const { page } = rig;
    await page.setViewportSize({ width: 1280, height: 800 });
    try {
      for (const name of SCREENS) {
        await goTo(page, name);
        if (name === 'Frame log') {
          await page.locator('.r[data-opcode="text"]').first().click();
          await page.getByRole('region', { name: 'Selected event' }).waitFor();
        }
        const violations = await axe(page);
        expect(violations, `${name} at 1280×800:\n${axeReport(violations)}`).toEqual([]);
        await shoot(page, `screen-${name.toLowerCase().replace(/\s+/g, '-')}-1280`);
      }
      // The one-row frame-log toolbar also holds at 900×600 (it wrapped to two lines before).
      await page.setViewportSize({ width: 900, height: 600 });
      await goTo(page, 'Frame log');
      const rows = await page
        .getByRole('toolbar', { name: 'Frame log filters' })
        .evaluate((el) => el.getBoundingClientRect().height);
      expect(rows).toBeLessThan(48);
      await page
        .getByRole('region', { name: 'Selected event' })
        .getByRole('button', { name: 'Close' })
        .click();
      const shownRows = await page
        .getByRole('listbox', { name: 'Frame log events' })
        .evaluate((el) => Math.floor(el.clientHeight / 26));
      console.log(`frame log at 900×600, no row selected: ${shownRows} rows in view`);
      expect(shownRows).toBeGreaterThanOrEqual(12);
      // The sidebar folds to a rail; the links keep their names, and the choice survives a reload.
      await page.getByRole('button', { name: 'Collapse the sidebar' }).click();
      const navWidth = () =>
        page.getByRole('navigation', { name: 'Main' }).evaluate((el) => el.clientWidth);
      expect(await navWidth()).toBeLessThan(70);
      await page.reload();
      await page.getByRole('heading', { level: 1, name: 'Frame log' }).waitFor();
      expect(await navWidth()).toBeLessThan(70);
      await shoot(page, 'screen-frame-log-collapsed');
      await goTo(page, 'Client');
      await page.getByRole('button', { name: 'Expand the sidebar' }).click();
      expect(await navWidth()).toBeGreaterThan(120);
    } finally {
      await page.setViewportSize({ width: 900, height: 600 });
    }
  });

  it('is keyboard reachable: Tab reaches every navigation link and Enter opens the screen', async () => {
    const { page } = rig;
    await goTo(page, 'Overview');
    // Fresh load: sequential focus starts at the top of the document.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page.keyboard.press('Tab');
    const reached: string[] = [];
    for (let i = 0; i < 12 && reached.length < SCREENS.length; i++) {
      const text = await page.evaluate(() => {
        const el = document.activeElement;
        return el?.closest('nav') ? (el.textContent ?? '').trim() : '';
      });
      if (text) reached.push(text.replace(/\s*\d+$|\s*setup$/, ''));
      await page.keyboard.press('Tab');
    }
    expect(reached).toEqual(SCREENS);
    // Shift+Tab back to "Doctor" and open it with Enter.
    for (let i = 0; i < 20; i++) {
      const t = await page.evaluate(() => (document.activeElement?.textContent ?? '').trim());
      if (t === 'Doctor') break;
      await page.keyboard.press('Shift+Tab');
    }
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Doctor' }).waitFor();
    // A visible focus ring on the focused control (outline from :focus-visible).
    await page.keyboard.press('Tab');
    const outline = await page.evaluate(
      () => getComputedStyle(document.activeElement as Element).outlineStyle,
    );
    expect(outline).not.toBe('none');
  });
});
