// UI end-to-end rig: the real `wss-studio ui` (web mode) in a child process with a temp WSS_STUDIO_HOME
// and a temp HOME (its NSS db at $HOME/.pki/nssdb is where the trust engine installs the CA), and Debian
// Chromium driven by playwright-core with that same HOME, so a wss:// connection from the page proves
// the browser trusts the CA end to end.
//
// The CLI bundle and the renderer are built into the rig's own temp folder (esbuild + Vite with the
// project's configs), so tests never race other builds of dist/.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { WebSocket } from 'ws';
import {
  createClient,
  webSocketTransport,
  type Client,
  type WebSocketLike,
  type WebTransport,
} from '../../shared/client';
import { CHROMIUM_ARGS, CHROMIUM_PATH, requireTool } from './tools';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCREENSHOT_DIR = path.join(ROOT, 'e2e', 'screenshots');

let built: Promise<{ cli: string; renderer: string; dir: string }> | null = null;
/** Open rigs using the build; the last one to close removes it. */
let users = 0;

async function releaseBuild(): Promise<void> {
  users--;
  if (users > 0 || !built) return;
  const b = built;
  built = null;
  const { dir } = await b.catch(() => ({ dir: '' }));
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

/** Builds dist-like output (cli.cjs + renderer/) once per test file into a temp folder. */
export function buildUi(): Promise<{ cli: string; renderer: string; dir: string }> {
  built ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wss-ui-build-'));
    const { build } = await import('esbuild');
    const cli = path.join(dir, 'cli.cjs');
    await build({
      entryPoints: [path.join(ROOT, 'main', 'cli', 'index.ts')],
      outfile: cli,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      logLevel: 'error',
      absWorkingDir: ROOT,
      external: ['electron'],
    });
    const renderer = path.join(dir, 'renderer');
    const vite = await import('vite');
    await vite.build({
      configFile: path.join(ROOT, 'renderer', 'vite.config.ts'),
      logLevel: 'error',
      build: { outDir: renderer, emptyOutDir: true },
    });
    return { cli, renderer, dir };
  })();
  return built;
}

export interface UiRig {
  root: string;
  /** WSS_STUDIO_HOME */
  home: string;
  /** HOME of the engine and the browser (NSS db in .pki/nssdb). */
  userHome: string;
  url: string;
  port: number;
  token: string;
  proc: ChildProcess;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** stderr + stdout of web mode so far (for failure messages). */
  output(): string;
  /** A typed API client over the same web RPC (test setup and checks). */
  api(): Promise<Client>;
  close(): Promise<void>;
}

export interface UiRigOptions {
  viewport?: { width: number; height: number };
  colorScheme?: 'light' | 'dark';
  /** Hash route to open, e.g. '#/servers'. */
  route?: string;
  /** settings.json text the engine starts with. */
  settings?: string;
}

export async function startUi(opts: UiRigOptions = {}): Promise<UiRig> {
  requireTool(CHROMIUM_PATH);
  users++;
  let root = '';
  let proc: ChildProcess | undefined;
  let browser: Browser | undefined;
  try {
    const { cli, renderer } = await buildUi();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'wss-ui-'));
    return await launch(
      opts,
      cli,
      renderer,
      root,
      (p) => (proc = p),
      (b) => (browser = b),
    );
  } catch (e) {
    // Half-started: stop what did start and remove the temp folders, then fail loudly.
    await browser?.close().catch(() => {});
    if (proc && proc.exitCode === null) proc.kill('SIGKILL');
    if (root) fs.rmSync(root, { recursive: true, force: true });
    await releaseBuild();
    throw e;
  }
}

async function launch(
  opts: UiRigOptions,
  cli: string,
  renderer: string,
  root: string,
  onProc: (p: ChildProcess) => void,
  onBrowser: (b: Browser) => void,
): Promise<UiRig> {
  const home = path.join(root, 'state');
  const userHome = path.join(root, 'home');
  fs.mkdirSync(userHome, { recursive: true });
  if (opts.settings !== undefined) {
    fs.mkdirSync(home, { recursive: true });
    fs.writeFileSync(path.join(home, 'settings.json'), opts.settings);
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WSS_STUDIO_HOME: home,
    WSS_STUDIO_RENDERER_DIR: renderer,
    HOME: userHome,
    XDG_DATA_HOME: path.join(userHome, '.local', 'share'),
    XDG_CONFIG_HOME: path.join(userHome, '.config'),
  };
  delete env.NODE_EXTRA_CA_CERTS;
  const proc = spawn(
    process.execPath,
    [
      '-e',
      `require(${JSON.stringify(cli)}).cliMain(process.argv.slice(1))`,
      'ui',
      '--no-open',
      '--port',
      '0',
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  onProc(proc);
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`web mode printed no URL in 30 s:\n${out}`)),
      30_000,
    );
    const check = () => {
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[^\s]+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout?.on('data', check);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`web mode exited with ${code} before printing its URL:\n${out}`));
    });
  });
  const u = new URL(url);
  const port = Number(u.port);
  const token = u.searchParams.get('token') ?? '';

  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    env: { ...env, HOME: userHome },
    timeout: 60_000,
  });
  onBrowser(browser);
  const context = await browser.newContext({
    viewport: opts.viewport ?? { width: 1100, height: 720 },
    colorScheme: opts.colorScheme ?? 'light',
    acceptDownloads: true,
  });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto(url + (opts.route ?? ''));

  const transports: WebTransport[] = [];
  return {
    root,
    home,
    userHome,
    url,
    port,
    token,
    proc,
    browser,
    context,
    page,
    output: () => `${out}\n--- page console errors ---\n${consoleErrors.join('\n')}`,
    async api() {
      const t = webSocketTransport(
        `ws://127.0.0.1:${port}/rpc?token=${encodeURIComponent(token)}`,
        (x) => new WebSocket(x, { origin: `http://127.0.0.1:${port}` }) as unknown as WebSocketLike,
      );
      transports.push(t);
      await t.ready;
      return createClient(t);
    },
    async close() {
      for (const t of transports) t.close();
      await browser.close().catch(() => {});
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      fs.rmSync(root, { recursive: true, force: true });
      await releaseBuild();
    },
  };
}

/** Screenshot of the current screen in light and in dark: e2e/screenshots/<name>-light.png / -dark.png. */
export async function shoot(page: Page, name: string): Promise<string[]> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const files: string[] = [];
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    // Let transitions settle so the picture shows the final state.
    await page.waitForTimeout(150);
    const file = path.join(SCREENSHOT_DIR, `${name}-${colorScheme}.png`);
    await page.screenshot({ path: file, fullPage: false });
    files.push(file);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  return files;
}

/** Navigates with the sidebar link, as a user would. */
export async function goTo(page: Page, label: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label }).click();
  await page.getByRole('heading', { level: 1, name: label }).waitFor();
}

/**
 * Opens `url` with the WebSocket of a fresh Chromium whose HOME is `userHome` (so its NSS db decides
 * trust), from about:blank. Resolves 'open' or 'error'. The negative control for trust tests.
 */
export async function probeWss(userHome: string, url: string): Promise<'open' | 'error'> {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: userHome };
  delete env.NODE_EXTRA_CA_CERTS;
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    env,
  });
  try {
    const page = await browser.newPage();
    // A string, not a function: this module imports `WebSocket` from 'ws', and the test runner would
    // rewrite that name inside a serialised function.
    const r: unknown = await page.evaluate(`new Promise((resolve) => {
      const ws = new WebSocket(${JSON.stringify(url)});
      ws.onopen = () => { ws.close(); resolve('open'); };
      ws.onerror = () => resolve('error');
    })`);
    return r === 'open' ? 'open' : 'error';
  } finally {
    await browser.close();
  }
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/**
 * axe-core (devDependency) injected into the page and run on the whole document. Returns the
 * violations, each with the CSS targets it found, so a failing test names the element.
 */
export async function axe(page: Page): Promise<AxeViolation[]> {
  // Evaluated over CDP, not as a <script> tag: the page's CSP (script-src 'self') would block that.
  const has = await page.evaluate(() => 'axe' in window);
  if (!has) {
    const src = fs.readFileSync(path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
    await page.evaluate(src);
  }
  const r: unknown = await page.evaluate(
    `window.axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    })))`,
  );
  return r as AxeViolation[];
}

/** One line per violation and element, for an assertion message. */
export function axeReport(vs: AxeViolation[]): string {
  return vs
    .flatMap((v) =>
      v.nodes.map((n) => `${v.impact ?? ''} ${v.id}: ${v.help} @ ${n.target.join(' ')}`),
    )
    .join('\n');
}
