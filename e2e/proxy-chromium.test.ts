// The proxy with real peers in real Chromium (our CA trusted through a temp NSS db, app.test mapped to
// 127.0.0.1 with --host-resolver-rules):
//  - a Python `websockets` server behind https://app.test:PORT: the page loads over trusted HTTPS and a
//    wss:// socket from it carries text, binary, a ping and closes with 4001 both ways, exactly; the frame
//    log shows both legs.
//  - a real Vite dev server behind https://app.test:PORT: the page loads trusted, and editing a module
//    updates the page without a reload through HMR's own WebSocket, which shows in the log.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { FrameLog } from '../main/echo/frame-log';
import { makeTestPki, waitFor, type TestPki } from '../main/echo/testing';
import type { FrameEvent, HttpEvent, LogEvent, OpenEvent } from '../main/echo/types';
import { ProxyManager, storeCerts } from '../main/proxy';
import { CHROMIUM_ARGS, CHROMIUM_PATH, nssDbTrusting, requireTool, tempDir } from './helpers/tools';

const PYTHON = '/usr/bin/python3';
const root = path.resolve(__dirname, '..');
const VITE = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');

let pki: TestPki;
let tmp: ReturnType<typeof tempDir>;
let browser: Browser;
let log: FrameLog;
let proxies: ProxyManager;
const children: ChildProcess[] = [];

beforeAll(async () => {
  requireTool(CHROMIUM_PATH);
  requireTool('certutil');
  requireTool(PYTHON);
  if (!fs.existsSync(VITE))
    throw new Error(`vite is missing at ${VITE}: run "npm install" (it is a devDependency)`);
  pki = await makeTestPki();
  tmp = tempDir('wss-proxy-e2e-');
  nssDbTrusting(path.join(tmp.dir, 'home'), pki.caFile, 'wss-proxy-test');
  log = new FrameLog({ flushMs: 10 });
  // No lookup of app.test on this machine: Chromium maps it itself.
  proxies = new ProxyManager({ log, certs: storeCerts(pki.store), lookup: async () => [] });
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP app.test 127.0.0.1'],
    env: { ...process.env, HOME: path.join(tmp.dir, 'home') },
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await proxies?.stopAll();
  for (const c of children) c.kill('SIGTERM');
  tmp?.cleanup();
  pki?.cleanup();
});

/** Lines a child prints on stdout, as parsed JSON, in order. */
function jsonLines(child: ChildProcess): {
  lines: Record<string, unknown>[];
  next: (
    pred: (o: Record<string, unknown>) => boolean,
    what: string,
  ) => Promise<Record<string, unknown>>;
} {
  const lines: Record<string, unknown>[] = [];
  readline.createInterface({ input: child.stdout! }).on('line', (l) => {
    try {
      lines.push(JSON.parse(l));
    } catch {
      // not ours
    }
  });
  return {
    lines,
    async next(pred, what) {
      await waitFor(() => lines.some(pred), what, 20_000);
      return lines.find(pred)!;
    },
  };
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const events = <T extends LogEvent['type']>(serverId: string, type: T) =>
  log.events({ serverId }).filter((e) => e.type === type) as Extract<LogEvent, { type: T }>[];

describe('Python websockets behind the proxy, from an HTTPS page in Chromium', () => {
  it('text, binary, ping and close 4001 round-trip exactly; the log shows both legs', async () => {
    const py = spawn(PYTHON, [path.join(__dirname, 'fixtures', 'proxy_target.py')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(py);
    const out = jsonLines(py);
    const { port: pyPort } = (await out.next((o) => typeof o.port === 'number', 'python port')) as {
      port: number;
    };
    const added = await proxies.add({
      id: 'py',
      publicUrl: 'https://app.test:0',
      target: `http://127.0.0.1:${pyPort}`,
      start: true,
    });
    expect(added.issuedCertId).toBeDefined();
    const origin = added.proxy.url as string;
    expect(origin).toMatch(/^https:\/\/app\.test:\d+$/);

    const page = await browser.newPage();
    const resp = await page.goto(origin + '/', { timeout: 20_000 });
    expect(resp?.status()).toBe(200);
    expect(await page.textContent('#ok')).toBe('served by python');
    expect(await page.evaluate(() => window.isSecureContext)).toBe(true);

    const result = await page.evaluate(
      async (wsUrl: string) => {
        const ws = new WebSocket(wsUrl);
        ws.binaryType = 'arraybuffer';
        const got: unknown[] = [];
        const next = () =>
          new Promise<unknown>((r) =>
            ws.addEventListener('message', (e) => r(e.data), { once: true }),
          );
        await new Promise((r, j) => {
          ws.onopen = r;
          ws.onerror = () => j(new Error('socket failed'));
        });
        ws.send('héllo ✓');
        got.push(await next());
        ws.send(new Uint8Array([0, 1, 2, 254, 255]));
        got.push(Array.from(new Uint8Array((await next()) as ArrayBuffer)));
        ws.send('ping-me');
        got.push(await next());
        const closed = new Promise<[number, string, boolean]>(
          (r) => (ws.onclose = (e) => r([e.code, e.reason, e.wasClean])),
        );
        ws.send('close-me');
        const close1 = await closed;
        // Second socket: the browser closes with 4001.
        const ws2 = new WebSocket(wsUrl);
        await new Promise((r) => (ws2.onopen = r));
        const closed2 = new Promise<number>((r) => (ws2.onclose = (e) => r(e.code)));
        ws2.close(4001, 'bye from chromium');
        return { got, close1, close2: await closed2 };
      },
      origin.replace('https:', 'wss:') + '/ws',
    );
    await page.close();

    expect(result.got).toEqual(['héllo ✓', [0, 1, 2, 254, 255], 'pong received']);
    expect(result.close1).toEqual([4001, 'bye from python', true]);
    expect(result.close2).toBe(4001);
    const pyClose = await out.next(
      (o) => o.reason === 'bye from chromium',
      'python saw the browser close',
    );
    expect(pyClose).toMatchObject({ closed: 4001, path: '/ws' });

    await waitFor(() => events('py', 'close').length === 2, 'two closes in the log');
    const opens = events('py', 'open') as OpenEvent[];
    expect(opens).toHaveLength(2);
    expect(opens[0]?.url).toBe(origin.replace('https:', 'wss:') + '/ws');
    expect(opens[0]?.tls?.version).toMatch(/^TLSv1\.[23]$/);
    expect(opens[0]?.target?.url).toBe(`ws://127.0.0.1:${pyPort}/ws`);
    expect(opens[0]?.target?.localPort).toBeGreaterThan(0);
    const conn = opens[0]?.conn;
    const frames = (events('py', 'frame') as FrameEvent[]).filter((f) => f.conn === conn);
    expect(
      frames.map((f) => `${f.dir} ${f.opcode} ${f.opcode === 'close' ? f.closeCode : f.length}`),
    ).toEqual([
      `in text ${Buffer.byteLength('héllo ✓')}`,
      `out text ${Buffer.byteLength('héllo ✓')}`,
      'in binary 5',
      'out binary 5',
      'in text 7',
      'out ping 7',
      'in pong 7',
      'out text 13',
      'in text 8',
      'out close 4001',
    ]);
    const http = events('py', 'http') as HttpEvent[];
    expect(http.map((h) => `${h.method} ${h.path} ${h.status}`)).toEqual(
      expect.arrayContaining(['GET / 200', 'GET /ws 101']),
    );
    expect(events('py', 'close').map((c) => [c.code, c.reason, c.by])).toEqual([
      [4001, 'bye from python', 'server'],
      [4001, 'bye from chromium', 'client'],
    ]);
  }, 90_000);
});

describe('a Vite dev server behind https://app.test', () => {
  it('loads trusted, and HMR updates the page without a reload through the proxy', async () => {
    const app = path.join(tmp.dir, 'vite-app');
    fs.mkdirSync(app);
    fs.writeFileSync(
      path.join(app, 'index.html'),
      '<!doctype html><html><body><div id="msg">loading</div><script type="module" src="/main.js"></script></body></html>\n',
    );
    const main = path.join(app, 'main.js');
    const source = (v: string) =>
      `document.querySelector('#msg').textContent = '${v}';\nif (import.meta.hot) import.meta.hot.accept();\n`;
    fs.writeFileSync(main, source('version one'));
    // Vite refuses Host names it does not know (DNS-rebinding protection): app.test is allowed, as a user would.
    fs.writeFileSync(
      path.join(app, 'vite.config.mjs'),
      "export default { server: { allowedHosts: ['app.test'] }, logLevel: 'warn', clearScreen: false };\n",
    );
    const vitePort = await freePort();
    const vite = spawn(
      process.execPath,
      [VITE, '--host', '127.0.0.1', '--port', String(vitePort), '--strictPort'],
      {
        cwd: app,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NODE_EXTRA_CA_CERTS: '' },
      },
    );
    children.push(vite);
    let viteOut = '';
    vite.stdout?.on('data', (d) => (viteOut += d));
    vite.stderr?.on('data', (d) => (viteOut += d));
    // The target check retries until Vite listens.
    const end = Date.now() + 30_000;
    let added;
    for (;;) {
      try {
        added = await proxies.add({
          id: 'vite',
          publicUrl: 'https://app.test:0',
          target: `http://127.0.0.1:${vitePort}`,
          start: true,
        });
        break;
      } catch (e) {
        if (Date.now() > end) throw new Error(`vite did not start: ${String(e)}\n${viteOut}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    const origin = added.proxy.url as string;
    const page = await browser.newPage();
    const resp = await page.goto(origin + '/', { timeout: 30_000 });
    expect(resp?.status()).toBe(200);
    await page.waitForFunction(
      () => document.querySelector('#msg')?.textContent === 'version one',
      null,
      { timeout: 30_000 },
    );
    expect(await page.evaluate(() => window.isSecureContext)).toBe(true);
    // The page and its modules came over HTTP/2 (one connection, no six-at-a-time limit); the HMR
    // WebSocket below still opens (over HTTP/1.1: the front does not offer WebSockets over HTTP/2).
    expect(
      await page.evaluate(() =>
        [
          ...performance.getEntriesByType('navigation'),
          ...performance.getEntriesByType('resource'),
        ].map((e) => (e as PerformanceResourceTiming).nextHopProtocol),
      ),
    ).toEqual(expect.arrayContaining(['h2']));
    // HMR's socket is open through the proxy before we edit.
    await waitFor(
      () => (events('vite', 'open') as OpenEvent[]).some((o) => o.protocol === 'vite-hmr'),
      'HMR socket through the proxy',
      30_000,
    );
    await page.evaluate(() => ((window as unknown as { __kept: number }).__kept = 42));
    fs.writeFileSync(main, source('version two'));
    await page.waitForFunction(
      () => document.querySelector('#msg')?.textContent === 'version two',
      null,
      { timeout: 30_000 },
    );
    // No reload: the page's own state survived.
    expect(await page.evaluate(() => (window as unknown as { __kept?: number }).__kept)).toBe(42);
    await page.close();
    const hmr = (events('vite', 'open') as OpenEvent[]).find(
      (o) => o.protocol === 'vite-hmr',
    ) as OpenEvent;
    expect(hmr.url).toMatch(new RegExp(`^wss://app\\.test:${added.proxy.port}/`));
    const update = (events('vite', 'frame') as FrameEvent[]).find(
      (f) => f.conn === hmr.conn && f.dir === 'out' && f.preview.includes('"type":"update"'),
    );
    expect(update?.preview).toContain('/main.js');
    const http = (events('vite', 'http') as HttpEvent[]).map(
      (h) => `${h.method} ${h.path.split('?')[0]} ${h.status}`,
    );
    expect(http).toEqual(
      expect.arrayContaining(['GET / 200', 'GET /main.js 200', 'GET /@vite/client 200']),
    );
    expect(http.some((h) => h.endsWith(' 101'))).toBe(true);
  }, 120_000);
});
