// Firefox (Debian firefox-esr, headless) with a profile created on disk in a temp HOME:
// `trust status` finds it through profiles.ini, `trust install --stores nss` puts the CA in its
// cert9.db (certutil shows it), and Firefox itself then loads https://localhost:PORT. playwright-core
// cannot drive a stock Firefox, so Firefox runs as `firefox-esr -headless --screenshot FILE URL`, and the
// server is the witness: before install and after uninstall the TLS handshake ends with Firefox's
// "unknown CA" alert and no request arrives; after install the GET arrives and the screenshot is written.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import type https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaInfo } from '../main/pki';
import type { StoreStatus } from '../main/trust';
import { createFirefoxProfile, firefoxVisit, stopWitness, witnessStudio } from './helpers/firefox';
import { requireTool, runCli, runTool, tempDir } from './helpers/tools';

let tmp: ReturnType<typeof tempDir>;
let env: NodeJS.ProcessEnv;
let server: https.Server;
let url: string;
let profile: string;
let ca: CaInfo;
const events: string[] = [];

function bin(argv: string[]) {
  return runCli(argv, { env, cwd: tmp.dir });
}

async function nss(): Promise<StoreStatus> {
  const r = await bin(['trust', 'status', '--stores', 'nss', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout).stores as StoreStatus[])[0] as StoreStatus;
}

function visit(shot: string) {
  return firefoxVisit({ home: env.HOME as string, profile, url, shot, events });
}

beforeAll(async () => {
  requireTool('firefox-esr');
  requireTool('certutil');
  tmp = tempDir('wss-trust-firefox-');
  const wssHome = path.join(tmp.dir, 'studio');
  const w = await witnessStudio(wssHome, ['localhost', '127.0.0.1'], events);
  ca = w.ca;
  server = w.server;
  url = `https://localhost:${w.port}/`;
  env = { PATH: process.env.PATH, HOME: path.join(tmp.dir, 'home'), WSS_STUDIO_HOME: wssHome };
  // A profile created on disk by Firefox itself (lands in ~/.config/mozilla/firefox with profiles.ini).
  profile = createFirefoxProfile(env.HOME as string, 'trustprof');
});

afterAll(async () => {
  await stopWitness(server);
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
      const before = await visit(path.join(tmp.dir, 'before.png'));
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
      const after = await visit(shot);
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
      const again = await visit(shot);
      expect(again.outcome, again.detail).toBe('refused');
      expect(again.detail).toMatch(/unknown ca/i);
    },
  );
});
