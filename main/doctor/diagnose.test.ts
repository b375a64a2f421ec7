// The doctor against real peers on 127.0.0.1: ws/wss servers (node http/https + ws), raw TCP servers that
// misbehave on purpose, and, as ground truth, the ws client library failing (or not) the same way.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { openStore } from '../store';
import { createCa, issueLeaf, readLeafKeyPem } from '../pki';
import { diagnose } from './diagnose';
import type { DoctorReport, DoctorStep } from './types';
import {
  freePort,
  makeCa,
  makeLeaf,
  startRawServer,
  startWsServer,
  type TestCert,
  type TestServer,
} from './testing';

const DAY = 86_400_000;
const servers: TestServer[] = [];
let ca: TestCert;
let otherCa: TestCert;
let plain: TestServer;
let secure: TestServer;

async function serve(s: Promise<TestServer>): Promise<TestServer> {
  const server = await s;
  servers.push(server);
  return server;
}

function step(r: DoctorReport, id: DoctorStep['id']): DoctorStep {
  const s = r.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id} in ${JSON.stringify(r.steps.map((x) => x.id))}`);
  return s;
}

/** What the ws client library (a real client) makes of the URL: 'open' or its error code/message. */
function clientOutcome(
  url: string,
  opts: WebSocket.ClientOptions = {},
  protocols: string[] = [],
): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, protocols, { handshakeTimeout: 5000, ...opts });
    ws.on('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

beforeAll(async () => {
  ca = makeCa({ cn: 'Doctor Test CA' });
  otherCa = makeCa({ cn: 'Some Other CA', keyIndex: 1 });
  plain = await serve(startWsServer({ path: '/echo' }));
  secure = await serve(
    startWsServer({ tls: makeLeaf(ca, { names: ['localhost', '127.0.0.1'] }), path: '/echo' }),
  );
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('diagnose: working connections', () => {
  it('passes a ws:// echo server and reports every step, in order, through onStep before resolving', async () => {
    const seen: string[] = [];
    const r = await diagnose(`ws://localhost:${plain.port}/echo`, {
      onStep: (s) => seen.push(`${s.id}:${s.status}`),
    });
    expect(seen).toEqual([
      'url:pass',
      'mixed-content:skip',
      'dns:pass',
      'tcp:pass',
      'tls:pass',
      'certificate:skip',
      'upgrade:pass',
    ]);
    expect(r.steps.map((s) => `${s.id}:${s.status}`)).toEqual(seen);
    expect(r).toMatchObject({ ok: true, codes: [], speaks: 'plain' });
    expect(r.upgrade?.status).toBe(101);
    expect(await clientOutcome(`ws://localhost:${plain.port}/echo`)).toBe('open');
  });

  it('passes a wss:// server whose certificate our CA issued, and says which anchor trusts it', async () => {
    const r = await diagnose(`wss://localhost:${secure.port}/echo`, { caPem: ca.certPem });
    expect(r.ok, JSON.stringify(r.steps, null, 1)).toBe(true);
    expect(r.speaks).toBe('tls');
    expect(r.tls).toMatchObject({
      issuedByOurCa: true,
      trustedByOurCa: true,
      trustedBySystem: false,
      names: ['localhost', '127.0.0.1'],
    });
    expect(step(r, 'certificate').explanation).toContain('trusted by the WSS Studio CA');
    expect(await clientOutcome(`wss://localhost:${secure.port}/echo`, { ca: ca.certPem })).toBe(
      'open',
    );
  });

  it('accepts a certificate from the real WSS Studio CA (name-constrained by default)', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'wss-doctor-'));
    try {
      const store = openStore(home);
      const realCa = await createCa(store);
      const { leaf } = await issueLeaf(store, { names: ['localhost', '127.0.0.1'] });
      const s = await serve(
        startWsServer({ tls: { certPem: leaf.certPem, keyPem: readLeafKeyPem(store, leaf.id) } }),
      );
      const r = await diagnose(`wss://127.0.0.1:${s.port}/`, { caPem: realCa.certPem });
      expect(r.ok, JSON.stringify(r.steps, null, 1)).toBe(true);
      expect(r.tls).toMatchObject({ issuedByOurCa: true, trustedByOurCa: true });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('works over IPv6 ([::1]) with the bracketed host in the URL', async () => {
    const s = await serve(
      startWsServer({ host: '::1', tls: makeLeaf(ca, { names: ['::1'] }), path: '/v6' }),
    );
    const r = await diagnose(`wss://[::1]:${s.port}/v6`, { caPem: ca.certPem });
    expect(r.ok, JSON.stringify(r.steps, null, 1)).toBe(true);
    expect(r.addresses).toEqual(['::1']);
    expect(r.target).toMatchObject({ host: '::1', url: `wss://[::1]:${s.port}/v6` });
  });

  it('maps https:// to wss:// with the HTTP_SCHEME warning and still exits ok', async () => {
    const r = await diagnose(`https://localhost:${secure.port}/echo`, { caPem: ca.certPem });
    expect(step(r, 'url')).toMatchObject({ status: 'warn', code: 'HTTP_SCHEME' });
    expect(r.target?.url).toBe(`wss://localhost:${secure.port}/echo`);
    expect(r.ok).toBe(true);
  });
});

describe('diagnose: the seed scenario and its reverse', () => {
  it('names TLS_ON_PLAIN_PORT for wss:// against the plain port, where a real client fails', async () => {
    const url = `wss://localhost:${plain.port}/echo`;
    expect(await clientOutcome(url)).toMatch(/SSL|wrong version|EPROTO/i);
    const r = await diagnose(url);
    expect(r.ok).toBe(false);
    expect(r.codes).toEqual(['TLS_ON_PLAIN_PORT']);
    expect(r.speaks).toBe('plain');
    const s = step(r, 'tls');
    expect(s.explanation).toContain('ERR_SSL_PROTOCOL_ERROR');
    expect(s.fix).toContain(`"ws://localhost:${plain.port}/echo"`);
    expect(step(r, 'upgrade').status).toBe('skip');
  });

  it('names PLAIN_ON_TLS_PORT for ws:// against the TLS port, where a real client fails', async () => {
    const url = `ws://127.0.0.1:${secure.port}/echo`;
    expect(await clientOutcome(url)).not.toBe('open');
    const r = await diagnose(url);
    expect(r.codes).toEqual(['PLAIN_ON_TLS_PORT']);
    expect(r.speaks).toBe('tls');
    expect(step(r, 'tls').fix).toContain(`"wss://127.0.0.1:${secure.port}/echo"`);
  });
});

describe('diagnose: upgrade problems', () => {
  it('explains a wrong path as 404 UPGRADE_NOT_FOUND naming the path', async () => {
    const r = await diagnose(`ws://localhost:${plain.port}/wrong`);
    expect(r.codes).toEqual(['UPGRADE_NOT_FOUND']);
    expect(step(r, 'upgrade').explanation).toContain('"/wrong"');
    expect(r.upgrade?.status).toBe(404);
  });

  it('reports an Origin refused with 403 as UPGRADE_FORBIDDEN naming the origin', async () => {
    const s = await serve(startWsServer({ allowOrigin: 'http://good.test' }));
    const r = await diagnose(`ws://127.0.0.1:${s.port}/`, { origin: 'http://evil.test' });
    expect(r.codes).toEqual(['UPGRADE_FORBIDDEN']);
    expect(step(r, 'upgrade').fix).toContain('"http://evil.test"');
    const good = await diagnose(`ws://127.0.0.1:${s.port}/`, { origin: 'http://good.test' });
    expect(good.ok).toBe(true);
  });

  it('checks subprotocol agreement both ways', async () => {
    const s = await serve(startWsServer({ protocols: ['chat.v2'] }));
    const agreed = await diagnose(`ws://127.0.0.1:${s.port}/`, {
      protocols: ['chat.v1', 'chat.v2'],
    });
    expect(agreed.ok).toBe(true);
    expect(agreed.upgrade?.protocol).toBe('chat.v2');
    const none = await diagnose(`ws://127.0.0.1:${s.port}/`, { protocols: ['chat.v1'] });
    expect(none.codes).toEqual(['SUBPROTOCOL_MISMATCH']);
    expect(await clientOutcome(`ws://127.0.0.1:${s.port}/`, {}, ['chat.v1'])).toBe(
      'Server sent no subprotocol',
    );
  });

  it('catches a wrong Sec-WebSocket-Accept from a raw server (BAD_ACCEPT)', async () => {
    const s = await serve(
      startRawServer((sock) =>
        sock.once('data', () =>
          sock.write(
            'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
              'Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n',
          ),
        ),
      ),
    );
    const r = await diagnose(`ws://127.0.0.1:${s.port}/`);
    expect(r.codes).toEqual(['BAD_ACCEPT']);
    expect(step(r, 'upgrade').explanation).toContain('"AAAAAAAAAAAAAAAAAAAAAAAAAAA="');
  });

  it('does not wait for a keep-alive refusal to close', async () => {
    const s = await serve(
      startRawServer((sock) =>
        sock.once('data', () =>
          sock.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad'),
        ),
      ),
    );
    const t0 = Date.now();
    const r = await diagnose(`ws://127.0.0.1:${s.port}/`, { timeoutMs: 20_000 });
    expect(r.codes).toEqual(['UPGRADE_REFUSED']);
    expect(step(r, 'upgrade').detail).toContain('body: bad');
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('reports a plain web server with no WebSocket handler (UPGRADE_NOT_WEBSOCKET)', async () => {
    const s = await serve(
      startRawServer((sock) =>
        sock.once('data', () =>
          sock.end('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello'),
        ),
      ),
    );
    const r = await diagnose(`ws://127.0.0.1:${s.port}/`);
    expect(r.codes).toEqual(['UPGRADE_NOT_WEBSOCKET']);
  });
});

describe('diagnose: certificates', () => {
  it('explains a certificate for another name with its SANs (CERT_NAME_MISMATCH)', async () => {
    const s = await serve(
      startWsServer({ tls: makeLeaf(ca, { names: ['other.test', '127.0.0.1'] }) }),
    );
    const url = `wss://localhost:${s.port}/`;
    expect(await clientOutcome(url, { ca: ca.certPem })).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    const r = await diagnose(url, { caPem: ca.certPem });
    expect(r.codes).toEqual(['CERT_NAME_MISMATCH']);
    const c = step(r, 'certificate');
    expect(c.explanation).toContain('other.test, 127.0.0.1');
    expect(c.explanation).toContain('not "localhost"');
    expect(c.explanation).toContain('Subject Alternative Names');
    // The upgrade is still checked, so one run shows every problem.
    expect(step(r, 'upgrade').status).toBe('pass');
  });

  it('reports a certificate from an unknown CA as CERT_UNTRUSTED, said for both anchors', async () => {
    const s = await serve(startWsServer({ tls: makeLeaf(otherCa, { names: ['localhost'] }) }));
    const url = `wss://localhost:${s.port}/`;
    expect(await clientOutcome(url, { ca: ca.certPem })).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    const r = await diagnose(url, { caPem: ca.certPem });
    expect(r.codes).toEqual(['CERT_UNTRUSTED']);
    expect(r.tls).toMatchObject({
      issuedByOurCa: false,
      trustedByOurCa: false,
      trustedBySystem: false,
    });
    expect(step(r, 'certificate').explanation).toContain('"Some Other CA"');
  });

  it('reports a self-signed certificate as untrusted and self-signed', async () => {
    const s = await serve(startWsServer({ tls: makeLeaf('self', { names: ['localhost'] }) }));
    const r = await diagnose(`wss://localhost:${s.port}/`, { caPem: ca.certPem });
    expect(r.codes).toEqual(['CERT_UNTRUSTED']);
    expect(step(r, 'certificate').explanation).toContain('self-signed');
  });

  it('reports an expired certificate (CERT_EXPIRED) with its end date', async () => {
    const notAfter = new Date(Date.now() - 2 * DAY);
    const leaf = makeLeaf(ca, {
      names: ['localhost'],
      notBefore: new Date(Date.now() - 30 * DAY),
      notAfter,
    });
    const s = await serve(startWsServer({ tls: leaf }));
    const url = `wss://localhost:${s.port}/`;
    expect(await clientOutcome(url, { ca: ca.certPem })).toBe('CERT_HAS_EXPIRED');
    const r = await diagnose(url, { caPem: ca.certPem });
    expect(r.codes, JSON.stringify(r.steps)).toEqual(['CERT_EXPIRED']);
    expect(step(r, 'certificate').explanation).toContain(notAfter.toISOString().slice(0, 10));
    // The chain itself is ours and sound: only the dates are wrong.
    expect(r.tls?.issuedByOurCa).toBe(true);
  });

  it('reports a certificate that is not valid yet (CERT_NOT_YET_VALID)', async () => {
    const leaf = makeLeaf(ca, {
      names: ['localhost'],
      notBefore: new Date(Date.now() + 2 * DAY),
      notAfter: new Date(Date.now() + 30 * DAY),
    });
    const s = await serve(startWsServer({ tls: leaf }));
    const r = await diagnose(`wss://localhost:${s.port}/`, { caPem: ca.certPem });
    expect(r.codes).toEqual(['CERT_NOT_YET_VALID']);
  });

  it('names the name outside a name-constrained CA (NAME_CONSTRAINT_VIOLATION)', async () => {
    const constrained = makeCa({
      cn: 'Constrained CA',
      keyIndex: 2,
      permittedDns: ['localhost', '.test'],
    });
    const s = await serve(
      startWsServer({ tls: makeLeaf(constrained, { names: ['localhost', 'example.com'] }) }),
    );
    const url = `wss://localhost:${s.port}/`;
    expect(await clientOutcome(url, { ca: constrained.certPem })).not.toBe('open');
    const r = await diagnose(url, { caPem: constrained.certPem });
    expect(r.codes).toEqual(['NAME_CONSTRAINT_VIOLATION']);
    const c = step(r, 'certificate');
    expect(c.explanation).toContain('"example.com"');
    expect(c.explanation).toContain('localhost, .test');
    expect(r.tls?.trustedByOurCa).toBe(false);
    // OpenSSL reports only its last error (the expiry); the violation must still be named.
    const expired = await serve(
      startWsServer({
        tls: makeLeaf(constrained, {
          names: ['localhost', 'example.com'],
          notBefore: new Date(Date.now() - 30 * DAY),
          notAfter: new Date(Date.now() - DAY),
        }),
      }),
    );
    const r2 = await diagnose(`wss://localhost:${expired.port}/`, { caPem: constrained.certPem });
    expect(r2.codes).toEqual(['CERT_EXPIRED', 'NAME_CONSTRAINT_VIOLATION']);
  });

  it('names a server that only speaks TLS 1.1 (TLS_OLD_VERSION), which real clients refuse', async () => {
    const s = await serve(
      startWsServer({
        tls: makeLeaf(ca, { names: ['localhost'] }),
        tlsOptions: { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' },
      }),
    );
    const url = `wss://localhost:${s.port}/`;
    expect(await clientOutcome(url, { ca: ca.certPem })).toMatch(
      /EPROTO|PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL/,
    );
    const r = await diagnose(url, { caPem: ca.certPem });
    expect(r.codes).toEqual(['TLS_OLD_VERSION']);
    expect(step(r, 'tls').explanation).toContain('TLSv1.1');
    expect(r.tls?.protocol).toBe('TLSv1.1');
  });

  it('lists every certificate problem: the first as code, the rest in also', async () => {
    const leaf = makeLeaf(otherCa, {
      names: ['other.test'],
      notBefore: new Date(Date.now() - 30 * DAY),
      notAfter: new Date(Date.now() - DAY),
    });
    const s = await serve(startWsServer({ tls: leaf }));
    const r = await diagnose(`wss://localhost:${s.port}/`, { caPem: ca.certPem });
    const c = step(r, 'certificate');
    expect(c.code).toBe('CERT_EXPIRED');
    expect(c.also).toEqual(['CERT_UNTRUSTED', 'CERT_NAME_MISMATCH']);
    expect(r.codes).toEqual(['CERT_EXPIRED', 'CERT_UNTRUSTED', 'CERT_NAME_MISMATCH']);
  });
});

describe('diagnose: network failures, mixed content, cancellation', () => {
  it('explains a refused connection', async () => {
    const r = await diagnose(`ws://127.0.0.1:${await freePort()}/`);
    expect(r.codes).toEqual(['CONNECTION_REFUSED']);
    expect(step(r, 'tls').status).toBe('skip');
  });

  it('explains a name that does not resolve, suggesting /etc/hosts for .test names', async () => {
    const r = await diagnose('ws://no-such-host.invalid:8080/', { timeoutMs: 4000 });
    expect(r.codes).toEqual(['DNS_FAILED']);
    const r2 = await diagnose('ws://nothing-here.test:8080/', { timeoutMs: 4000 });
    expect(r2.codes).toEqual(['DNS_FAILED']);
    expect(step(r2, 'dns').fix).toContain('127.0.0.1 nothing-here.test');
  });

  it('times out on a server that accepts and never answers (TIMEOUT), within the bound', async () => {
    const s = await serve(startRawServer(() => {}));
    const t0 = Date.now();
    const r = await diagnose(`wss://127.0.0.1:${s.port}/`, { timeoutMs: 300 });
    expect(r.codes).toEqual(['TIMEOUT']);
    expect(step(r, 'tls').status).toBe('fail');
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('blocks ws:// to a non-loopback host from an https:// page before any network step', async () => {
    const r = await diagnose(`ws://app.test:${plain.port}/echo`, { origin: 'https://app.test' });
    expect(r.codes).toEqual(['MIXED_CONTENT_BLOCKED']);
    expect(r.addresses).toEqual([]);
    expect(r.steps.slice(2).every((s) => s.status === 'skip')).toBe(true);
  });

  it('allows ws://localhost from https://localhost with the MIXED_CONTENT_LOOPBACK warning', async () => {
    const r = await diagnose(`ws://localhost:${plain.port}/echo`, { origin: 'https://localhost' });
    expect(r.ok).toBe(true);
    expect(r.codes).toEqual(['MIXED_CONTENT_LOOPBACK']);
    expect(step(r, 'mixed-content').status).toBe('warn');
    expect(step(r, 'upgrade').status).toBe('pass');
  });

  it('stops at once when cancelled and keeps the steps done so far', async () => {
    const s = await serve(startRawServer(() => {}));
    const ac = new AbortController();
    const done = diagnose(`wss://127.0.0.1:${s.port}/`, {
      timeoutMs: 60_000,
      signal: ac.signal,
      onStep: (st) => {
        if (st.id === 'tcp') setTimeout(() => ac.abort(), 100);
      },
    });
    const t0 = Date.now();
    const r = await done;
    expect(r.cancelled).toBe(true);
    expect(r.ok).toBe(false);
    expect(r.steps.map((x) => x.id)).toEqual(['url', 'mixed-content', 'dns', 'tcp']);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('rejects a malformed origin or CA as bad input, before any step', async () => {
    await expect(diagnose('ws://localhost:1/', { origin: 'localhost' })).rejects.toMatchObject({
      code: 'BAD_ORIGIN',
      kind: 'input',
    });
    await expect(diagnose('ws://localhost:1/', { caPem: 'not a pem' })).rejects.toMatchObject({
      code: 'BAD_CA',
      kind: 'input',
    });
  });
});
