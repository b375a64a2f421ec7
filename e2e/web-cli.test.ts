// `wss-studio ui` as users run it: the real built binary (bin/wss-studio.cjs -> dist/cli.mjs) in a child
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
  if (!existsSync(path.join(ROOT, 'dist', 'cli.mjs'))) {
    throw new Error('dist/cli.mjs is missing: run "npm run build:node" (npm test builds it first)');
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

function start(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [BIN, 'ui', ...args], { env: { ...env, ...extraEnv } });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  const url = new Promise<string>((res, rej) => {
    const t = setTimeout(
      () => rej(new Error(`no URL printed; stdout: ${out} stderr: ${err}`)),
      30_000,
    );
    child.stdout.on('data', () => {
      const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/.exec(out);
      if (m) {
        clearTimeout(t);
        res(m[0]);
      }
    });
    void exited.then(() => rej(new Error(`exited early; stdout: ${out} stderr: ${err}`)));
  });
  url.catch(() => {});
  return { child, url, exited, out: () => out, err: () => err };
}

describe('wss-studio ui (built binary)', () => {
  it('prints the URL with a token, serves the page and the RPC, and stops cleanly on Ctrl-C', async () => {
    const p = start(['--no-open', '--port', '0']);
    const url = new URL(await p.url);
    const token = url.searchParams.get('token') ?? '';
    expect(token.length).toBeGreaterThanOrEqual(32);
    const page = await httpGet(Number(url.port), `/?token=${token}`, { Host: url.host });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect((await httpGet(Number(url.port), '/', { Host: url.host })).status).toBe(401);

    const t = webSocketTransport(
      `ws://${url.host}/rpc?token=${token}`,
      (u) => new WebSocket(u) as unknown as WebSocketLike,
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
    const a = start(['--no-open']);
    const b = start(['--no-open']);
    const [ua, ub] = await Promise.all([a.url, b.url]);
    expect(new URL(ua).searchParams.get('token')).not.toBe(new URL(ub).searchParams.get('token'));
    a.child.kill('SIGINT');
    b.child.kill('SIGINT');
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
  });

  it('refuses a port of 70000 with exit 2 naming the option', async () => {
    const p = start(['--no-open', '--port', '70000']);
    expect(await p.exited).toBe(2);
    expect(p.err()).toContain('--port');
    expect(p.err()).toContain('0 to 65535');
  });

  it('warns when binding a non-loopback address with --host', async () => {
    const p = start(['--no-open', '--host', '0.0.0.0']);
    await p.url;
    expect(p.err()).toMatch(/warning: binding "0\.0\.0\.0"/);
    p.child.kill('SIGINT');
    expect(await p.exited).toBe(0);
  });

  it('says exactly how to build the UI when dist/renderer is missing', async () => {
    const missing = path.join(tmp, 'no-renderer');
    const p = start(['--no-open'], { WSS_STUDIO_RENDERER_DIR: missing });
    const url = new URL(await p.url);
    expect(p.err()).toContain('the UI is not built');
    expect(p.err()).toContain('node scripts/build.mjs');
    const page = await httpGet(Number(url.port), url.pathname + url.search, { Host: url.host });
    expect(page.status).toBe(503);
    expect(page.body).toContain('node scripts/build.mjs');
    p.child.kill('SIGINT');
    expect(await p.exited).toBe(0);
  });
});
