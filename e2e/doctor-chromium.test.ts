// The doctor's verdicts checked against the real thing: for each (page origin, WebSocket URL) pair, headless
// Chromium opens the page and tries `new WebSocket(url)`, and diagnose() must agree: ok exactly when the
// socket opens, and the code that explains why it did not. Trust goes through a temp NSS db (HOME=tmp), and
// app.test is mapped to 127.0.0.1 with --host-resolver-rules, as the issue describes.
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diagnose } from '../main/doctor';
import {
  makeCa,
  makeLeaf,
  startWsServer,
  type TestCert,
  type TestServer,
} from '../main/doctor/testing';
import { CHROMIUM_ARGS, CHROMIUM_PATH, nssDbTrusting, requireTool, tempDir } from './helpers/tools';

let tmp: ReturnType<typeof tempDir>;
let browser: Browser;
let ca: TestCert;
let pageServer: https.Server;
let pagePort: number;
let plain: TestServer;
let secure: TestServer;
let wrongName: TestServer;

beforeAll(async () => {
  requireTool(CHROMIUM_PATH);
  requireTool('certutil');
  tmp = tempDir('wss-doctor-chromium-');
  ca = makeCa({ cn: 'Doctor Chromium Test CA' });
  const caFile = path.join(tmp.dir, 'ca.pem');
  fs.writeFileSync(caFile, ca.certPem);
  nssDbTrusting(path.join(tmp.dir, 'home'), caFile, 'doctor-test');

  const names = ['localhost', '127.0.0.1', 'app.test'];
  const leaf = makeLeaf(ca, { names });
  pageServer = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>doctor</title><p>page</p>');
  });
  await new Promise<void>((r) => pageServer.listen(0, '127.0.0.1', () => r()));
  pagePort = (pageServer.address() as AddressInfo).port;
  plain = await startWsServer({ path: '/echo' });
  secure = await startWsServer({ tls: leaf, path: '/echo' });
  wrongName = await startWsServer({ tls: makeLeaf(ca, { names: ['other.test'] }) });

  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP app.test 127.0.0.1'],
    env: { ...process.env, HOME: path.join(tmp.dir, 'home') },
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([plain?.close(), secure?.close(), wrongName?.close()]);
  pageServer?.closeAllConnections();
  await new Promise<void>((r) => (pageServer ? pageServer.close(() => r()) : r()));
  tmp?.cleanup();
});

/** What Chromium does with `new WebSocket(url)` on a page at `origin`: open, error, or throw:<name>. */
async function inChromium(origin: string, url: string): Promise<string> {
  const page = await browser.newPage();
  try {
    await page.goto(`${origin}/`, { timeout: 20_000 });
    return await page.evaluate(async (u) => {
      try {
        const ws = new WebSocket(u);
        return await new Promise<string>((resolve) => {
          const t = setTimeout(() => resolve('timeout'), 10_000);
          ws.onopen = () => {
            clearTimeout(t);
            ws.close();
            resolve('open');
          };
          ws.onerror = () => {
            clearTimeout(t);
            resolve('error');
          };
        });
      } catch (e) {
        return `throw:${(e as Error).name}`;
      }
    }, url);
  } finally {
    await page.close();
  }
}

describe('doctor agrees with Chromium', () => {
  it('on mixed content, TLS vs plain, path, name and trust', async () => {
    const p = plain.port;
    const s = secure.port;
    const origin = (host: string) => `https://${host}:${pagePort}`;
    // [page origin, URL, Chromium outcome, doctor codes]. The doctor cannot resolve app.test (only Chromium's
    // resolver rule maps it), so app.test is used only where the verdict comes before DNS.
    const cases: [string, string, string, string[]][] = [
      [
        origin('app.test'),
        `ws://app.test:${p}/echo`,
        'throw:SecurityError',
        ['MIXED_CONTENT_BLOCKED'],
      ],
      [origin('localhost'), `ws://localhost:${p}/echo`, 'open', ['MIXED_CONTENT_LOOPBACK']],
      [origin('app.test'), `ws://127.0.0.1:${p}/echo`, 'open', ['MIXED_CONTENT_LOOPBACK']],
      [origin('localhost'), `wss://localhost:${s}/echo`, 'open', []],
      [origin('localhost'), `wss://localhost:${p}/echo`, 'error', ['TLS_ON_PLAIN_PORT']],
      [
        origin('localhost'),
        `ws://localhost:${s}/echo`,
        'error',
        ['MIXED_CONTENT_LOOPBACK', 'PLAIN_ON_TLS_PORT'],
      ],
      [origin('localhost'), `wss://localhost:${s}/nope`, 'error', ['UPGRADE_NOT_FOUND']],
      [origin('localhost'), `wss://localhost:${wrongName.port}/`, 'error', ['CERT_NAME_MISMATCH']],
      // URL shape: Chromium maps https:// to wss:// (doctor warns: other clients do not), and throws on a fragment.
      [origin('localhost'), `https://localhost:${s}/echo`, 'open', ['HTTP_SCHEME']],
      [origin('localhost'), `wss://localhost:${s}/echo#top`, 'throw:SyntaxError', ['BAD_URL']],
    ];
    const rows: string[] = [];
    for (const [pageOrigin, url, want, codes] of cases) {
      const seen = await inChromium(pageOrigin, url);
      const report = await diagnose(url, { origin: pageOrigin, caPem: ca.certPem });
      rows.push(
        `${pageOrigin} ${url}: chromium ${seen}, doctor ok=${report.ok} ${report.codes.join(',')}`,
      );
      expect(seen, rows.join('\n')).toBe(want);
      expect(report.ok, rows.join('\n')).toBe(seen === 'open');
      expect(report.codes, rows.join('\n')).toEqual(codes);
    }
  });

  it('says a CA the browser does not trust is untrusted (doctor without the CA, Chromium without the NSS entry)', async () => {
    const fresh = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [...CHROMIUM_ARGS],
      env: { ...process.env, HOME: path.join(tmp.dir, 'empty-home') },
    });
    try {
      const page = await fresh.newPage();
      const err = await page.goto(`https://localhost:${secure.port}/`).then(
        () => 'loaded',
        (e: Error) => e.message,
      );
      expect(err).toContain('ERR_CERT_AUTHORITY_INVALID');
    } finally {
      await fresh.close();
    }
    const report = await diagnose(`wss://localhost:${secure.port}/echo`);
    expect(report.codes).toEqual(['CERT_UNTRUSTED']);
  });
});
