// A server is shown under a name its certificate covers: `serve` prints it (with the /etc/hosts line when
// the name does not resolve here, and a warning when the certificate covers nothing reachable), `--host ::1`
// prints [::1] on a machine whose localhost is 127.0.0.1 only, and the URL the manager shows loads trusted
// in Chromium (names mapped with --host-resolver-rules), where the 127.0.0.1 URL it used to show fails.
import { execFile } from 'node:child_process';
import dns from 'node:dns/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { WebSocket as NodeWebSocket } from 'ws';
import { run } from '../main/cli/index';
import type { Io } from '../main/cli/command';
import { ServerManager } from '../main/echo/server-manager';
import { storeCertSource } from '../main/echo/index';
import { makeTestPki, waitFor, type TestPki } from '../main/echo/testing';
import { issueLeaf } from '../main/pki';
import { CHROMIUM_ARGS, CHROMIUM_PATH, nssDbTrusting, requireTool } from './helpers/tools';

const root = path.resolve(__dirname, '..');

function testIo(env: NodeJS.ProcessEnv) {
  let stop: () => void = () => {};
  const interrupted = new Promise<void>((r) => (stop = r));
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l), env, cwd: root, interrupted };
  return { io, out, err, stop };
}

let pki: TestPki;
let appId: string;
let lanId: string;
beforeAll(async () => {
  pki = await makeTestPki();
  appId = (await issueLeaf(pki.store, { names: ['app.test', '*.app.test'] })).leaf.id;
  lanId = (await issueLeaf(pki.store, { names: ['10.1.2.3'] })).leaf.id;
});
afterAll(() => pki?.cleanup());

async function serveLines(args: string[]) {
  const t = testIo({ WSS_STUDIO_HOME: pki.home });
  const done = run(['serve', ...args], t.io);
  await waitFor(() => t.out.some((l) => l.startsWith('Press Ctrl-C')), 'serve to listen');
  t.stop();
  expect(await done).toBe(0);
  return { out: t.out, err: t.err };
}

describe('serve prints a URL the certificate covers', () => {
  it('--host ::1 prints wss://[::1]:PORT/ (localhost is 127.0.0.1 only here)', async () => {
    const local = await dns.lookup('localhost', { all: true });
    expect(local.map((a) => a.address)).not.toContain('::1');
    const { out, err } = await serveLines(['--wss', '0', '--ws', '0', '--host', '::1']);
    expect(out.join('\n')).toMatch(
      /^wss echo on wss:\/\/\[::1\]:\d+\/ {2}lab page https:\/\/\[::1\]:\d+\//m,
    );
    expect(out.join('\n')).toMatch(/^ws {2}echo on ws:\/\/\[::1\]:\d+\//m);
    expect(err).toEqual([]);
  });

  it('an app.test certificate: wss://app.test:PORT/ and the /etc/hosts line', async () => {
    const { out, err } = await serveLines(['--wss', '0', '--cert', appId]);
    const text = out.join('\n');
    expect(text).toMatch(/^wss echo on wss:\/\/app\.test:\d+\//m);
    expect(text).not.toMatch(/127\.0\.0\.1:\d+/);
    expect(text).toMatch(
      /note: "app\.test" does not resolve to 127\.0\.0\.1 here: add the line "127\.0\.0\.1 app\.test" to \/etc\/hosts/,
    );
    expect(err).toEqual([]);
  });

  it('a certificate that covers no name reaching the server: a warning, also in --json', async () => {
    const { err } = await serveLines(['--wss', '0', '--cert', lanId]);
    expect(err.join('\n')).toMatch(
      /^warning: the certificate does not cover "127\.0\.0\.1" \(its names: 10\.1\.2\.3\)/,
    );
    const t = testIo({ WSS_STUDIO_HOME: pki.home });
    const done = run(['serve', '--wss', '0', '--cert', lanId, '--json'], t.io);
    await waitFor(() => t.out.some((l) => l.includes('"listening"')), 'listening');
    t.stop();
    await done;
    const listening = JSON.parse(t.out.find((l) => l.includes('"listening"'))!);
    expect(listening.warnings).toEqual([expect.stringMatching(/does not cover "127\.0\.0\.1"/)]);
  });
});

describe('Chromium loads the URL the manager shows', () => {
  it('wss://app.test:PORT/ is trusted (name mapped to 127.0.0.1); the 127.0.0.1 URL is not', async () => {
    requireTool(CHROMIUM_PATH);
    requireTool('certutil');
    // app.test resolves nowhere here, like on a developer's machine before the hosts line.
    const manager = new ServerManager({ resolveCert: storeCertSource(pki.store) });
    manager.add({ id: 'app', scheme: 'wss', certId: appId });
    const s = await manager.start('app');
    const home = path.join(pki.home, 'chromium-home');
    nssDbTrusting(home, pki.caFile);
    const browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP app.test 127.0.0.1'],
      env: { ...process.env, HOME: home },
    });
    try {
      expect(s.url).toBe(`wss://app.test:${s.port}/`);
      expect(s.labUrl).toBe(`https://app.test:${s.port}/`);
      expect(s.urlHint).toMatch(/127\.0\.0\.1 app\.test/);
      expect(s.warnings).toBeUndefined();
      const page = await browser.newPage();
      const res = await page.goto(s.labUrl!, { timeout: 20_000 });
      expect(res?.status()).toBe(200);
      const echoed = await page.evaluate(
        (u) =>
          new Promise<string>((resolve) => {
            const ws = new WebSocket(u);
            ws.onopen = () => ws.send('hi app.test');
            ws.onmessage = (e) => resolve(String(e.data));
            ws.onclose = (e) => resolve(`close ${e.code}`);
          }),
        s.url!,
      );
      expect(echoed).toBe('hi app.test');
      const old = await page
        .goto(`https://127.0.0.1:${s.port}/`, { timeout: 20_000 })
        .then(() => 'loaded')
        .catch((e: Error) => e.message);
      expect(old).toMatch(/ERR_CERT_COMMON_NAME_INVALID/);
      // A Node client that maps the name the same way agrees.
      const ws = new NodeWebSocket(s.url!, {
        ca: pki.caPem,
        lookup: (_h, _o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]),
      } as ConstructorParameters<typeof NodeWebSocket>[2]);
      await new Promise((r, j) => {
        ws.once('open', r);
        ws.once('error', j);
      });
      ws.terminate();
    } finally {
      await browser.close();
      await manager.stopAll();
    }
  });
});

describe('the chain a wss server sends (README "Chain")', () => {
  it('is the leaf then the WSS Studio CA; a client without the CA still refuses it', async () => {
    const manager = new ServerManager({ resolveCert: storeCertSource(pki.store) });
    manager.add({ id: 'chain', scheme: 'wss', certId: pki.leafId });
    const s = await manager.start('chain');
    try {
      const args = [
        's_client',
        '-connect',
        `127.0.0.1:${s.port}`,
        '-servername',
        'localhost',
        '-showcerts',
      ];
      const shown = await openssl(args);
      const certs = shown.match(/-----BEGIN CERTIFICATE-----/g) ?? [];
      expect(certs).toHaveLength(2);
      expect(shown).toMatch(/ 1 s:.*CN ?= ?WSS Studio/);
      // The default trust store (no WSS Studio CA): the root sent in the chain does not make it trusted.
      expect(shown).toMatch(
        /Verify return code: 19 \(self[- ]signed certificate in certificate chain\)/,
      );
    } finally {
      await manager.stopAll();
    }
  });
});

function openssl(args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile('openssl', args, { timeout: 30_000 }, (_e, stdout, stderr) =>
      resolve(stdout + stderr),
    );
    child.stdin?.end();
  });
}
