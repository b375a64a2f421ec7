// The doctor against servers that require a client certificate (mutual TLS). It presents none, so it must
// say that this is what is missing, and how to present one, instead of a generic upgrade failure:
//   a WSS Studio mTLS echo server (TLS completes, then 403 with the reason), and
//   a plain Node TLS 1.3 server with rejectUnauthorized (the certificate_required alert after the handshake),
//   nginx with ssl_verify_client on (400 "No required SSL certificate was sent").
// The fix is then shown to work: a real ws client presenting the client certificate connects.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { diagnose } from '../main/doctor';
import { ServerManager, storeCertSource } from '../main/echo/index';
import { makeTestPki, type TestPki } from '../main/echo/testing';
import { getLeaf, issueLeaf, readLeafKeyPem } from '../main/pki';
import { requireTool } from './helpers/tools';

let pki: TestPki;
let manager: ServerManager;
let echoPort: number;
let strict: https.Server;
let strictPort: number;
let clientCert: string;
let clientKey: string;

beforeAll(async () => {
  pki = await makeTestPki(['localhost', '127.0.0.1']);
  manager = new ServerManager({ resolveCert: storeCertSource(pki.store) });
  manager.add({ id: 'mtls', scheme: 'wss', certId: pki.leafId, requireClientCert: true });
  echoPort = (await manager.start('mtls')).port as number;

  const { leaf } = await issueLeaf(pki.store, { names: ['dev@app.test'], client: true });
  clientCert = leaf.certPem;
  clientKey = readLeafKeyPem(pki.store, leaf.id);
  strict = https.createServer({
    cert: getLeaf(pki.store, pki.leafId).certPem,
    key: readLeafKeyPem(pki.store, pki.leafId),
    ca: pki.caPem,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.3',
  });
  new WebSocketServer({ server: strict });
  await new Promise<void>((r) => strict.listen(0, '127.0.0.1', r));
  strictPort = (strict.address() as AddressInfo).port;
}, 60_000);

afterAll(async () => {
  await manager?.stopAll();
  strict?.closeAllConnections();
  await new Promise<void>((r) => (strict ? strict.close(() => r()) : r()));
  pki?.cleanup();
});

function wsOpen(url: string, withCert: boolean): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, {
      ca: pki.caPem,
      ...(withCert ? { cert: clientCert, key: clientKey } : {}),
    });
    ws.on('open', () => (ws.close(), resolve('open')));
    ws.on('unexpected-response', (_q, res) => (ws.terminate(), resolve(`HTTP ${res.statusCode}`)));
    ws.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
  });
}

describe('doctor vs servers that require a client certificate', () => {
  it('WSS Studio mTLS echo (403 after the handshake): CLIENT_CERT_REQUIRED with curl --cert/--key; TLS passes', async () => {
    const url = `wss://localhost:${echoPort}/`;
    const r = await diagnose(url, { caPem: pki.caPem });
    expect(r.codes, JSON.stringify(r.steps, null, 1)).toEqual(['CLIENT_CERT_REQUIRED']);
    expect(r.steps.find((s) => s.id === 'tls')?.status).toBe('pass');
    const up = r.steps.find((s) => s.id === 'upgrade');
    expect(up?.explanation).toContain(
      'The server requires a client certificate (mutual TLS) and refused this connection without one: it answered 403 Forbidden.',
    );
    expect(up?.fix).toContain('wss-studio cert issue --client NAME');
    expect(up?.fix).toContain('curl --cert CERT.pem --key KEY.pem');
    expect(up?.detail?.join('\n')).toMatch(/body: this server requires a client certificate/);
    // The Doctor screen's wording names its own screens, no CLI.
    const app = await diagnose(url, { caPem: pki.caPem, forApp: true });
    const appUp = app.steps.find((s) => s.id === 'upgrade');
    expect(appUp?.fix).toContain('Client screen');
    expect(appUp?.fix).not.toMatch(/wss-studio|--cert/);
    // What the doctor says is what a real client sees, and the fix works.
    expect(await wsOpen(url, false)).toBe('HTTP 403');
    expect(await wsOpen(url, true)).toBe('open');
  });

  it('Node TLS 1.3 server with rejectUnauthorized (certificate_required alert): CLIENT_CERT_REQUIRED', async () => {
    const url = `wss://localhost:${strictPort}/`;
    const r = await diagnose(url, { caPem: pki.caPem });
    expect(r.codes, JSON.stringify(r.steps, null, 1)).toEqual(['CLIENT_CERT_REQUIRED']);
    const up = r.steps.find((s) => s.id === 'upgrade');
    expect(up?.explanation).toMatch(/ended the TLS connection with ".*CERTIFICATE_REQUIRED/);
    expect(await wsOpen(url, false)).toMatch(/CERTIFICATE_REQUIRED/);
    expect(await wsOpen(url, true)).toBe('open');
  });

  it('nginx with ssl_verify_client on (400 after the handshake): CLIENT_CERT_REQUIRED', async () => {
    requireTool('nginx');
    const dir = path.join(pki.home, 'nginx');
    fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
    const put = (n: string, t: string) => (
      fs.writeFileSync(path.join(dir, n), t),
      path.join(dir, n)
    );
    // nginx cannot listen on port 0: take a free port, release it, and let nginx bind it.
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const tmp = path.join(dir, 'tmp');
    const conf = put(
      'nginx.conf',
      `daemon off; master_process off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events {}
http {
  access_log off; client_body_temp_path ${tmp}; proxy_temp_path ${tmp}; fastcgi_temp_path ${tmp};
  uwsgi_temp_path ${tmp}; scgi_temp_path ${tmp};
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${put('cert.pem', getLeaf(pki.store, pki.leafId).certPem)};
    ssl_certificate_key ${put('key.pem', readLeafKeyPem(pki.store, pki.leafId))};
    ssl_client_certificate ${pki.caFile};
    ssl_verify_client on;
    location / { return 200 "no websocket here"; }
  }
}
`,
    );
    const ng = spawn('nginx', ['-p', dir, '-c', conf], { stdio: 'ignore' });
    try {
      const up = Date.now() + 15_000;
      for (;;) {
        const ok = await new Promise<boolean>((r) => {
          const c = net.connect(port, '127.0.0.1', () => (c.destroy(), r(true)));
          c.on('error', () => r(false));
        });
        if (ok) break;
        if (Date.now() > up || ng.exitCode !== null)
          throw new Error(`nginx did not start: ${fs.readFileSync(`${dir}/error.log`, 'utf8')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const r = await diagnose(`wss://localhost:${port}/`, { caPem: pki.caPem });
      expect(r.codes, JSON.stringify(r.steps, null, 1)).toEqual(['CLIENT_CERT_REQUIRED']);
      const step = r.steps.find((s) => s.id === 'upgrade');
      expect(step?.explanation).toContain('it answered 400 Bad Request');
      expect(step?.detail?.join('\n')).toContain('400 No required SSL certificate was sent');
    } finally {
      ng.kill('SIGTERM');
    }
  });

  it('a 403 that is not about a certificate stays UPGRADE_FORBIDDEN', async () => {
    const m = new ServerManager({ resolveCert: storeCertSource(pki.store) });
    m.add({ id: 'o', scheme: 'wss', certId: pki.leafId, allowedOrigins: ['https://app.test'] });
    const port = (await m.start('o')).port as number;
    try {
      const r = await diagnose(`wss://localhost:${port}/`, {
        caPem: pki.caPem,
        origin: 'https://evil.test',
      });
      expect(r.codes).toEqual(['UPGRADE_FORBIDDEN']);
    } finally {
      await m.stopAll();
    }
  });
});
