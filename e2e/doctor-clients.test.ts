// The doctor's per-client trust verdicts against the clients themselves. One WSS Studio CA and server, a
// temp HOME holding Chromium's NSS db (~/.pki/nssdb) and a Firefox ESR profile, and a real Node client:
//   before `trust install --stores nss`: the doctor says Chromium and Firefox fail, and they do;
//   after it: the doctor says both work, and they do;
//   Node fails without NODE_EXTRA_CA_CERTS and works with it, for the doctor and for a spawned node + ws.
// Everything goes through the built `wss-studio` binary, as a user would run it.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import type https from 'node:https';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { DoctorClientVerdict } from '../shared/api';
import type { CaInfo } from '../main/pki';
import { waitFor } from '../main/echo/testing';
import { createFirefoxProfile, firefoxVisit, stopWitness, witnessStudio } from './helpers/firefox';
import {
  CHROMIUM_ARGS,
  CHROMIUM_PATH,
  requireTool,
  runCli,
  runTool,
  tempDir,
} from './helpers/tools';

const ROOT = path.resolve(__dirname, '..');
let tmp: ReturnType<typeof tempDir>;
let env: NodeJS.ProcessEnv;
let server: https.Server;
let wss: WebSocketServer;
let port: number;
let ca: CaInfo;
let profile: string;
const events: string[] = [];

interface Doc {
  code: number;
  clients: DoctorClientVerdict[];
  stdout: string;
}

async function doctor(extra: string[], envOver: NodeJS.ProcessEnv = {}): Promise<Doc> {
  const url = `wss://localhost:${port}/echo`;
  const j = await runCli(['doctor', url, '--json', ...extra], {
    env: { ...env, ...envOver },
    cwd: tmp.dir,
  });
  const human = await runCli(['doctor', url, ...extra], {
    env: { ...env, ...envOver },
    cwd: tmp.dir,
  });
  expect(j.stderr + human.stderr).toBe('');
  const clients = (JSON.parse(j.stdout) as { clients?: DoctorClientVerdict[] }).clients ?? [];
  expect(human.code).toBe(j.code);
  return { code: j.code, clients, stdout: human.stdout };
}

function firefox(shot: string) {
  const url = `https://localhost:${port}/`;
  return firefoxVisit({
    home: env.HOME as string,
    profile,
    url,
    shot: path.join(tmp.dir, shot),
    events,
  });
}

function verdictOf(clients: DoctorClientVerdict[], client: string): string[] {
  return clients.filter((c) => c.client === client).map((c) => c.verdict);
}

/** new WebSocket(url) in a fresh headless Chromium whose HOME is the temp one (its NSS db). */
async function chromiumWs(): Promise<string> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    env: { ...process.env, HOME: env.HOME },
  });
  try {
    const page = await browser.newPage();
    const logs: string[] = [];
    page.on('console', (m) => logs.push(m.text()));
    const url = `wss://localhost:${port}/echo`;
    const seen = await page.evaluate(async (u) => {
      const ws = new WebSocket(u);
      return await new Promise<string>((resolve) => {
        const t = setTimeout(() => resolve('timeout'), 15_000);
        ws.onopen = () => (clearTimeout(t), ws.close(), resolve('open'));
        ws.onerror = () => (clearTimeout(t), resolve('error'));
      });
    }, url);
    // Chromium writes its line about the failed socket after onerror has fired.
    if (seen !== 'open') {
      const failed = `WebSocket connection to '${url}' failed`;
      await waitFor(
        () => logs.some((l) => l.includes(failed)),
        `Chromium's console line "${failed}" (the page saw: ${seen})`,
      );
    }
    return seen === 'open' ? 'open' : `${seen}: ${logs.join(' | ')}`;
  } finally {
    await browser.close();
  }
}

/** A real Node client (node + ws from this repo) with or without NODE_EXTRA_CA_CERTS. */
function nodeWs(extraCa?: string): Promise<string> {
  const script = `const W=require('ws');const ws=new W(process.argv[1]);ws.on('open',()=>{console.log('open');process.exit(0)});ws.on('error',e=>{console.log(e.code||e.message);process.exit(1)})`;
  const childEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: env.HOME };
  if (extraCa) childEnv.NODE_EXTRA_CA_CERTS = extraCa;
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      ['-e', script, `wss://localhost:${port}/echo`],
      { cwd: ROOT, env: childEnv, timeout: 30_000 },
      (_e, stdout) => resolve(stdout.trim()),
    ),
  );
}

beforeAll(async () => {
  requireTool(CHROMIUM_PATH);
  requireTool('certutil');
  requireTool('firefox-esr');
  tmp = tempDir('wss-doctor-clients-');
  const studio = path.join(tmp.dir, 'studio');
  const w = await witnessStudio(studio, ['localhost', '127.0.0.1'], events);
  ca = w.ca;
  server = w.server;
  port = w.port;
  wss = new WebSocketServer({ server, path: '/echo' });
  const home = path.join(tmp.dir, 'home');
  // No system store (empty trust root), no Java (PATH without a JDK is not guaranteed: narrowed below).
  env = {
    PATH: process.env.PATH,
    HOME: home,
    WSS_STUDIO_HOME: studio,
    WSS_STUDIO_TRUST_ROOT: path.join(tmp.dir, 'root'),
  };
  fs.mkdirSync(path.join(home, '.pki', 'nssdb'), { recursive: true });
  const init = runTool('certutil', ['-N', '-d', `sql:${home}/.pki/nssdb`, '--empty-password']);
  expect(init.status, init.stderr).toBe(0);
  profile = createFirefoxProfile(home, 'doctorprof');
}, 120_000);

afterAll(async () => {
  wss?.close();
  await stopWitness(server);
  tmp?.cleanup();
});

describe('doctor per-client verdicts agree with the clients', () => {
  it(
    'Chromium and Firefox: fail before trust install --stores nss, work after; the doctor says so first',
    { timeout: 400_000 },
    async () => {
      const before = await doctor(['--client', 'chrome', '--client', 'firefox']);
      expect(verdictOf(before.clients, 'chrome'), before.stdout).toEqual(['fails']);
      expect(verdictOf(before.clients, 'firefox'), before.stdout).toEqual(['fails']);
      expect(before.clients.find((c) => c.client === 'firefox')?.name).toBe(
        'Firefox profile doctorprof',
      );
      expect(before.code).toBe(1);
      expect(before.stdout).toMatch(
        /^result: this connection would FAIL: fails in Chrome\/Chromium \(CA not installed: wss-studio trust install --stores nss\) and in Firefox profile doctorprof \(CA not installed: wss-studio trust install --stores nss\)$/m,
      );
      expect(await chromiumWs()).toMatch(/^error: .*net::ERR_CERT_AUTHORITY_INVALID/);
      const ffBefore = await firefox('before.png');
      expect(ffBefore.outcome, ffBefore.detail).toBe('refused');
      expect(ffBefore.detail).toMatch(/unknown ca/i);

      const inst = await runCli(['trust', 'install', '--stores', 'nss'], { env, cwd: tmp.dir });
      expect(inst.code, inst.stdout + inst.stderr).toBe(0);

      const after = await doctor(['--client', 'chrome,firefox']);
      expect(verdictOf(after.clients, 'chrome'), after.stdout).toEqual(['works']);
      expect(verdictOf(after.clients, 'firefox'), after.stdout).toEqual(['works']);
      expect(after.code, after.stdout).toBe(0);
      expect(after.stdout).toMatch(/^result: this connection would work$/m);
      expect(after.stdout).toContain(
        `works  Chrome/Chromium (~/.pki/nssdb): CA "${ca.commonName}" trusted (as "WSS Studio CA ${ca.serialHex.toLowerCase()}")`,
      );
      expect(await chromiumWs()).toBe('open');
      const ffAfter = await firefox('after.png');
      expect(ffAfter.outcome, ffAfter.detail).toBe('loaded');
    },
  );

  it('Node: fails without NODE_EXTRA_CA_CERTS and works with it, for the doctor and a real node client', async () => {
    const without = await doctor(['--client', 'node']);
    expect(verdictOf(without.clients, 'node'), without.stdout).toEqual(['fails']);
    expect(without.code).toBe(1);
    expect(without.stdout).toContain(
      `result: this connection would FAIL: fails in Node (set NODE_EXTRA_CA_CERTS=${ca.certPath})`,
    );
    expect(await nodeWs()).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');

    const withCa = await doctor(['--client', 'node'], { NODE_EXTRA_CA_CERTS: ca.certPath });
    expect(verdictOf(withCa.clients, 'node'), withCa.stdout).toEqual(['works']);
    expect(withCa.code).toBe(0);
    expect(await nodeWs(ca.certPath)).toBe('open');
  });

  it('without --client, lists every family found and names who fails (a warning, exit 0)', async () => {
    const all = await doctor([], { NODE_EXTRA_CA_CERTS: ca.certPath });
    const fams = all.clients.map((c) => c.client);
    expect(fams).toEqual(expect.arrayContaining(['chrome', 'firefox', 'node']));
    // The system store is absent under the temp trust root: no verdict is invented for it.
    expect(fams).not.toContain('system');
    for (const c of ['chrome', 'firefox', 'node'])
      expect(verdictOf(all.clients, c)).toEqual(['works']);
    // Java (this machine's JDK, if any) does not have the CA: a warning naming it, exit 0.
    const java = all.clients.find((c) => c.client === 'java');
    if (java) {
      expect(java.verdict).toBe('fails');
      expect(all.stdout).toContain(
        'WARN  Certificate is valid for this host and trusted  [CERT_UNTRUSTED_BY_SOME]',
      );
      expect(all.stdout).toMatch(
        /^result: works in Chrome\/Chromium, Firefox profile doctorprof and Node; fails in Java \(CA not installed: /m,
      );
    } else {
      expect(all.stdout).toMatch(/^result: this connection would work$/m);
    }
    expect(all.code).toBe(0);
  });
});
