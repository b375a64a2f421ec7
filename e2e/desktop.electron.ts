// `npm run test:electron`: the desktop app on the REAL Electron binary (node_modules/electron), driven by
// playwright-core's _electron under Xvfb (scripts/test-electron.mjs). Not part of `npm test`: the binary
// cannot be downloaded on our CI machines. What it proves that nothing else can: the built main bundle
// starts on real Electron, the sandboxed preload bridge works, the doctor's TLS probe runs on Electron's
// BoringSSL (defect: @SECLEVEL threw there), exports go through the native save dialog, the copy button
// reaches the system clipboard, and quitting with servers running stops them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { electronBinaryPath } from '../scripts/fetch-electron.mjs';

const ROOT = path.resolve(__dirname, '..');

function electronBinary(): string {
  const bin = electronBinaryPath();
  if (!existsSync(bin)) {
    throw new Error(
      `the Electron binary is missing: ${bin} does not exist; get it with "node scripts/fetch-electron.mjs" (test:electron cannot run without it)`,
    );
  }
  return bin;
}

const tmp = mkdtempSync(path.join(tmpdir(), 'wss-electron-'));
const exportFile = path.join(tmp, 'exported-cert.pem');
let app: ElectronApplication;
let page: Page;
let output = '';

beforeAll(async () => {
  const bin = electronBinary();
  const user = path.join(tmp, 'user');
  mkdirSync(user);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  Object.assign(env, {
    WSS_STUDIO_HOME: path.join(tmp, 'home'),
    HOME: user,
    XDG_CONFIG_HOME: path.join(user, '.config'),
    WSS_STUDIO_TRUST_ROOT: path.join(tmp, 'trust-root'),
  });
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.ELECTRON_RUN_AS_NODE;
  app = await _electron.launch({
    executablePath: bin,
    // Chromium refuses to run as root with its sandbox (CI containers); a test-only concession.
    args: [ROOT, ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
    env,
    timeout: 60_000,
  });
  app.process().stdout?.on('data', (c: Buffer) => (output += c.toString()));
  app.process().stderr?.on('data', (c: Buffer) => (output += c.toString()));
  page = await app.firstWindow();
  // Native dialogs cannot be clicked by Playwright: answer them in the main process, as a user would.
  await app.evaluate(({ dialog }, file) => {
    dialog.showSaveDialog = (async () => ({ canceled: false, filePath: file })) as never;
    dialog.showMessageBox = (async () => ({ response: 1, checkboxChecked: false })) as never;
  }, exportFile);
}, 120_000);

afterAll(async () => {
  await app?.close().catch(() => {});
  rmSync(tmp, { recursive: true, force: true });
});

async function goTo(label: string) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label }).click();
  await page.getByRole('heading', { level: 1, name: label }).waitFor();
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

describe('the desktop app on real Electron', () => {
  let wssUrl = '';

  it('runs as "WSS Studio" with the bridge and no Node in the page', async () => {
    expect(await app.evaluate(({ app: a }) => a.name)).toBe('WSS Studio');
    expect(await app.evaluate(({ app: a }) => a.getPath('userData'))).toMatch(/wss-studio$/);
    expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe(
      'undefined',
    );
    expect(
      await page.evaluate(
        () =>
          Object.keys(
            (globalThis as unknown as { wssStudio: { requests: object } }).wssStudio.requests,
          ).length,
      ),
    ).toBeGreaterThan(10);
  });

  it('first run: CA, trust (NSS only), certificate and a running wss:// server', async () => {
    await page
      .getByRole('heading', { name: 'Make localhost trusted' })
      .waitFor({ timeout: 30_000 });
    // The system store needs root and the real /etc; Java's cacerts is the machine's: untick them where
    // they are offered (Java only shows up where a JDK is found).
    await page.locator('input[name^="store-"]').first().waitFor();
    for (const name of ['store-system', 'store-java']) {
      const box = page.locator(`input[name="${name}"]`);
      if (await box.count()) await box.uncheck();
    }
    await page.getByRole('button', { name: 'Make localhost trusted' }).click();
    const steps = page.getByRole('list', { name: 'First-run progress' });
    await steps
      .locator('[data-step="server"][data-state="done"]')
      .or(steps.locator('[data-state="failed"]'))
      .first()
      .waitFor({ timeout: 90_000 });
    expect(await steps.locator('[data-state="failed"]').count(), await steps.innerText()).toBe(0);
    wssUrl = (await page.locator('code.url').first().innerText()).trim();
    expect(wssUrl).toMatch(/^wss:\/\/localhost:\d+\/$/);
  });

  it("the doctor checks the wss:// URL on Electron's BoringSSL", async () => {
    await goTo('Doctor');
    await page.locator('input[name="doctor-url"]').fill(wssUrl);
    await page.getByRole('button', { name: 'Diagnose' }).click();
    const verdict = page.locator('[data-verdict]');
    await verdict.waitFor({ timeout: 30_000 });
    const text = await page.locator('main').innerText();
    // The handshake, the certificate check (a second handshake with our CA) and the upgrade all ran on
    // BoringSSL; before the fix, tls.connect threw on "DEFAULT@SECLEVEL=0" and the tls step failed.
    expect(await page.locator('li.step[data-code="TLS_HANDSHAKE_FAILED"]').count(), text).toBe(0);
    for (const step of ['tls', 'upgrade'])
      expect(
        await page.locator(`li.step[data-step="${step}"]`).getAttribute('data-status'),
        text,
      ).toBe('pass');
    expect(await verdict.getAttribute('data-verdict'), text).toBe('ok');
    expect(text).toMatch(/TLSv1\.3|TLSv1\.2/);
  });

  it('exports the certificate through the save dialog and copies a command to the system clipboard', async () => {
    await goTo('Certificates');
    await page.locator('tr[data-cert] button.link').first().click();
    await page.getByRole('region', { name: 'Certificate details' }).waitFor();
    await page.getByRole('button', { name: 'Certificate (PEM)' }).click();
    await page.locator('.usage').waitFor({ timeout: 20_000 });
    await expect.poll(() => existsSync(exportFile)).toBe(true);
    expect(readFileSync(exportFile, 'utf8')).toContain('-----BEGIN CERTIFICATE-----');
    const cmd = (await page.locator('.usage .cmd code').first().innerText()).trim();
    await page.locator('.usage .cmd button').first().click();
    await expect.poll(() => app.evaluate(({ clipboard }) => clipboard.readText())).toBe(cmd);
  });

  it("PKCS#12, modern and legacy, built with Electron's crypto (BoringSSL), opens in OpenSSL", async () => {
    for (const legacy of [false, true]) {
      const reply = await page.evaluate(async (legacy) => {
        const b = (
          globalThis as unknown as {
            wssStudio: { requests: Record<string, (i: unknown) => Promise<unknown>> };
          }
        ).wssStudio;
        const list = (await b.requests['cert.list']!({})) as { result: { id: string }[] };
        return b.requests['cert.export']!({
          id: list.result[0]!.id,
          format: 'p12',
          password: 'pw-electron',
          legacy,
        });
      }, legacy);
      const r = reply as { ok: boolean; result?: { dataBase64: string }; error?: unknown };
      expect(r.ok, JSON.stringify(r.error)).toBe(true);
      const file = path.join(tmp, `bundle-${legacy ? 'legacy' : 'modern'}.p12`);
      writeFileSync(file, Buffer.from(r.result!.dataBase64, 'base64'));
      const args = ['pkcs12', '-in', file, '-passin', 'pass:pw-electron', '-nodes'];
      const o = spawnSync('openssl', legacy ? [...args, '-legacy'] : args, { encoding: 'utf8' });
      expect(o.status, o.stderr).toBe(0);
      expect(o.stdout).toContain('PRIVATE KEY');
    }
  });

  it('quits with the server running, and the server stops with it', async () => {
    const port = Number(new URL(wssUrl.replace('wss:', 'https:')).port);
    expect(await portOpen(port)).toBe(true);
    const exited = new Promise<number | null>((r) => app.process().once('exit', (c) => r(c)));
    // Quit from a timer so the evaluate call returns before the process goes.
    await app.evaluate(({ app: a }) => void setTimeout(() => a.quit(), 50));
    expect(await exited, output).toBe(0);
    expect(await portOpen(port)).toBe(false);
  });
});
