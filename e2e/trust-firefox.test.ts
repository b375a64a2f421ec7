// Firefox (Debian firefox-esr, headless) with a profile created on disk in a temp HOME:
// `trust status` finds it through profiles.ini, `trust install --stores nss` puts the CA in its
// cert9.db (certutil shows it), and Firefox itself then loads https://localhost:PORT. playwright-core
// cannot drive a stock Firefox, so Firefox runs as `firefox-esr -headless --screenshot FILE URL`, and the
// server is the witness: before install and after uninstall the TLS handshake ends with Firefox's
// "unknown CA" alert and no request arrives; after install the GET arrives and the screenshot is written.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, issueLeaf, readLeafKeyPem, type CaInfo } from '../main/pki';
import { openStore } from '../main/store';
import type { StoreStatus } from '../main/trust';
import { requireTool, runCli, runTool, tempDir } from './helpers/tools';

let tmp: ReturnType<typeof tempDir>;
let env: NodeJS.ProcessEnv;
let server: https.Server;
let url: string;
let profile: string;
let ca: CaInfo;
const events: string[] = [];
const children = new Set<ChildProcess>();

function bin(argv: string[]) {
  return runCli(argv, { env, cwd: tmp.dir });
}

async function nss(): Promise<StoreStatus> {
  const r = await bin(['trust', 'status', '--stores', 'nss', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout).stores as StoreStatus[])[0] as StoreStatus;
}

/**
 * Run headless Firefox on the page until the server sees either the request (trusted) or a TLS alert
 * (refused), then stop it (its own process group: Firefox starts helper processes).
 */
async function firefoxVisit(
  shot: string,
): Promise<{ outcome: 'loaded' | 'refused'; detail: string }> {
  events.length = 0;
  const ff = spawn('firefox-esr', ['-headless', '--profile', profile, '--screenshot', shot, url], {
    env: { ...process.env, HOME: env.HOME, MOZ_CRASHREPORTER_DISABLE: '1' },
    stdio: 'ignore',
    detached: true,
  });
  children.add(ff);
  const exited = new Promise<void>((r) => ff.once('exit', () => r()));
  try {
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && !events.length) await new Promise((r) => setTimeout(r, 200));
    const first = events[0] ?? 'nothing within 90 s';
    if (first.startsWith('request')) {
      // Let Firefox render and write the screenshot; it exits by itself when done.
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      return { outcome: 'loaded', detail: first };
    }
    return { outcome: 'refused', detail: first };
  } finally {
    if (ff.exitCode === null && ff.pid) {
      try {
        process.kill(-ff.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await exited;
    }
    children.delete(ff);
  }
}

beforeAll(async () => {
  requireTool('firefox-esr');
  requireTool('certutil');
  tmp = tempDir('wss-trust-firefox-');
  const wssHome = path.join(tmp.dir, 'studio');
  const store = openStore(wssHome);
  ca = await createCa(store, { keyType: 'ecdsa' });
  const { leaf } = await issueLeaf(store, { names: ['localhost', '127.0.0.1'] });
  server = https.createServer(
    { cert: leaf.certPem, key: readLeafKeyPem(store, leaf.id) },
    (q, s) => {
      events.push(`request ${q.url}`);
      s.end('<p>trusted page</p>');
    },
  );
  server.on('tlsClientError', (e) => events.push(`tls error: ${e.message}`));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://localhost:${(server.address() as AddressInfo).port}/`;
  env = { PATH: process.env.PATH, HOME: path.join(tmp.dir, 'home'), WSS_STUDIO_HOME: wssHome };
  // A profile created on disk by Firefox itself (lands in ~/.config/mozilla/firefox with profiles.ini).
  execFileSync('firefox-esr', ['-headless', '-CreateProfile', 'trustprof'], {
    env: { ...process.env, HOME: env.HOME },
    stdio: 'pipe',
    timeout: 60_000,
  });
  const ffRoot = path.join(env.HOME as string, '.config/mozilla/firefox');
  const dir = readdirSync(ffRoot).find((n) => n.endsWith('.trustprof'));
  expect(dir, `no profile folder in ${ffRoot}`).toBeDefined();
  profile = path.join(ffRoot, dir as string);
});

afterAll(async () => {
  for (const c of children) if (c.pid && c.exitCode === null) process.kill(-c.pid, 'SIGKILL');
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  tmp?.cleanup();
});

describe('Firefox profile trust', () => {
  it(
    'finds the profile, installs into its cert9.db, and Firefox loads the page',
    { timeout: 400_000 },
    async () => {
      const s0 = await nss();
      expect(s0.state).toBe('not-trusted');
      expect(s0.targets?.map((t) => t.path)).toContain(profile);
      expect(s0.targets?.find((t) => t.path === profile)?.label).toContain(
        'Firefox profile trustprof',
      );

      // Firefox's first start creates cert9.db; without our CA it refuses the handshake.
      const before = await firefoxVisit(path.join(tmp.dir, 'before.png'));
      expect(before.outcome, before.detail).toBe('refused');
      expect(before.detail).toMatch(/unknown ca/i);
      expect(existsSync(path.join(profile, 'cert9.db'))).toBe(true);

      const inst = await bin(['trust', 'install', '--stores', 'nss']);
      expect(inst.code, inst.stdout + inst.stderr).toBe(0);
      const listed = runTool('certutil', ['-L', '-d', `sql:${profile}`]).stdout;
      expect(listed).toMatch(
        new RegExp(`^WSS Studio CA ${ca.serialHex.toLowerCase()}\\s+C,,`, 'm'),
      );
      const pem = runTool('certutil', [
        '-L',
        '-d',
        `sql:${profile}`,
        '-n',
        `WSS Studio CA ${ca.serialHex.toLowerCase()}`,
        '-a',
      ]).stdout;
      expect(pem.replace(/\s+/g, '')).toContain(ca.certDer.toString('base64'));
      expect((await nss()).state).toBe('trusted');

      const shot = path.join(tmp.dir, 'after.png');
      const after = await firefoxVisit(shot);
      expect(after.outcome, after.detail).toBe('loaded');
      expect(after.detail).toBe('request /');
      expect(existsSync(shot) && readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');

      const un = await bin(['trust', 'uninstall', '--stores', 'nss']);
      expect(un.code, un.stdout + un.stderr).toBe(0);
      expect(runTool('certutil', ['-L', '-d', `sql:${profile}`]).stdout).not.toContain(
        'WSS Studio CA',
      );
      expect((await nss()).state).toBe('not-trusted');
      rmSync(shot, { force: true });
      const again = await firefoxVisit(shot);
      expect(again.outcome, again.detail).toBe('refused');
      expect(again.detail).toMatch(/unknown ca/i);
    },
  );
});
