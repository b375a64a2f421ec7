// `wss-studio ui` as users run it: the real built binary (bin/wss-studio.cjs -> dist/cli.cjs) in a child
// process with a temp WSS_STUDIO_HOME and HOME. `npm test` builds before it runs the tests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { WebSocket } from 'ws';
import { createClient, webSocketTransport, type WebSocketLike } from '../shared/client';
import { fakeRenderer, httpGet, tempDir } from './helpers/web';

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'wss-studio.cjs');

let tmp: string;
let env: NodeJS.ProcessEnv;
const children: ChildProcessWithoutNullStreams[] = [];

beforeAll(() => {
  if (!existsSync(path.join(ROOT, 'dist', 'cli.cjs'))) {
    throw new Error('dist/cli.cjs is missing: run "npm run build:node" (npm test builds it first)');
  }
  tmp = tempDir('wss-ui-cli-');
  mkdirSync(path.join(tmp, 'user'));
  fakeRenderer(path.join(tmp, 'renderer'));
  env = {
    ...process.env,
    WSS_STUDIO_HOME: path.join(tmp, 'home'),
    HOME: path.join(tmp, 'user'),
    WSS_STUDIO_RENDERER_DIR: path.join(tmp, 'renderer'),
  };
  delete env.NODE_EXTRA_CA_CERTS;
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface Proc {
  child: ChildProcessWithoutNullStreams;
  /** The printed URL, or undefined when the process exited first. */
  url: string | undefined;
  exited: Promise<number | null>;
  out(): string;
  err(): string;
}

function startOnce(args: string[], extraEnv: NodeJS.ProcessEnv): Promise<Proc> {
  const child = spawn(process.execPath, [BIN, 'ui', ...args], { env: { ...env, ...extraEnv } });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  const base = { child, exited, out: () => out, err: () => err };
  return new Promise<Proc>((resolve, reject) => {
    const t = setTimeout(
      () => reject(new Error(`no URL printed; stdout: ${out} stderr: ${err}`)),
      30_000,
    );
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve({ ...base, url: m[0] });
      }
    });
    void exited.then(() => {
      clearTimeout(t);
      resolve({ ...base, url: undefined });
    });
  });
}

/**
 * Start `wss-studio ui`. Other test files may rebuild dist/ at the same moment (a chunk briefly missing):
 * only that start-up failure is retried, never a failure of the command itself.
 */
async function start(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Proc> {
  for (let attempt = 1; ; attempt++) {
    const p = await startOnce(args, extraEnv);
    if (p.url || !/ERR_MODULE_NOT_FOUND/.test(p.err()) || attempt === 3) return p;
    await new Promise((r) => setTimeout(r, 2000));
  }
}

function urlOf(p: Proc): URL {
  if (!p.url) throw new Error(`no URL printed; stdout: ${p.out()} stderr: ${p.err()}`);
  return new URL(p.url);
}

describe('wss-studio ui (built binary)', () => {
  it('prints the URL with a token, serves the page and the RPC, and stops cleanly on Ctrl-C', async () => {
    const p = await start(['--no-open', '--port', '0']);
    const url = urlOf(p);
    const token = url.searchParams.get('token') ?? '';
    expect(token.length).toBeGreaterThanOrEqual(32);
    const page = await httpGet(Number(url.port), `/?token=${token}`, { Host: url.host });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    // The page itself is public (the token is only needed for /rpc); the tab keeps its token itself.
    expect((await httpGet(Number(url.port), '/', { Host: url.host })).status).toBe(200);

    const t = webSocketTransport(
      `ws://${url.host}/rpc?token=${token}`,
      (u) => new WebSocket(u, { origin: url.origin }) as unknown as WebSocketLike,
    );
    await t.ready;
    const info = await createClient(t).call('app.info');
    expect(info.shell).toBe('web');
    expect(info.home).toBe(env.WSS_STUDIO_HOME);
    t.close();

    p.child.kill('SIGINT');
    expect(await p.exited).toBe(0);
    expect(p.out()).toContain('stopped');
  });

  it('a fresh token per run', async () => {
    const [a, b] = await Promise.all([start(['--no-open']), start(['--no-open'])]);
    expect(urlOf(a).searchParams.get('token')).not.toBe(urlOf(b).searchParams.get('token'));
    a.child.kill('SIGINT');
    b.child.kill('SIGINT');
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
  });

  it('refuses a port of 70000 with exit 2 naming the option', async () => {
    const p = await start(['--no-open', '--port', '70000']);
    expect(await p.exited).toBe(2);
    expect(p.err()).toContain('--port');
    expect(p.err()).toContain('0 to 65535');
  });

  it('warns when binding a non-loopback address with --host', async () => {
    const p = await start(['--no-open', '--host', '0.0.0.0']);
    urlOf(p);
    expect(p.err()).toMatch(/warning: binding "0\.0\.0\.0"/);
    p.child.kill('SIGINT');
    expect(await p.exited).toBe(0);
  });

  it('says exactly how to build the UI when dist/renderer is missing', async () => {
    const missing = path.join(tmp, 'no-renderer');
    const p = await start(['--no-open'], { WSS_STUDIO_RENDERER_DIR: missing });
    const url = urlOf(p);
    expect(p.err()).toContain('the UI is not built');
    expect(p.err()).toContain('node scripts/build.mjs');
    const page = await httpGet(Number(url.port), url.pathname + url.search, { Host: url.host });
    expect(page.status).toBe(503);
    expect(page.body).toContain('node scripts/build.mjs');
    p.child.kill('SIGINT');
    expect(await p.exited).toBe(0);
  });
});
