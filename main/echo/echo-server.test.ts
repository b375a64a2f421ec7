import net from 'node:net';
import http from 'node:http';
import https from 'node:https';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { isWssError } from '../../shared/errors';
import { EchoServer } from './echo-server';
import { listenError } from './listen';
import { tlsErrorEvent } from './tls-sniff';
import { spawn } from 'node:child_process';
import { FrameLog } from './frame-log';
import { makeTestPki, waitFor, type TestPki } from './testing';
import type {
  CloseEvent,
  ErrorEvent,
  FrameEvent,
  LogEvent,
  OpenEvent,
  ServerDefinition,
} from './types';
import { normalizeDefinition } from './validation';
import { getLeaf, readLeafKeyPem } from '../pki';

const servers: EchoServer[] = [];
const clients: WebSocket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function startServer(
  def: Partial<ServerDefinition> = {},
  extra: { tls?: TestPki; handshakeTimeoutMs?: number } = {},
) {
  const log = new FrameLog();
  const definition = normalizeDefinition({ id: 'test', ...def });
  const tls = extra.tls
    ? {
        certPem: getLeaf(extra.tls.store, extra.tls.leafId).certPem,
        keyPem: readLeafKeyPem(extra.tls.store, extra.tls.leafId),
        caPem: extra.tls.caPem,
      }
    : undefined;
  const server = new EchoServer({
    definition,
    log,
    ...(tls ? { tls } : {}),
    ...(extra.handshakeTimeoutMs ? { handshakeTimeoutMs: extra.handshakeTimeoutMs } : {}),
  });
  servers.push(server);
  const port = await server.start();
  return { server, log, port };
}

function connect(
  url: string,
  opts: ConstructorParameters<typeof WebSocket>[2] = {},
  protocols?: string[],
) {
  const ws = new WebSocket(url, protocols, opts);
  clients.push(ws);
  return new Promise<WebSocket>((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

function nextMessage(ws: WebSocket) {
  return new Promise<{ data: Buffer; isBinary: boolean }>((resolve) =>
    ws.once('message', (data: Buffer, isBinary: boolean) => resolve({ data, isBinary })),
  );
}

const ofType = <T extends LogEvent['type']>(log: FrameLog, type: T) =>
  log.events().filter((e) => e.type === type) as Extract<LogEvent, { type: T }>[];

describe('ws echo server', () => {
  it('echoes text as text and binary as binary, byte for byte, and logs each frame in and out', async () => {
    const { log, port } = await startServer();
    const ws = await connect(`ws://127.0.0.1:${port}/`, {
      headers: { Origin: 'http://page.test', 'User-Agent': 'echo-test/1' },
    });
    const text = 'héllo wörld ✓';
    const p1 = nextMessage(ws);
    ws.send(text);
    const m1 = await p1;
    expect(m1.isBinary).toBe(false);
    expect(m1.data.toString('utf8')).toBe(text);
    const bin = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80]);
    const p2 = nextMessage(ws);
    ws.send(bin);
    const m2 = await p2;
    expect(m2.isBinary).toBe(true);
    expect(Buffer.compare(m2.data, bin)).toBe(0);

    const open = ofType(log, 'open')[0] as OpenEvent;
    expect(open).toMatchObject({
      origin: 'http://page.test',
      userAgent: 'echo-test/1',
      remoteAddress: '127.0.0.1',
      tls: null,
    });
    expect(open.url).toBe(`ws://127.0.0.1:${port}/`);
    const frames = ofType(log, 'frame');
    expect(frames.map((f) => [f.dir, f.opcode, f.length])).toEqual([
      ['in', 'text', Buffer.byteLength(text)],
      ['out', 'text', Buffer.byteLength(text)],
      ['in', 'binary', 6],
      ['out', 'binary', 6],
    ]);
    expect(frames[0]?.preview).toBe(text);
    expect(Buffer.from(frames[2]?.preview as string, 'base64')).toEqual(bin);
    expect(frames.every((f) => f.conn === open.conn)).toBe(true);
  });

  it('answers pings with the same payload and echoes the client close code and reason', async () => {
    const { log, port } = await startServer();
    const ws = await connect(`ws://127.0.0.1:${port}/`);
    const pong = new Promise<Buffer>((r) => ws.once('pong', r));
    ws.ping(Buffer.from('are you there'));
    expect((await pong).toString()).toBe('are you there');
    const closed = new Promise<[number, string]>((r) =>
      ws.once('close', (c, reason) => r([c, reason.toString()])),
    );
    ws.close(4000, 'bye now');
    expect(await closed).toEqual([4000, 'bye now']);
    await waitFor(() => ofType(log, 'close').length === 1, 'close event');
    const close = ofType(log, 'close')[0] as CloseEvent;
    expect(close).toMatchObject({ code: 4000, reason: 'bye now', by: 'client', clean: true });
    const frames = ofType(log, 'frame').map((f) => [f.dir, f.opcode, f.closeCode ?? null]);
    expect(frames).toEqual([
      ['in', 'ping', null],
      ['out', 'pong', null],
      ['in', 'close', 4000],
      ['out', 'close', 4000],
    ]);
  });

  it('broadcasts to every client in broadcast mode and only logs in silent mode', async () => {
    const b = await startServer({ mode: 'broadcast' });
    const a1 = await connect(`ws://127.0.0.1:${b.port}/`);
    const a2 = await connect(`ws://127.0.0.1:${b.port}/`);
    const got = Promise.all([nextMessage(a1), nextMessage(a2)]);
    a1.send('to all');
    const [r1, r2] = await got;
    expect([r1.data.toString(), r2.data.toString()]).toEqual(['to all', 'to all']);
    expect(ofType(b.log, 'frame').filter((f) => f.dir === 'out').length).toBe(2);

    const s = await startServer({ id: 'silent', mode: 'silent' });
    const c = await connect(`ws://127.0.0.1:${s.port}/`);
    let received = 0;
    c.on('message', () => received++);
    c.send('nobody answers');
    await waitFor(() => ofType(s.log, 'frame').length === 1, 'logged frame');
    await new Promise((r) => setTimeout(r, 100));
    expect(received).toBe(0);
    expect(ofType(s.log, 'frame')[0]).toMatchObject({ dir: 'in', preview: 'nobody answers' });
  });

  it('negotiates the first offered subprotocol it accepts, and permessage-deflate when on', async () => {
    const { log, port } = await startServer({ protocols: ['v2', 'v1'], perMessageDeflate: true });
    const ws = await connect(`ws://127.0.0.1:${port}/`, { perMessageDeflate: true }, [
      'v0',
      'v1',
      'v2',
    ]);
    expect(ws.protocol).toBe('v1');
    expect(ws.extensions).toContain('permessage-deflate');
    const big = 'z'.repeat(10_000);
    const m = nextMessage(ws);
    ws.send(big);
    expect((await m).data.toString()).toBe(big);
    const open = ofType(log, 'open')[0] as OpenEvent;
    expect(open.requestedProtocols).toEqual(['v0', 'v1', 'v2']);
    expect(open.protocol).toBe('v1');
    expect(open.extensions).toContain('permessage-deflate');
  });

  it('accepts the first offered subprotocol when it has no list, and none outside a list it has', async () => {
    const any = await startServer({ id: 'any' });
    const a = await connect(`ws://127.0.0.1:${any.port}/`, {}, ['chat.v2', 'chat.v1']);
    expect(a.protocol).toBe('chat.v2');
    const strict = await startServer({ id: 'strict', protocols: ['mqtt'] });
    const b = await connect(`ws://127.0.0.1:${strict.port}/`);
    expect(b.protocol).toBe('');
    // A client that insists on a protocol the server does not accept gets no header; ws (like browsers)
    // then fails the handshake.
    await expect(connect(`ws://127.0.0.1:${strict.port}/`, {}, ['chat'])).rejects.toThrow(
      /Server sent no subprotocol/,
    );
    const open = strict.log.events().filter((e) => e.type === 'open');
    expect(open.length).toBe(2);
  });

  it('refuses a wrong path with 404 and a foreign origin with 403, logging both', async () => {
    const { log, port } = await startServer({
      path: '/echo',
      allowedOrigins: ['https://app.test'],
    });
    await expect(
      connect(`ws://127.0.0.1:${port}/other`, { origin: 'https://app.test' }),
    ).rejects.toThrow('HTTP 404');
    await expect(
      connect(`ws://127.0.0.1:${port}/echo`, { origin: 'https://evil.test' }),
    ).rejects.toThrow('HTTP 403');
    await expect(connect(`ws://127.0.0.1:${port}/echo`)).rejects.toThrow('HTTP 403');
    const ok = await connect(`ws://127.0.0.1:${port}/echo`, { origin: 'https://app.test' });
    expect(ok.readyState).toBe(WebSocket.OPEN);
    const errors = ofType(log, 'error').map((e) => e.code);
    expect(errors).toEqual(['PATH_NOT_FOUND', 'ORIGIN_REFUSED', 'ORIGIN_REFUSED']);
    expect((ofType(log, 'error')[1] as ErrorEvent).message).toContain('"https://evil.test"');
  });

  it('serves the lab page at GET / with a nonce CSP, 426 on the endpoint path and 404 elsewhere', async () => {
    const { port } = await startServer({ path: '/echo' });
    const get = (p: string) =>
      new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
        (resolve, reject) => {
          http
            .get(`http://127.0.0.1:${port}${p}`, (res) => {
              let body = '';
              res.on('data', (c) => (body += c));
              res.on('end', () =>
                resolve({ status: res.statusCode ?? 0, headers: res.headers, body }),
              );
            })
            .on('error', reject);
        },
      );
    const lab = await get('/');
    expect(lab.status).toBe(200);
    expect(lab.headers['content-type']).toContain('text/html');
    const nonce = /script-src 'nonce-([^']+)'/.exec(
      String(lab.headers['content-security-policy'] ?? ''),
    )?.[1];
    expect(nonce).toBeTruthy();
    expect(lab.body).toContain(`<script nonce="${nonce}">`);
    expect(lab.body).toContain(`"port":${port}`);
    expect((await get('/echo')).status).toBe(426);
    expect((await get('/nothing')).status).toBe(404);
  });

  it('logs a TLS ClientHello on the plain port as TLS_ON_PLAIN_PORT', async () => {
    const { log, port } = await startServer();
    const p = https.get({ host: '127.0.0.1', port, path: '/', rejectUnauthorized: false });
    await new Promise<void>((resolve) => p.on('error', () => resolve()));
    await waitFor(() => ofType(log, 'error').length > 0, 'error event');
    expect(ofType(log, 'error')[0]?.code).toBe('TLS_ON_PLAIN_PORT');
  });

  it('drops a client that never finishes its handshake after the timeout', async () => {
    const { log, port } = await startServer({}, { handshakeTimeoutMs: 300 });
    const sock = net.connect(port, '127.0.0.1');
    sock.on('error', () => {});
    await new Promise((r) => sock.once('connect', r));
    sock.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n'); // never the blank line
    const t0 = Date.now();
    await new Promise((r) => sock.once('close', r));
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(ofType(log, 'error').map((e) => e.code)).toContain('HANDSHAKE_TIMEOUT');
    // An upgraded connection is not subject to the timer.
    const ws = await connect(`ws://127.0.0.1:${port}/`);
    await new Promise((r) => setTimeout(r, 600));
    expect(ws.readyState).toBe(WebSocket.OPEN);
  });

  it('stop() closes clients with 1001, logged as closed by the server', async () => {
    const { server, log, port } = await startServer();
    const ws = await connect(`ws://127.0.0.1:${port}/`);
    const closed = new Promise<number>((r) => ws.once('close', (c) => r(c)));
    await server.stop();
    expect(await closed).toBe(1001);
    const close = ofType(log, 'close')[0] as CloseEvent;
    expect(close).toMatchObject({ code: 1001, by: 'server', clean: true });
    await expect(connect(`ws://127.0.0.1:${port}/`)).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('listen errors', () => {
  it('names the port and the fix when the port is taken, and leaves nothing listening', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const server = new EchoServer({
        definition: normalizeDefinition({ id: 'busy', port }),
        log: new FrameLog(),
      });
      const err = await server.start().catch((e: unknown) => e);
      expect(isWssError(err)).toBe(true);
      if (!isWssError(err)) return;
      expect(err.code).toBe('PORT_IN_USE');
      expect(err.message).toBe(
        `failed to start ws server "ws echo" on "127.0.0.1:${port}": port ${port} is already in use on "127.0.0.1"`,
      );
      expect(err.hint).toContain('0 for a free one');
      expect(server.running).toBe(false);
      expect(server.port).toBeUndefined();
    } finally {
      blocker.close();
    }
  });

  it('explains a privileged port (EACCES) with the setcap fix', () => {
    const e = Object.assign(new Error('listen EACCES'), { code: 'EACCES' });
    const err = listenError(e, { scheme: 'wss', host: '127.0.0.1', name: 'tls echo' }, 443);
    expect(err.code).toBe('PORT_PRIVILEGED');
    expect(err.message).toContain('port 443 is privileged');
    expect(err.message).toContain('"tls echo"');
    expect(err.hint).toContain('8443');
    expect(err.hint).toContain('cap_net_bind_service');
  });
});

describe('wss echo server', () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await makeTestPki();
  });
  afterAll(() => pki?.cleanup());

  it('serves TLS with the leaf (trusted through our CA) and logs TLS version and cipher', async () => {
    const { log, port } = await startServer({ scheme: 'wss', certId: pki.leafId }, { tls: pki });
    const ws = await connect(`wss://localhost:${port}/`, { ca: pki.caPem });
    const m = nextMessage(ws);
    ws.send('over tls');
    expect((await m).data.toString()).toBe('over tls');
    const open = ofType(log, 'open')[0] as OpenEvent;
    expect(open.url).toBe(`wss://localhost:${port}/`);
    expect(open.tls?.version).toMatch(/^TLSv1\.[23]$/);
    expect(open.tls?.cipher).toBeTruthy();
    // Without our CA the client refuses the certificate.
    await expect(connect(`wss://localhost:${port}/`)).rejects.toThrow(
      /self.signed|unable to (get|verify)/i,
    );
  });

  it('logs plain HTTP spoken to the TLS port as PLAIN_ON_TLS_PORT', async () => {
    const { log, port } = await startServer({ scheme: 'wss', certId: pki.leafId }, { tls: pki });
    await connect(`ws://127.0.0.1:${port}/`).catch(() => undefined);
    await waitFor(() => ofType(log, 'error').length > 0, 'error event');
    expect(ofType(log, 'error')[0]?.code).toBe('PLAIN_ON_TLS_PORT');
  });

  it('logs a client that refuses our certificate (openssl s_client without our CA) as CLIENT_REJECTED_CERT', async () => {
    const { log, port } = await startServer({ scheme: 'wss', certId: pki.leafId }, { tls: pki });
    // Async: the server runs in this process and must keep serving while openssl talks to it.
    const child = spawn(
      'openssl',
      [
        's_client',
        '-connect',
        `127.0.0.1:${port}`,
        '-servername',
        'localhost',
        '-verify_return_error',
        '-no-CAfile',
        '-no-CApath',
        '-no-CAstore',
      ],
      { stdio: ['pipe', 'ignore', 'ignore'] },
    );
    child.stdin.end();
    const status = await new Promise<number | null>((resolve, reject) => {
      child.once('error', (e) =>
        reject(new Error(`openssl is required (apt-get install openssl): ${e.message}`)),
      );
      child.once('exit', (c) => resolve(c));
    });
    expect(status).not.toBe(0);
    await waitFor(() => ofType(log, 'error').length > 0, 'error event');
    const e = ofType(log, 'error')[0] as ErrorEvent;
    expect(e.code).toBe('CLIENT_REJECTED_CERT');
    expect(e.message).toContain('unknown_ca: it does not trust the WSS Studio CA');
  });

  it('maps TLS handshake errors to codes, and ignores clients that went away', () => {
    const err = (message: string, code?: string) =>
      Object.assign(new Error(message), code ? { code } : {});
    expect(tlsErrorEvent(err('x', 'ECONNRESET'))).toBeNull();
    expect(tlsErrorEvent(err('TLS handshake timeout', 'ERR_TLS_HANDSHAKE_TIMEOUT'))?.code).toBe(
      'HANDSHAKE_TIMEOUT',
    );
    expect(tlsErrorEvent(err('SSL routines::http request'))?.code).toBe('PLAIN_ON_TLS_PORT');
    expect(tlsErrorEvent(err('no shared cipher'))).toEqual({
      code: 'TLS_HANDSHAKE_FAILED',
      message: 'TLS handshake failed: no shared cipher',
    });
  });

  it('drops a TLS client that stalls after the handshake: quietly if it sent nothing, logged if it sent part of a request', async () => {
    const { log, port } = await startServer(
      { scheme: 'wss', certId: pki.leafId },
      { tls: pki, handshakeTimeoutMs: 300 },
    );
    const open = () =>
      new Promise<TLSSocket>((resolve, reject) => {
        const t = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ca: pki.caPem });
        t.once('secureConnect', () => resolve(t));
        t.once('error', reject);
      });
    const idle = await open();
    await new Promise((r) => idle.once('close', r));
    expect(ofType(log, 'error')).toEqual([]);
    const partial = await open();
    partial.write('GET / HTTP/1.1\r\nHost: localhost\r\n');
    await new Promise((r) => partial.once('close', r));
    expect(ofType(log, 'error').map((e) => e.code)).toEqual(['HANDSHAKE_TIMEOUT']);
  });

  it('refuses to construct a wss server without a certificate', () => {
    expect(
      () =>
        new EchoServer({ definition: normalizeDefinition({ scheme: 'wss' }), log: new FrameLog() }),
    ).toThrow(/a wss server needs a certificate/);
  });
});

// Keep the FrameEvent import used for type narrowing in helpers above.
export type _F = FrameEvent;
