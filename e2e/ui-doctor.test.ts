// Doctor screen in Chromium: wss:// aimed at a plain ws:// port shows, step by step, that the port speaks
// plain HTTP, with the ERR_SSL_PROTOCOL_ERROR explanation and a button that switches to ws://; a wss://
// server of our CA shows one trust row per client, Chromium failing until its row's button installs the
// CA, after which a fresh Chromium really connects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../shared/client';
import { probeWss, shoot, startUi, type UiRig } from './helpers/ui';

let rig: UiRig;
let api: Client;
let port: number;
let wssPort: number;
let mtlsPort: number;

beforeAll(async () => {
  rig = await startUi({ route: '#/doctor' });
  api = await rig.api();
  const s = await api.call('server.add', { name: 'plain', scheme: 'ws', port: 0 });
  port = (await api.call('server.start', { id: s.id })).port!;
  await api.call('ca.create', { keyType: 'ecdsa' });
  const { leaf } = await api.call('cert.issue', { names: ['localhost', '127.0.0.1'] });
  const w = await api.call('server.add', { name: 'tls', scheme: 'wss', port: 0, certId: leaf.id });
  wssPort = (await api.call('server.start', { id: w.id })).port!;
  const mt = await api.call('server.add', {
    name: 'mtls',
    scheme: 'wss',
    port: 0,
    certId: leaf.id,
    requireClientCert: true,
  });
  mtlsPort = (await api.call('server.start', { id: mt.id })).port!;
  await api.call('cert.issue', { names: ['dev@app.test'], client: true });
  await rig.page.reload();
  await rig.page.getByRole('heading', { level: 1, name: 'Doctor' }).waitFor();
}, 180_000);

afterAll(async () => {
  await rig?.close();
});

describe('Doctor screen', () => {
  it('explains wss:// on a plain port as ERR_SSL_PROTOCOL_ERROR, and passes ws://', async () => {
    const { page } = rig;
    await page.locator('input[name="doctor-url"]').fill(`wss://127.0.0.1:${port}/`);
    await page.getByRole('button', { name: 'Diagnose' }).click();
    const verdict = page.locator('[data-verdict]');
    await verdict.waitFor({ timeout: 30_000 });
    expect(await verdict.getAttribute('data-verdict')).toBe('fail');
    const failing = page.locator('li.step[data-status="fail"]');
    expect(await failing.count()).toBe(1);
    expect(await failing.getAttribute('data-code')).toBe('TLS_ON_PLAIN_PORT');
    const text = await failing.innerText();
    expect(text).toContain('ERR_SSL_PROTOCOL_ERROR');
    expect(text).toMatch(/Fix:.*ws:\/\//s);
    // Steps before it passed and are shown too (URL, name, TCP).
    expect(await page.locator('li.step[data-status="pass"]').count()).toBeGreaterThanOrEqual(2);
    await shoot(page, 'doctor-tls-on-plain-port');

    // The fix is a button: it switches the URL to ws:// and diagnoses again.
    await page.getByRole('button', { name: `Use ws://127.0.0.1:${port}/` }).click();
    await expect.poll(() => verdict.getAttribute('data-verdict'), { timeout: 30_000 }).toBe('ok');
    expect(await page.locator('input[name="doctor-url"]').inputValue()).toBe(
      `ws://127.0.0.1:${port}/`,
    );
    expect(await page.locator('li.step[data-status="fail"]').count()).toBe(0);
  });

  it('shows one trust row per client; Chromium fails until its Install button, then works for real', async () => {
    const { page } = rig;
    const url = `wss://localhost:${wssPort}/`;
    await page.locator('input[name="doctor-url"]').fill(url);
    await page.getByRole('button', { name: 'Diagnose' }).click();
    const chrome = page.locator('li.client[data-client="chrome"]');
    await chrome.first().waitFor({ timeout: 30_000 });
    expect(await chrome.first().getAttribute('data-trust')).toBe('fails');
    expect(await probeWss(rig.userHome, url)).toBe('error');
    const node = page.locator('li.client[data-client="node"]');
    expect(await node.getAttribute('data-trust')).toBe('fails');
    expect(await node.innerText()).toContain('NODE_EXTRA_CA_CERTS');
    const verdict = page.locator('[data-verdict]');
    expect(await verdict.innerText()).toMatch(/ails in .*Chrome\/Chromium/);
    // No CLI commands or flags in the screen's prose.
    const prose = await page.locator('main').innerText();
    expect(prose).not.toMatch(/wss-studio |--(stores|origin|protocol|client)\b/);
    await shoot(page, 'doctor-clients-before');
    const certStep = page.locator('li.step[data-step="certificate"]');
    expect(await certStep.getAttribute('data-status')).toBe('fail');
    expect(await certStep.innerText()).toContain('Chrome/Chromium');
    await certStep.scrollIntoViewIfNeeded();
    await shoot(page, 'doctor-clients-certificate-step');
    await page.locator('h1').scrollIntoViewIfNeeded();

    await chrome.first().getByRole('button', { name: 'Install the CA' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Install' }).click();
    await expect
      .poll(() => chrome.first().getAttribute('data-trust'), { timeout: 60_000 })
      .toBe('works');
    expect(await probeWss(rig.userHome, url)).toBe('open');
    await shoot(page, 'doctor-clients-after');
  });

  it('an mTLS server: CLIENT_CERT_REQUIRED, and a button that opens the Client screen ready to present one', async () => {
    const { page } = rig;
    const url = `wss://localhost:${mtlsPort}/`;
    await page.locator('input[name="doctor-url"]').fill(url);
    await page.locator('select[name="doctor-client"]').selectOption('');
    await page.getByRole('button', { name: 'Diagnose' }).click();
    const upgrade = page.locator('li.step[data-step="upgrade"]');
    await expect
      .poll(() => upgrade.getAttribute('data-code'), { timeout: 30_000 })
      .toBe('CLIENT_CERT_REQUIRED');
    // The doctor's own prose names the app's screens; the server's 403 body is quoted as a fact below it.
    const prose = `${await upgrade.locator('.explain').innerText()}\n${await upgrade.locator('.fix').innerText()}`;
    expect(prose).toContain('requires a client certificate');
    expect(prose).toContain('Client screen');
    expect(prose).not.toMatch(/wss-studio |--cert/);
    expect(await upgrade.locator('.facts-list').innerText()).toContain('HTTP 403 Forbidden');
    await upgrade.scrollIntoViewIfNeeded();
    await shoot(page, 'doctor-client-cert-required');
    await page.getByRole('button', { name: 'Connect with a client certificate' }).click();
    await page.getByRole('heading', { level: 1, name: 'Client' }).waitFor();
    expect(await page.locator('input[name="client-url"]').inputValue()).toBe(url);
    expect(await page.locator('input[name="via"][value="engine"]').isChecked()).toBe(true);
    const picker = page.locator('select[name="client-cert"]');
    expect(await picker.locator('option').allInnerTexts()).toEqual(
      expect.arrayContaining([expect.stringContaining('dev@app.test')]),
    );
    await page.getByRole('link', { name: 'Doctor' }).click();
    await page.getByRole('heading', { level: 1, name: 'Doctor' }).waitFor();
  });

  it('the Client picker narrows the trust rows to one family (doctor.run clients)', async () => {
    const { page } = rig;
    await page.locator('input[name="doctor-url"]').fill(`wss://localhost:${wssPort}/`);
    await page.locator('select[name="doctor-client"]').selectOption('node');
    await page.getByRole('button', { name: 'Diagnose' }).click();
    const rows = page.locator('li.client');
    await rows.first().waitFor({ timeout: 30_000 });
    await page.locator('[data-verdict]').waitFor({ timeout: 30_000 });
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-client')))).toEqual([
      'node',
    ]);
    expect(await page.locator('[data-verdict]').innerText()).toMatch(/Node/);
    await shoot(page, 'doctor-client-filter');
    // Back to every family found: Chromium's row returns.
    await page.locator('select[name="doctor-client"]').selectOption('');
    await page.getByRole('button', { name: 'Diagnose' }).click();
    await expect
      .poll(() => page.locator('li.client[data-client="chrome"]').count(), { timeout: 30_000 })
      .toBeGreaterThan(0);
  });
});
