// The issue's NSS proof with the real browser: with HOME pointed at a temp folder, headless Chromium
// refuses https://localhost:PORT (served with an issued leaf) before `trust install --stores nss`,
// loads it after, and refuses it again after `trust uninstall`; `trust status` reads
// "not trusted" -> "trusted" -> "not trusted" in step. A fresh browser per phase, so nothing is cached.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, issueLeaf, readLeafKeyPem } from '../main/pki';
import { openStore } from '../main/store';
import type { StoreStatus } from '../main/trust';
import { CHROMIUM_ARGS, CHROMIUM_PATH, requireTool, runCli, tempDir } from './helpers/tools';

let tmp: ReturnType<typeof tempDir>;
let env: NodeJS.ProcessEnv;
let server: https.Server;
let url: string;

function bin(argv: string[]) {
  return runCli(argv, { env, cwd: tmp.dir });
}

async function nssState(): Promise<string> {
  const r = await bin(['trust', 'status', '--stores', 'nss', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout).stores as StoreStatus[])[0]?.state ?? 'none';
}

/** Load the page in a fresh headless Chromium whose HOME is the temp one: page text, or the error. */
async function visit(): Promise<{ ok: boolean; text: string }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    env: { ...process.env, HOME: env.HOME as string },
  });
  try {
    const page = await browser.newPage();
    try {
      await page.goto(url, { timeout: 30_000 });
      return { ok: true, text: (await page.textContent('#ok')) ?? '' };
    } catch (e) {
      return { ok: false, text: (e as Error).message };
    }
  } finally {
    await browser.close();
  }
}

beforeAll(async () => {
  requireTool(CHROMIUM_PATH);
  requireTool('certutil');
  tmp = tempDir('wss-trust-chromium-');
  const wssHome = path.join(tmp.dir, 'studio');
  const store = openStore(wssHome);
  await createCa(store, { keyType: 'ecdsa' });
  const { leaf } = await issueLeaf(store, { names: ['localhost', '127.0.0.1'] });
  server = https.createServer(
    { cert: leaf.certPem, key: readLeafKeyPem(store, leaf.id) },
    (_q, s) => {
      s.setHeader('content-type', 'text/html');
      s.end('<title>t</title><p id="ok">trusted page</p>');
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://localhost:${(server.address() as AddressInfo).port}/`;
  env = { PATH: process.env.PATH, HOME: path.join(tmp.dir, 'home'), WSS_STUDIO_HOME: wssHome };
});

afterAll(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  tmp?.cleanup();
});

describe('trust install --stores nss makes headless Chromium trust the page', () => {
  it('refused -> loaded -> refused, with status in step', { timeout: 240_000 }, async () => {
    expect(await nssState()).toBe('not-trusted');
    const before = await visit();
    expect(before.ok).toBe(false);
    expect(before.text).toContain('net::ERR_CERT_AUTHORITY_INVALID');

    const inst = await bin(['trust', 'install', '--stores', 'nss']);
    expect(inst.code, inst.stdout + inst.stderr).toBe(0);
    expect(inst.stdout).toMatch(/^nss {5}trusted {10}installed: trusted in 1 NSS database/m);
    expect(await nssState()).toBe('trusted');
    expect(await visit()).toEqual({ ok: true, text: 'trusted page' });

    const un = await bin(['trust', 'uninstall', '--stores', 'nss']);
    expect(un.code, un.stdout + un.stderr).toBe(0);
    expect(await nssState()).toBe('not-trusted');
    const after = await visit();
    expect(after.ok).toBe(false);
    expect(after.text).toContain('net::ERR_CERT_AUTHORITY_INVALID');
  });
});
