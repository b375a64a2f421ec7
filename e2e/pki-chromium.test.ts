// Chromium (the real browser, through playwright-core) accepts our leaves once the CA is in its NSS
// database, for localhost and a wildcard name, and refuses a leaf outside the CA's name constraints.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { openStore } from '../main/store';
import { createCa, issueLeaf, readLeafKeyPem, type CaInfo } from '../main/pki';
import {
  CHROMIUM_ARGS,
  CHROMIUM_PATH,
  nssDbTrusting,
  opensslLeaf,
  requireTool,
  tempDir,
} from './helpers/tools';

interface Served {
  port: number;
  close: () => void;
}

async function serve(cert: string, key: string): Promise<Served> {
  const server = https.createServer({ cert, key }, (_q, s) => {
    s.setHeader('content-type', 'text/html');
    s.end('<title>served</title><p id="ok">trusted page</p>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

describe('Chromium trusts the constrained CA, within its constraints only', () => {
  let tmp: ReturnType<typeof tempDir>;
  let browser: Browser;
  let ca: CaInfo;
  const servers: Served[] = [];
  const store = () => openStore(path.join(tmp.dir, 'studio'));

  beforeAll(async () => {
    requireTool(CHROMIUM_PATH);
    requireTool('certutil');
    tmp = tempDir('wss-chromium-');
    ca = await createCa(store(), { keyType: 'ecdsa' });
    nssDbTrusting(path.join(tmp.dir, 'home'), ca.certPath);
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [
        ...CHROMIUM_ARGS,
        '--host-resolver-rules=MAP *.app.test 127.0.0.1, MAP example.com 127.0.0.1, MAP ok.test 127.0.0.1',
      ],
      env: { ...process.env, HOME: path.join(tmp.dir, 'home') },
    });
  });

  afterAll(async () => {
    await browser?.close();
    for (const s of servers) s.close();
    tmp?.cleanup();
  });

  async function visit(url: string): Promise<string> {
    const page = await browser.newPage();
    try {
      await page.goto(url, { timeout: 20_000 });
      return (await page.textContent('#ok')) ?? '';
    } finally {
      await page.close();
    }
  }

  it('loads https://localhost with an issued leaf and no certificate error', async () => {
    const { leaf } = await issueLeaf(store(), { names: ['localhost', '127.0.0.1', '::1'] });
    const s = await serve(leaf.certPem, readLeafKeyPem(store(), leaf.id));
    servers.push(s);
    expect(await visit(`https://localhost:${s.port}/`)).toBe('trusted page');
  });

  it('loads a wildcard name (mapped with --host-resolver-rules), RSA leaf', async () => {
    const { leaf } = await issueLeaf(store(), { names: ['*.app.test'], keyType: 'rsa' });
    const s = await serve(leaf.certPem, readLeafKeyPem(store(), leaf.id));
    servers.push(s);
    expect(await visit(`https://api.app.test:${s.port}/`)).toBe('trusted page');
  });

  it('refuses a leaf for example.com crafted with the CA key, while the same crafting for ok.test loads', async () => {
    const d = tmp.dir;
    const caKey = path.join(store().caDir, 'ca-key.pem');
    const craft = (name: string) => {
      const f = opensslLeaf(d, ca.certPath, caKey, name);
      return { cert: fs.readFileSync(f.cert, 'utf8'), key: fs.readFileSync(f.key, 'utf8') };
    };
    const ok = craft('ok.test');
    const okServer = await serve(ok.cert, ok.key);
    servers.push(okServer);
    expect(await visit(`https://ok.test:${okServer.port}/`)).toBe('trusted page');

    const evil = craft('example.com');
    const evilServer = await serve(evil.cert, evil.key);
    servers.push(evilServer);
    await expect(visit(`https://example.com:${evilServer.port}/`)).rejects.toThrow(
      /net::ERR_CERT_/,
    );
  });
});
