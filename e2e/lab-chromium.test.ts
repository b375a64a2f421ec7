// The lab page in real Chromium. Over HTTPS (our CA trusted through a temp NSS db, app.test mapped to
// 127.0.0.1 with --host-resolver-rules): ws://app.test is blocked as mixed content (SecurityError), while
// ws://localhost, ws://127.0.0.1 and every wss:// URL echo. Over HTTP every URL echoes.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { ServerManager } from '../main/echo/server-manager';
import { storeCertSource } from '../main/echo/index';
import { makeTestPki, type TestPki } from '../main/echo/testing';
import { CHROMIUM_ARGS, CHROMIUM_PATH, nssDbTrusting, requireTool, tempDir } from './helpers/tools';

interface LabResult {
  url: string;
  scheme: 'ws' | 'wss';
  host: string;
  loopback: boolean;
  status: 'pending' | 'echoed' | 'blocked' | 'failed' | 'timeout';
  why: string;
}

let pki: TestPki;
let tmp: ReturnType<typeof tempDir>;
let browser: Browser;
let manager: ServerManager;
let wsPort: number;
let wssPort: number;

beforeAll(async () => {
  requireTool(CHROMIUM_PATH);
  requireTool('certutil');
  pki = await makeTestPki(['localhost', '127.0.0.1', '::1', 'app.test']);
  tmp = tempDir('wss-lab-');
  nssDbTrusting(path.join(tmp.dir, 'home'), pki.caFile, 'wss-lab-test');

  manager = new ServerManager({ resolveCert: storeCertSource(pki.store) });
  manager.add({ id: 'plain', scheme: 'ws' });
  manager.add({ id: 'tls', scheme: 'wss', certId: pki.leafId });
  wsPort = (await manager.start('plain')).port as number;
  wssPort = (await manager.start('tls')).port as number;

  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP app.test 127.0.0.1'],
    env: { ...process.env, HOME: path.join(tmp.dir, 'home') },
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await manager?.stopAll();
  tmp?.cleanup();
  pki?.cleanup();
});

async function runLab(
  url: string,
  shot: string,
): Promise<{ secure: boolean; results: LabResult[] }> {
  const page = await browser.newPage();
  try {
    await page.goto(url, { timeout: 20_000 });
    await page.waitForFunction(
      () => (window as unknown as { __lab?: { done: boolean } }).__lab?.done === true,
      null,
      {
        timeout: 30_000,
      },
    );
    fs.mkdirSync(path.join(__dirname, 'screenshots'), { recursive: true });
    await page.screenshot({ path: path.join(__dirname, 'screenshots', shot), fullPage: true });
    return await page.evaluate(() => {
      const lab = (window as unknown as { __lab: { secure: boolean; results: LabResult[] } }).__lab;
      return { secure: lab.secure, results: lab.results.map((r) => ({ ...r })) };
    });
  } finally {
    await page.close();
  }
}

const status = (results: LabResult[], url: string) => {
  const r = results.find((x) => x.url === url);
  if (!r)
    throw new Error(
      `the lab page did not try ${url}; it tried ${results.map((x) => x.url).join(', ')}`,
    );
  return r.status;
};

describe('lab page in Chromium', () => {
  it('over HTTPS: ws://app.test is blocked, ws://localhost and ws://127.0.0.1 and wss:// echo', async () => {
    const { secure, results } = await runLab(
      `https://localhost:${wssPort}/?alt=app.test`,
      'lab-https.png',
    );
    expect(secure).toBe(true);
    expect(status(results, `ws://app.test:${wsPort}/`)).toBe('blocked');
    expect(status(results, `ws://localhost:${wsPort}/`)).toBe('echoed');
    expect(status(results, `ws://127.0.0.1:${wsPort}/`)).toBe('echoed');
    expect(status(results, `wss://localhost:${wssPort}/`)).toBe('echoed');
    expect(status(results, `wss://127.0.0.1:${wssPort}/`)).toBe('echoed');
    expect(status(results, `wss://app.test:${wssPort}/`)).toBe('echoed');
    const blocked = results.find((r) => r.url === `ws://app.test:${wsPort}/`) as LabResult;
    expect(blocked.why).toMatch(/^SecurityError: .*mixed content/);
    const allowed = results.find((r) => r.url === `ws://localhost:${wsPort}/`) as LabResult;
    expect(allowed.why).toContain('potentially trustworthy');
    // The machine's LAN address (when it has one) is not loopback either: blocked the same way.
    for (const r of results.filter((x) => x.scheme === 'ws' && !x.loopback))
      expect(r.status).toBe('blocked');
    // Only the allowed sockets reached the server: the blocked ones never left the browser.
    const opened = manager.log.events().filter((e) => e.type === 'open' && e.serverId === 'plain');
    expect(opened.map((e) => (e.type === 'open' ? new URL(e.url).hostname : '')).sort()).toEqual([
      '127.0.0.1',
      'localhost',
    ]);
  });

  it('over HTTP: every URL echoes, ws://app.test included', async () => {
    manager.log.clear();
    const { secure, results } = await runLab(
      `http://localhost:${wsPort}/?alt=app.test`,
      'lab-http.png',
    );
    expect(secure).toBe(false);
    for (const url of [
      `ws://app.test:${wsPort}/`,
      `ws://localhost:${wsPort}/`,
      `ws://127.0.0.1:${wsPort}/`,
      `wss://localhost:${wssPort}/`,
      `wss://app.test:${wssPort}/`,
    ]) {
      expect(status(results, url), url).toBe('echoed');
    }
    const origins = manager.log.events().flatMap((e) => (e.type === 'open' ? [e.origin] : []));
    expect(new Set(origins)).toEqual(new Set([`http://localhost:${wsPort}`]));
  });
});
