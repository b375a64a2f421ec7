// The https:// front speaks HTTP/2 to clients that offer it (ALPN h2: browsers load a page's modules over one
// connection instead of six at a time) and HTTP/1.1 to the rest; the target is always spoken to in HTTP/1.1.
// WebSocket upgrades stay HTTP/1.1 on the same port, and a returning client resumes its TLS session.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { storeCertSource } from '../echo';
import { FrameLog } from '../echo/frame-log';
import { waitFor } from '../echo/testing';
import type { HttpEvent } from '../echo/types';
import { tlsFront, useTestbed } from './testing';
import { ProxyServer } from './proxy-server';
import { normalizeProxy } from './validation';

const bed = useTestbed();

/** The target: GET answers its request headers as JSON; a body is answered with its length and SHA-256. */
async function target() {
  const server = http.createServer((req, res) => {
    const h = createHash('sha256');
    let len = 0;
    req.on('data', (d: Buffer) => {
      h.update(d);
      len += d.length;
    });
    req.on('end', () => {
      // Connection-specific headers an HTTP/1.1 server sends: never valid on an HTTP/2 response.
      res.setHeader('Keep-Alive', 'timeout=5');
      res.setHeader('HTTP2-Settings', 'AAMAAABkAAQAAP__');
      res.setHeader('Connection', 'keep-alive');
      if (req.method === 'GET') {
        res.setHeader('Content-Type', 'application/json');
        return res.end(JSON.stringify(req.headers));
      }
      res.end(`${len} ${h.digest('hex')}`);
    });
  });
  new WebSocketServer({ server }).on('connection', (ws) =>
    ws.on('message', (d, b) => ws.send(d, { binary: b })),
  );
  const port = await bed.listen(server);
  return { port, server };
}

const front = (targetPort: number) => tlsFront(bed, targetPort, { id: 'h2' });

function h2(port: number) {
  const session = http2.connect(`https://localhost:${port}`, { ca: bed.pki.caPem });
  bed.defer(() => void session.destroy());
  const request = (headers: http2.OutgoingHttpHeaders, body?: Buffer) =>
    new Promise<{ headers: http2.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const s = session.request(headers, { endStream: body === undefined });
      let got: http2.IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      s.on('response', (h) => (got = h));
      s.on('data', (d: Buffer) => chunks.push(d));
      s.on('end', () => resolve({ headers: got, body: Buffer.concat(chunks) }));
      s.on('error', reject);
      if (body !== undefined) {
        // Streamed in pieces, without a content-length: HTTP/2 frames the body itself.
        for (let i = 0; i < body.length; i += 256 * 1024) s.write(body.subarray(i, i + 256 * 1024));
        s.end();
      }
    });
  return { session, request };
}

describe('HTTP/2 on the https:// front', () => {
  it('a GET: no pseudo-headers to the target, Host from :authority, X-Forwarded-*, connection headers dropped', async () => {
    const { port, log } = await front((await target()).port);
    const c = h2(port);
    const r = await c.request({ ':path': '/h?x=1', 'x-app': 'yes' });
    expect(c.session.alpnProtocol).toBe('h2');
    expect(r.headers[':status']).toBe(200);
    expect(r.headers['keep-alive']).toBeUndefined();
    expect(r.headers['http2-settings']).toBeUndefined();
    const seen = JSON.parse(r.body.toString()) as Record<string, string>;
    expect(Object.keys(seen).filter((k) => k.startsWith(':'))).toEqual([]);
    expect(seen).toMatchObject({
      host: `localhost:${port}`,
      'x-forwarded-host': `localhost:${port}`,
      'x-forwarded-proto': 'https',
      'x-app': 'yes',
    });
    // A bodyless HTTP/2 request is a bodyless HTTP/1.1 request, not an empty chunked one.
    expect(seen['transfer-encoding']).toBeUndefined();
    await waitFor(() => log.events().some((e) => e.type === 'http'), 'the request in the log');
    expect(log.events().find((e) => e.type === 'http') as HttpEvent).toMatchObject({
      method: 'GET',
      path: '/h?x=1',
      status: 200,
    });
  });

  it('a client that offers only ALPN http/1.0 (curl --http1.0) is served, not refused in the handshake', async () => {
    // OpenSSL answers a client whose ALPN list shares nothing with ours with the fatal alert
    // no_application_protocol: curl --http1.0 https://... failed with "tlsv1 alert no application protocol".
    const { port, log } = await front((await target()).port);
    const s = tls.connect({
      host: 'localhost',
      port,
      ca: bed.pki.caPem,
      ALPNProtocols: ['http/1.0'],
    });
    bed.defer(() => void s.destroy());
    const handshake = await new Promise<string>((r) => {
      s.once('secureConnect', () => r(`alpn ${s.alpnProtocol}`));
      s.once('error', (e) => r(e.message));
    });
    expect(handshake).toBe('alpn http/1.0');
    s.write('GET /old HTTP/1.0\r\nHost: localhost\r\n\r\n');
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    await new Promise((r) => s.once('end', r));
    expect(got).toMatch(/^HTTP\/1\.[01] 200 /);
    expect(got).toContain('"x-forwarded-proto":"https"');
    await waitFor(() => log.events().some((e) => e.type === 'http'), 'the request in the log');
  });

  it('a 3 MiB upload without content-length arrives byte-exact; many streams share one connection', async () => {
    const { port } = await front((await target()).port);
    const c = h2(port);
    const body = randomBytes(3 * 1024 * 1024);
    const up = await c.request({ ':method': 'POST', ':path': '/up' }, body);
    expect(up.body.toString()).toBe(
      `${body.length} ${createHash('sha256').update(body).digest('hex')}`,
    );
    const many = await Promise.all(
      Array.from({ length: 30 }, (_, i) => c.request({ ':path': `/m${i}.js` })),
    );
    expect(many.map((r) => r.headers[':status'])).toEqual(Array(30).fill(200));
  });

  it('a 16 MiB download to a slow HTTP/2 reader: the target leg pauses, so the proxy never holds the body', async () => {
    const MiB = 1024 * 1024;
    const total = 16 * MiB;
    const chunk = Buffer.alloc(64 * 1024, 7);
    // In flight = written by the target but not yet read by the client: what the proxy (and the kernel's
    // socket buffers and HTTP/2 windows) hold. A relay that ignored the client's backpressure would let it
    // reach the whole body.
    let written = 0;
    let read = 0;
    let peak = 0;
    const server = http.createServer((_req, res) => {
      const pump = () => {
        while (written < total) {
          written += chunk.length;
          peak = Math.max(peak, written - read);
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const { port } = await front(await bed.listen(server));
    const session = http2.connect(`https://localhost:${port}`, { ca: bed.pki.caPem });
    bed.defer(() => void session.destroy());
    await new Promise<void>((resolve, reject) => {
      const s = session.request({ ':path': '/down' });
      s.on('data', (d: Buffer) => {
        read += d.length;
        s.pause();
        setTimeout(() => s.resume(), 1);
      });
      s.on('end', () => resolve());
      s.on('error', reject);
    });
    expect(read).toBe(total);
    expect(peak).toBeLessThan(8 * MiB);
  }, 60_000);

  it('WebSockets still upgrade over HTTP/1.1 on the same port; a refused target is the 502 page over HTTP/2 too', async () => {
    const t = await target();
    const { port } = await front(t.port);
    const ws = new WebSocket(`wss://localhost:${port}/ws`, { ca: bed.pki.caPem });
    bed.defer(() => ws.terminate());
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    const echoed = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
    ws.send('through');
    expect(await echoed).toBe('through');
    ws.terminate();
    await new Promise<void>((r) => {
      t.server.closeAllConnections();
      t.server.close(() => r());
    });
    const r = await h2(port).request({ ':path': '/gone' });
    expect(r.headers[':status']).toBe(502);
    expect(r.headers['x-wss-studio-error']).toBe('TARGET_REFUSED');
    expect(r.body.toString()).toContain(`start your server so it listens on 127.0.0.1:${t.port}`);
  });

  it('a returning client resumes its TLS session (TLS 1.3 ticket): no full handshake per new connection', async () => {
    const { port } = await front((await target()).port);
    const connect = (session?: Buffer) =>
      new Promise<{ reused: boolean; session: Buffer | undefined }>((resolve, reject) => {
        const s = tls.connect({
          host: '127.0.0.1',
          port,
          servername: 'localhost',
          ca: bed.pki.caPem,
          ALPNProtocols: ['h2', 'http/1.1'],
          ...(session ? { session } : {}),
        });
        let ticket: Buffer | undefined;
        s.on('session', (t: Buffer) => (ticket = t));
        s.once('secureConnect', () => {
          // TLS 1.3 sends the ticket after the handshake: wait for it before hanging up.
          const end = () => {
            resolve({ reused: s.isSessionReused(), session: ticket });
            s.destroy();
          };
          if (ticket || session) end();
          else s.once('session', end);
        });
        s.once('error', reject);
      });
    const first = await connect();
    expect(first.reused).toBe(false);
    expect(first.session).toBeDefined();
    expect((await connect(first.session)).reused).toBe(true);
  });

  it('stopping the proxy ends a live HTTP/2 session at once (no wait for the client to hang up)', async () => {
    const log = new FrameLog();
    const proxy = new ProxyServer({
      definition: normalizeProxy({
        id: 'h2-stop',
        publicUrl: 'https://localhost:0',
        target: `http://127.0.0.1:${(await target()).port}`,
      }),
      log,
      tls: storeCertSource(bed.pki.store)(bed.pki.leafId),
    });
    const c = h2(await proxy.start(0));
    expect((await c.request({ ':path': '/' })).headers[':status']).toBe(200);
    const closed = new Promise((r) => c.session.once('close', r));
    const t0 = performance.now();
    await proxy.stop();
    await closed;
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(proxy.port).toBeUndefined();
  });
});
