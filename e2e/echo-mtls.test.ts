// Server-side mTLS: a wss echo server with "require client certificate" accepts a client that presents a
// certificate issued (for client auth) by the WSS Studio CA, through curl (PEM and PKCS#12), openssl
// s_client, Python's ssl/websockets and the engine's own client, and refuses everyone else with a 403 that
// says why, logged with a stable code. Chromium without a client certificate is refused too.
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { ServerManager } from '../main/echo/server-manager';
import { createEngine } from '../main/engine';
import { run as runCli } from '../main/cli/index';
import { formatEvent } from '../main/cli/print-log';
import type { Io } from '../main/cli/command';
import { storeCertSource } from '../main/echo/index';
import { makeTestPki, waitFor, type TestPki } from '../main/echo/testing';
import type { ErrorEvent, OpenEvent } from '../main/echo/types';
import { createCa, exportLeaf, issueLeaf, readLeafKeyPem } from '../main/pki';
import { openStore } from '../main/store';
import { CHROMIUM_ARGS, CHROMIUM_PATH, nssDbTrusting, requireTool } from './helpers/tools';

const PYTHON = '/usr/bin/python3';

let pki: TestPki;
let manager: ServerManager;
let port: number;
const files: Record<string, string> = {};

beforeAll(async () => {
  requireTool('curl');
  requireTool('openssl');
  pki = await makeTestPki();
  const put = (name: string, data: string | Buffer) => {
    const f = path.join(pki.home, name);
    fs.writeFileSync(f, data);
    return f;
  };
  // A client certificate (serverAuth + clientAuth), a server-only one, and one from another CA.
  const { leaf: client } = await issueLeaf(pki.store, {
    names: ['dev@app.test', 'client.test'],
    client: true,
  });
  files.clientCert = put('client.pem', client.certPem);
  files.clientKey = put('client-key.pem', readLeafKeyPem(pki.store, client.id));
  files.clientP12 = put(
    'client.p12',
    exportLeaf(pki.store, client.id, 'p12', { password: 'pw' }).data,
  );
  files.clientFp = new X509Certificate(client.certPem).fingerprint256;
  const { leaf: serverOnly } = await issueLeaf(pki.store, { names: ['server.test'] });
  files.clientId = client.id;
  files.serverOnlyCert = put('server-only.pem', serverOnly.certPem);
  files.serverOnlyKey = put('server-only-key.pem', readLeafKeyPem(pki.store, serverOnly.id));
  files.serverOnlyId = serverOnly.id;
  const other = openStore(path.join(pki.home, 'other'));
  await createCa(other, {});
  const { leaf: foreign } = await issueLeaf(other, { names: ['foreign.test'], client: true });
  files.foreignCert = put('foreign.pem', foreign.certPem);
  files.foreignKey = put('foreign-key.pem', readLeafKeyPem(other, foreign.id));
  files.otherCa = path.join(other.caDir, 'ca.pem');
});
afterAll(() => pki?.cleanup());
afterEach(async () => manager?.stopAll());

async function startMtls(extra: Record<string, unknown> = {}) {
  manager = new ServerManager({ resolveCert: storeCertSource(pki.store) });
  manager.add({ id: 'mtls', scheme: 'wss', certId: pki.leafId, requireClientCert: true, ...extra });
  port = (await manager.start('mtls')).port as number;
}

const errors = (code: string) =>
  manager.log.events().filter((e): e is ErrorEvent => e.type === 'error' && e.code === code);

/** Async: the server runs in this process, so a synchronous spawn would block it. */
function curl(args: string[]) {
  return run('curl', ['-sS', '--cacert', pki.caFile, '-w', '\n%{http_code}', ...args]);
}

function run(file: string, args: string[], input?: string | Buffer) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(file, args, { timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

describe('echo server requiring a client certificate', () => {
  it('curl: 403 with the reason without a certificate; 200 with PEM --cert/--key and with PKCS#12', async () => {
    await startMtls();
    const url = `https://localhost:${port}/`;
    const none = await curl([url]);
    expect(none.stdout).toMatch(
      /requires a client certificate and the client sent none[\s\S]*\n403$/,
    );
    expect(errors('CLIENT_CERT_MISSING')).toHaveLength(1);

    const pem = await curl(['--cert', files.clientCert!, '--key', files.clientKey!, url]);
    expect(pem.stdout).toMatch(/\n200$/);
    const p12 = await curl(['--cert-type', 'P12', '--cert', `${files.clientP12}:pw`, url]);
    expect(p12.stdout, p12.stderr).toMatch(/\n200$/);

    const serverOnly = await curl([
      '--cert',
      files.serverOnlyCert!,
      '--key',
      files.serverOnlyKey!,
      url,
    ]);
    expect(serverOnly.stdout).toMatch(
      /\(INVALID_PURPOSE\): it is not for client authentication[\s\S]*--client[\s\S]*\n403$/,
    );
    const foreign = await curl(['--cert', files.foreignCert!, '--key', files.foreignKey!, url]);
    expect(foreign.stdout).toMatch(
      /CN=foreign\.test" was refused \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\): it was not issued by the CA this server trusts[\s\S]*\n403$/,
    );
    expect(errors('CLIENT_CERT_REFUSED')).toHaveLength(2);
  });

  it('a hostile client certificate (control characters, long subject) is logged bounded and inert', async () => {
    await startMtls();
    const key = path.join(pki.home, 'evil-key.pem');
    const cert = path.join(pki.home, 'evil.pem');
    const subj = `/CN=evil\u001b]0;pwned\u0007\u001b[31mred/OU=${'A'.repeat(60)}/O=${'B'.repeat(60)}/L=${'C'.repeat(60)}`;
    const made = await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      subj,
      '-addext',
      'extendedKeyUsage=clientAuth',
    ]);
    expect(made.code, made.stderr).toBe(0);
    const r = await curl(['--cert', cert, '--key', key, `https://localhost:${port}/`]);
    expect(r.stdout).toMatch(/was refused[\s\S]*\n403$/);
    const logged = errors('CLIENT_CERT_REFUSED').at(-1)!.message;
    expect(logged).not.toMatch(/\p{Cc}/u);
    // 200 characters of subject (a few more once quoted), where the certificate carries over 250.
    expect(/"(.*)" was refused/.exec(logged)![1]!.length).toBeLessThan(215);
    expect(logged).not.toContain('C'.repeat(60));
    expect(r.stdout).not.toContain('\u001b');
  });

  it('openssl s_client -cert/-key: the upgrade opens and the log names the subject, SANs and fingerprint', async () => {
    await startMtls();
    const request =
      `GET / HTTP/1.1\r\nHost: localhost:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
    const args = [
      's_client',
      '-connect',
      `127.0.0.1:${port}`,
      '-servername',
      'localhost',
      '-CAfile',
      pki.caFile,
      '-quiet',
    ];
    // The upgrade, then a masked empty close frame, so the server closes and s_client exits.
    const closeFrame = Buffer.from([0x88, 0x80, 0, 0, 0, 0]);
    const ok = await run(
      'openssl',
      [...args, '-cert', files.clientCert!, '-key', files.clientKey!],
      Buffer.concat([Buffer.from(request), closeFrame]),
    );
    expect(ok.stdout).toMatch(/^HTTP\/1\.1 101 Switching Protocols/);
    await waitFor(() => manager.log.events().some((e) => e.type === 'open'), 'open event');
    const open = manager.log.events().find((e): e is OpenEvent => e.type === 'open')!;
    expect(open.clientCert).toMatchObject({
      subject: expect.stringMatching(/CN=dev@app\.test$/),
      sans: ['email:dev@app.test', 'DNS:client.test'],
      fingerprint256: files.clientFp,
    });
    // serve's line for it (README: Client certificates).
    expect(formatEvent(open)).toMatch(
      / client-cert="dev@app\.test" sans=email:dev@app\.test,DNS:client\.test sha256=[0-9A-F:]{95}$/,
    );
    const refused = await run('openssl', args, request);
    expect(refused.stdout).toMatch(/^HTTP\/1\.1 403 Forbidden[\s\S]*sent none/);
  });

  it("a CA file instead of the WSS Studio CA: only that CA's clients get in", async () => {
    await startMtls({ clientCaFile: files.otherCa });
    const url = `https://localhost:${port}/`;
    expect(
      (await curl(['--cert', files.foreignCert!, '--key', files.foreignKey!, url])).stdout,
    ).toMatch(/\n200$/);
    expect(
      (await curl(['--cert', files.clientCert!, '--key', files.clientKey!, url])).stdout,
    ).toMatch(/\n403$/);
    // A file with no CA certificate in it fails the start, naming the file.
    manager.add({
      id: 'bad',
      scheme: 'wss',
      certId: pki.leafId,
      requireClientCert: true,
      clientCaFile: files.clientCert,
    });
    await expect(manager.start('bad')).rejects.toThrow(
      /client CA file ".*client\.pem" holds no CA certificate/,
    );
    // A device or FIFO is refused before it is read (reading /dev/zero would never end).
    manager.add({
      id: 'dev',
      scheme: 'wss',
      certId: pki.leafId,
      requireClientCert: true,
      clientCaFile: '/dev/zero',
    });
    await expect(manager.start('dev')).rejects.toThrow(
      /cannot read client CA file "\/dev\/zero": not a regular file/,
    );
  });

  it('a ws:// server cannot require a client certificate', () => {
    const m = new ServerManager();
    expect(() => m.add({ scheme: 'ws', requireClientCert: true })).toThrow(
      /requireClientCert.*needs a wss server/,
    );
  });

  it('Python websockets with ssl load_cert_chain echoes; without a certificate it gets 403', async () => {
    await startMtls();
    const py = `
import asyncio, ssl, sys, websockets
async def main(url, ca, cert, key):
    ctx = ssl.create_default_context(cafile=ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    try:
        async with websockets.connect(url, ssl=ctx) as ws:
            await ws.send("hi over mtls")
            print("echo:" + await ws.recv())
    except websockets.exceptions.InvalidStatusCode as e:
        print("status:%d" % e.status_code)
asyncio.run(main(*sys.argv[1:3], *(sys.argv[3:5] if len(sys.argv) > 3 else (None, None))))
`;
    const url = `wss://localhost:${port}/`;
    const withCert = await run(PYTHON, [
      '-c',
      py,
      url,
      pki.caFile,
      files.clientCert!,
      files.clientKey!,
    ]);
    expect(withCert.stderr).toBe('');
    expect(withCert.stdout.trim()).toBe('echo:hi over mtls');
    const without = await run(PYTHON, ['-c', py, url, pki.caFile]);
    expect(without.stdout.trim()).toBe('status:403');
  });

  it('Chromium without a client certificate is refused (page 403, WebSocket fails), and it is logged', async () => {
    requireTool(CHROMIUM_PATH);
    requireTool('certutil');
    await startMtls();
    const home = path.join(pki.home, 'chromium-home');
    nssDbTrusting(home, pki.caFile);
    const browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS,
      env: { ...process.env, HOME: home },
    });
    try {
      const page = await browser.newPage();
      const res = await page.goto(`https://localhost:${port}/`, { timeout: 20_000 });
      expect(res?.status()).toBe(403);
      expect(await page.textContent('body')).toMatch(/requires a client certificate/);
      const ws = await page.evaluate(
        (u) =>
          new Promise<string>((resolve) => {
            const s = new WebSocket(u);
            s.onopen = () => resolve('open');
            s.onclose = (e) => resolve(`close ${e.code}`);
          }),
        `wss://localhost:${port}/`,
      );
      expect(ws).toBe('close 1006');
      await waitFor(() => errors('CLIENT_CERT_MISSING').length >= 2, 'two refusals logged');
    } finally {
      await browser.close();
    }
  });

  it('the engine client (Client screen) presents a stored client certificate; refuses a server-only one', async () => {
    const engine = createEngine({ home: pki.home, shell: 'test' });
    try {
      const call = async (name: string, input: unknown) => engine.call(name, input);
      const added = await call('server.add', {
        scheme: 'wss',
        certId: pki.leafId,
        requireClientCert: true,
      });
      const id = (added as { result: { id: string } }).result.id;
      const started = await call('server.start', { id });
      const url = (started as { result: { url: string } }).result.url;
      const ok = await call('client.connect', { url, clientCertId: files.clientId });
      expect(ok).toMatchObject({ ok: true, result: { clientId: expect.any(String) } });
      const none = await call('client.connect', { url });
      expect(none).toMatchObject({
        ok: false,
        error: {
          code: 'CLIENT_CONNECT_FAILED',
          cause: expect.stringMatching(/answered 403 .*requires a client certificate/),
        },
      });
      const wrong = await call('client.connect', { url, clientCertId: files.serverOnlyId });
      expect(wrong).toMatchObject({
        ok: false,
        error: {
          field: 'clientCertId',
          cause: expect.stringMatching(/not for client authentication/),
        },
      });
    } finally {
      await engine.close();
    }
  });

  it('the engine client gives up on a refusal whose body never ends', async () => {
    const server = http.createServer();
    server.on('upgrade', (_req, socket) => {
      socket.write('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n\r\n');
      const t = setInterval(() => socket.write('x'.repeat(100)), 5);
      socket.on('close', () => clearInterval(t));
      socket.on('error', () => clearInterval(t));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const engine = createEngine({ home: pki.home, shell: 'test' });
    try {
      const port = (server.address() as AddressInfo).port;
      const t0 = Date.now();
      const r = await engine.call('client.connect', { url: `ws://127.0.0.1:${port}/` });
      expect(r).toMatchObject({
        ok: false,
        error: { code: 'CLIENT_CONNECT_FAILED', cause: expect.stringMatching(/answered 403/) },
      });
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(r.ok ? 0 : r.error.cause.length).toBeLessThan(1200);
    } finally {
      await engine.close();
      server.closeAllConnections();
      server.close();
    }
  });

  it('serve --require-client-cert says so; without --wss it is a usage error', async () => {
    const out: string[] = [];
    let stop: () => void = () => {};
    const io: Io = {
      out: (l) => out.push(l),
      err: (l) => out.push(l),
      env: { WSS_STUDIO_HOME: pki.home },
      cwd: pki.home,
      interrupted: new Promise<void>((r) => (stop = r)),
    };
    expect(await runCli(['serve', '--ws', '0', '--require-client-cert'], io)).toBe(2);
    expect(out.join('\n')).toMatch(/"--require-client-cert" is for the wss server/);
    out.length = 0;
    const done = runCli(['serve', '--wss', '0', '--require-client-cert'], io);
    await waitFor(() => out.some((l) => l.startsWith('Press Ctrl-C')), 'serve to listen');
    expect(out.join('\n')).toMatch(
      /client certificate required, issued by the WSS Studio CA \(others get 403\)/,
    );
    const port = Number(/wss:\/\/localhost:(\d+)\//.exec(out.join('\n'))?.[1]);
    const r = await curl([
      '--cert',
      files.clientCert!,
      '--key',
      files.clientKey!,
      `https://localhost:${port}/`,
    ]);
    expect(r.stdout).toMatch(/\n200$/);
    stop();
    expect(await done).toBe(0);
  });
});
