// Web mode in a real browser (Debian Chromium via playwright-core): the real renderer, built with Vite into
// a temp folder, served by startWebServer under the strict CSP, reaches the engine over /rpc with the
// token from its URL, and the browser reports no CSP violation. The token leaves the address bar, survives
// a reload in its tab and is never sent to another local server (no cookie); a tab without it is told where
// to get it. A page on another origin cannot open the RPC socket even though it knows the port and token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { createEngine, type Engine } from '../main/engine';
import { startWebServer, type WebServer } from '../main/web';
import { tempDir } from './helpers/web';

const ROOT = path.resolve(__dirname, '..');
const CHROMIUM = '/usr/bin/chromium';

let tmp: string;
let engine: Engine;
let web: WebServer;
let browser: Browser;
let foreign: Server;
const calls: string[] = [];
/** Every request header the foreign local server received (what a dev server on 127.0.0.1 would see). */
const foreignSaw: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install it with "apt install chromium"`);
  tmp = tempDir('wss-web-browser-');
  const out = path.join(tmp, 'renderer');
  const { build } = await import('vite');
  await build({
    configFile: path.join(ROOT, 'renderer', 'vite.config.ts'),
    build: { outDir: out, emptyOutDir: true },
    logLevel: 'error',
  });
  mkdirSync(path.join(tmp, 'user'));
  const real = createEngine({
    home: path.join(tmp, 'home'),
    shell: 'web',
    env: {
      ...process.env,
      HOME: path.join(tmp, 'user'),
      WSS_STUDIO_TRUST_ROOT: path.join(tmp, 'user'),
    },
  });
  engine = real;
  web = await startWebServer({
    api: {
      call: (name, input, ctx) => {
        calls.push(String(name));
        return real.call(name, input, ctx);
      },
      subscribe: (s, cb) => real.subscribe(s, cb),
    },
    rendererDir: out,
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  // A page on another local origin that tries to use the RPC.
  foreign = createServer((req, res) => {
    foreignSaw.push(`${req.url} ${JSON.stringify(req.headers)}`);
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>evil</title>');
  });
  await new Promise<void>((r) => foreign.listen(0, '127.0.0.1', r));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await web?.close();
  await engine?.close();
  await new Promise((r) => (foreign ? foreign.close(r) : r(undefined)));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('web mode in Chromium', () => {
  it('loads the real UI under the CSP and talks to the engine', async () => {
    const page = await browser.newPage();
    const violations: string[] = [];
    const errors: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/.test(m.text())) violations.push(m.text());
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(web.url);
    await expect.poll(() => calls.length, { timeout: 20_000 }).toBeGreaterThan(0);
    await page.waitForTimeout(500);
    expect(violations).toEqual([]);
    expect(errors.filter((e) => !/favicon/.test(e))).toEqual([]);
    // The page rendered something from the engine (it is not the "cannot reach the engine" state).
    expect(await page.locator('body').innerText()).not.toMatch(/cannot reach|disconnected/i);
    await page.close();
  });

  it('a page on another origin cannot open /rpc, even with the token', async () => {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(foreign.address() as { port: number }).port}/`);
    const before = calls.length;
    const outcome = await page.evaluate(
      (rpc) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(rpc);
          ws.onopen = () => {
            ws.send(JSON.stringify({ t: 'call', id: 1, name: 'cert.list', input: {} }));
            resolve('open');
          };
          ws.onerror = () => resolve('refused');
        }),
      `ws://127.0.0.1:${web.port}/rpc?token=${web.token}`,
    );
    expect(outcome).toBe('refused');
    expect(calls.length).toBe(before);
    await page.close();
  });

  it('takes the token out of the address bar, keeps it for a reload of the bare URL, sets no cookie', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(web.url + '#/servers');
    await page.getByRole('heading', { level: 1, name: 'Servers' }).waitFor({ timeout: 20_000 });
    expect(page.url()).toBe(`${web.origin}/#/servers`);
    expect(await page.evaluate(() => location.href)).not.toContain(web.token);
    expect(await context.cookies()).toEqual([]);
    expect(await page.evaluate(() => sessionStorage.getItem('wss-studio.token'))).toBe(web.token);
    // Reload the bare URL in the same tab: the UI talks to the engine again.
    const before = calls.length;
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Servers' }).waitFor({ timeout: 20_000 });
    await expect.poll(() => calls.length, { timeout: 20_000 }).toBeGreaterThan(before);
    expect(await page.locator('body').innerText()).not.toMatch(/Open the URL printed/);

    // A local server on another port that this browser then visits (the user's dev server, any local
    // process): it receives nothing carrying the token, and its page cannot reach the engine without it.
    const foreignPort = (foreign.address() as { port: number }).port;
    const evil = await context.newPage();
    foreignSaw.length = 0;
    await evil.goto(`http://127.0.0.1:${foreignPort}/steal`);
    expect(foreignSaw.length).toBeGreaterThan(0);
    expect(foreignSaw.join('\n')).not.toContain(web.token);
    expect(foreignSaw.join('\n')).not.toMatch(/cookie/i);
    const callsBefore = calls.length;
    const outcome = await evil.evaluate(
      (rpc) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(rpc);
          ws.onopen = () => {
            ws.send(JSON.stringify({ t: 'call', id: 1, name: 'ca.create', input: {} }));
            resolve('open');
          };
          ws.onerror = () => resolve('refused');
        }),
      `ws://127.0.0.1:${web.port}/rpc`,
    );
    expect(outcome).toBe('refused');
    expect(calls.length).toBe(callsBefore);
    await context.close();
  });

  it('a new tab without the token gets "open the URL printed in the terminal", not a bare 401', async () => {
    const context = await browser.newContext();
    const first = await context.newPage();
    await first.goto(web.url);
    await expect.poll(() => first.url()).toBe(`${web.origin}/`);
    const tab = await context.newPage();
    const res = await tab.goto(`${web.origin}/`);
    expect(res?.status()).toBe(200);
    await tab
      .getByRole('heading', { name: 'Open the URL printed in the terminal' })
      .waitFor({ timeout: 20_000 });
    expect(await tab.locator('body').innerText()).toContain('wss-studio ui');
    // A token from an earlier run (or a wrong one): the same page, and the stale token is forgotten.
    const stale = await context.newPage();
    await stale.goto(`${web.origin}/?token=from-an-earlier-run`);
    await stale.getByText('did not accept this tab').waitFor({ timeout: 20_000 });
    expect(await stale.evaluate(() => sessionStorage.getItem('wss-studio.token'))).toBeNull();
    await context.close();
  });
});
