// Attacks on the proxy from real sockets, each one that broke it once: what broke is said in each test's name
// and in the commit that fixed it. Raw TLS bytes stand for a hostile local process (no client library's checks).
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { waitFor } from '../echo/testing';
import type { HttpEvent } from '../echo/types';
import { askTls, echoTarget, tlsFront, tlsH1, useTestbed } from './testing';
import { PROXY_HIGH_WATER } from './proxy-server';

const bed = useTestbed();

const echo = () => echoTarget(bed);

const proxyTo = (targetPort: number, opts: { headTimeoutMs?: number } = {}) =>
  tlsFront(bed, targetPort, { id: 'atk', ...opts });

const ask = (port: number, bytes: string, ms = 3000) => askTls(bed, port, bytes, { ms });

const upgrade = (target: string, extra = '') =>
  `GET ${target} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

async function stillServes(port: number) {
  const ws = new WebSocket(`wss://localhost:${port}/`, { ca: bed.pki.caPem });
  bed.defer(() => ws.terminate());
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const got = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
  ws.send('still here');
  expect(await got).toBe('still here');
}

describe('handshakes the proxy cannot pass on', () => {
  it('a duplicated subprotocol, an absolute-form or "*" target, a fragment: 400 each, nothing dialled, the process lives', async () => {
    const t = await echo();
    const { port, log } = await proxyTo(t.port);
    for (const bytes of [
      upgrade('/', 'Sec-WebSocket-Protocol: chat, chat\r\n'),
      upgrade('/', 'Sec-WebSocket-Protocol: a b\r\n'),
      upgrade('ws://127.0.0.1:1/'),
      upgrade('*'),
      upgrade('/a#b'),
    ]) {
      expect(await ask(port, bytes)).toMatch(
        /^HTTP\/1\.1 400 Bad Request\r\n[^]*invalid WebSocket handshake/,
      );
    }
    expect(t.upgrades()).toBe(0);
    await waitFor(
      () =>
        log.events().filter((e) => e.type === 'http' && (e as HttpEvent).error === 'BAD_UPGRADE')
          .length === 5,
      'five BAD_UPGRADE lines in the log',
    );
    await stillServes(port);
  });
});

describe('a handshake ws refuses after the target accepted', () => {
  it('an extension offer ws cannot parse: the client gets 400 and no target connection stays open', async () => {
    const t = await echo();
    const { port } = await proxyTo(t.port);
    for (let i = 0; i < 3; i++) {
      const out = await ask(
        port,
        upgrade('/', 'Sec-WebSocket-Extensions: permessage-deflate; a=,\r\n'),
      );
      expect(out).toMatch(/^HTTP\/1\.1 400 /);
    }
    // The target did accept each upgrade (the offer it got was ws's own, valid one) ...
    expect(t.upgrades()).toBe(3);
    // ... and each of those connections is closed again instead of being left open for good.
    await waitFor(() => t.wss.clients.size === 0, 'the target connections to close', 3000);
    await stillServes(port);
  });
});

describe('a target that switches protocols on a plain request', () => {
  it('101 to a GET: the client gets the 502 page (HTTP/1.1 and HTTP/2) instead of waiting for ever; logged', async () => {
    const target = net.createServer((c) => {
      c.on('error', () => {});
      c.once('data', () =>
        c.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: Upgrade\r\n\r\nraw'),
      );
    });
    const { port, log } = await proxyTo(await bed.listen(target));
    const h1 = await ask(
      port,
      'GET /switch HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
      3000,
    );
    expect(h1).toMatch(
      /^HTTP\/1\.1 502 Bad Gateway\r\n[^]*X-WSS-Studio-Error: TARGET_BAD_RESPONSE/,
    );
    const session = http2.connect(`https://localhost:${port}`, { ca: bed.pki.caPem });
    bed.defer(() => void session.destroy());
    const status = await new Promise<number>((resolve, reject) => {
      const st = session.request({ ':path': '/switch' });
      st.once('response', (h) => resolve(Number(h[':status'])));
      st.once('error', reject);
      setTimeout(() => reject(new Error('no HTTP/2 answer in 3 s')), 3000);
      st.end();
    });
    expect(status).toBe(502);
    await waitFor(
      () =>
        log
          .events()
          .filter((e) => e.type === 'http' && (e as HttpEvent).error === 'TARGET_BAD_RESPONSE')
          .length === 2,
      'both requests logged as TARGET_BAD_RESPONSE',
    );
  });
});

describe('a flood of pings towards a peer that does not read', () => {
  it('the proxy stops reading the flooder once the high-water mark is queued; memory stays bounded', async () => {
    // The target accepts, then never reads again (TCP level).
    const server = http.createServer();
    const wss = new WebSocketServer({ server, perMessageDeflate: false });
    wss.on('connection', (ws) => (ws as unknown as { _socket: net.Socket })._socket.pause());
    const targetPort = await bed.listen(server);
    // Before the server's close (which waits for this paused socket): cleanups run last-registered first.
    bed.defer(() => {
      for (const c of wss.clients) c.terminate();
    });
    const { port, proxy } = await proxyTo(targetPort);
    const ws = new WebSocket(`wss://localhost:${port}/`, {
      ca: bed.pki.caPem,
      perMessageDeflate: false,
    });
    bed.defer(() => ws.terminate());
    await new Promise((r) => ws.once('open', r));
    const sock = (ws as unknown as { _socket: net.Socket })._socket;
    const payload = Buffer.alloc(125, 1);
    // Up to 64 MiB of pings, written as fast as the proxy takes them, until well past the mark with the
    // client's own queue backed up (on a loaded machine 2 s were not always enough to get there), at most 10 s.
    let sent = 0;
    let backedUp = 0;
    const end = Date.now() + 10_000;
    while (sent < 64 * 1024 * 1024 && Date.now() < end) {
      while (sock.writableLength < 1024 * 1024 && sent < 64 * 1024 * 1024) {
        ws.ping(payload);
        sent += 131;
      }
      await new Promise((r) => setTimeout(r, 5));
      // Backed up for 200 ms running, past twice the mark.
      backedUp = sock.writableLength >= 1024 * 1024 ? backedUp + 1 : 0;
      if (sent > 2 * PROXY_HIGH_WATER && backedUp >= 40) break;
    }
    const pair = [
      ...(
        proxy as unknown as { pairs: Map<number, { down: WebSocket; up: WebSocket }> }
      ).pairs.values(),
    ][0];
    // What the proxy queued for the target is the mark plus a frame, not what the client sent ...
    expect(pair?.up.bufferedAmount).toBeLessThan(PROXY_HIGH_WATER + 64 * 1024);
    // ... because it stopped reading the client, whose own queue is backed up now.
    expect(pair?.down.isPaused).toBe(true);
    expect(sock.writableLength).toBeGreaterThan(0);
  }, 20_000);
});

describe('HTTP/2 cookie crumbs', () => {
  it('a browser-style request with one cookie field per cookie reaches an HTTP/1.1 target as one Cookie line', async () => {
    let head = '';
    const target = net.createServer((c) => {
      c.on('error', () => {});
      c.on('data', (d: Buffer) => {
        head += d.toString('latin1');
        if (head.includes('\r\n\r\n')) c.write('HTTP/1.1 204 No Content\r\n\r\n');
      });
    });
    const { port } = await proxyTo(await bed.listen(target));
    const session = http2.connect(`https://localhost:${port}`, { ca: bed.pki.caPem });
    bed.defer(() => void session.destroy());
    // Node's client sends an array as separate fields, as Chromium's and Firefox's HPACK encoders do.
    const st = session.request({ ':path': '/', cookie: ['sid=abc', 'theme=dark', 'lang=en'] });
    const status = await new Promise((r) => st.once('response', (h) => r(h[':status'])));
    st.resume();
    expect(status).toBe(204);
    const cookies = head.split('\r\n').filter((l) => /^cookie:/i.test(l));
    expect(cookies).toEqual(['cookie: sid=abc; theme=dark; lang=en']);
  });
});

describe('the headers of a WebSocket upgrade', () => {
  it('reach the target as sent: two Cookie lines joined with "; ", headers named like Object properties kept', async () => {
    const server = http.createServer();
    let raw: string[] = [];
    server.on('upgrade', (req: http.IncomingMessage, sock: net.Socket) => {
      raw = req.rawHeaders;
      sock.destroy();
    });
    const { port } = await proxyTo(await bed.listen(server));
    await ask(
      port,
      upgrade(
        '/',
        'Cookie: a=1\r\nCookie: b=2\r\nConstructor: c\r\n__proto__: p\r\nX-Two: 1\r\nX-Two: 2\r\n',
      ),
    );
    await waitFor(() => raw.length > 0, 'the upgrade at the target');
    const got = new Map<string, string>();
    for (let i = 0; i < raw.length; i += 2) got.set(raw[i]!.toLowerCase(), raw[i + 1]!);
    expect(got.get('cookie')).toBe('a=1; b=2');
    expect(got.get('constructor')).toBe('c');
    expect(got.get('__proto__')).toBe('p');
    expect(got.get('x-two')).toBe('1, 2');
  });
});

describe('a target answering status 000', () => {
  it('is the 502 page over HTTP/2 as over HTTP/1.1, not a 200', async () => {
    const target = net.createServer((c) => {
      c.on('error', () => {});
      c.on('data', () => c.write('HTTP/1.1 000 Nothing\r\nContent-Length: 2\r\n\r\nok'));
    });
    const { port } = await proxyTo(await bed.listen(target));
    const h1 = await ask(port, 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(h1).toMatch(/^HTTP\/1\.1 502 [^]*X-WSS-Studio-Error: TARGET_BAD_RESPONSE/);
    const session = http2.connect(`https://localhost:${port}`, { ca: bed.pki.caPem });
    bed.defer(() => void session.destroy());
    const st = session.request({ ':path': '/' });
    const h = await new Promise<http2.IncomingHttpHeaders>((r) => st.once('response', r));
    st.resume();
    expect(h[':status']).toBe(502);
    expect(h['x-wss-studio-error']).toBe('TARGET_BAD_RESPONSE');
  });
});

describe('slowloris on the HTTP/1.1 side of the https:// front', () => {
  /** A TLS connection (HTTP/1.1) and the ms until the proxy closed it (or null if it did not in `ms`). */
  async function closedAfter(port: number, act: (s: tls.TLSSocket) => void, ms: number) {
    const s = await tlsH1(bed, port);
    s.resume();
    const t0 = Date.now();
    act(s);
    return new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), ms);
      s.once('close', () => {
        clearTimeout(timer);
        resolve(Date.now() - t0);
      });
    });
  }

  it('a connection that sends nothing, or its head a line at a time, is closed at the deadline', async () => {
    const t = await echo();
    const { port } = await proxyTo(t.port, { headTimeoutMs: 400 });
    const idle = await closedAfter(port, () => {}, 3000);
    const trickle = await closedAfter(
      port,
      (s) => {
        s.write('GET / HTTP/1.1\r\nHost: localhost\r\n');
        const i = setInterval(() => s.writable && s.write('X-Slow: 1\r\n'), 100);
        s.once('close', () => clearInterval(i));
      },
      3000,
    );
    expect(idle).not.toBeNull();
    expect(trickle).not.toBeNull();
    expect(idle!).toBeLessThan(1500);
    expect(trickle!).toBeLessThan(1500);
  });

  it('a request answered after the deadline, and a WebSocket open past it, are not cut', async () => {
    const slow = http.createServer((_q, res) => setTimeout(() => res.end('late'), 800));
    new WebSocketServer({ server: slow }).on('connection', (ws) =>
      ws.on('message', (d, b) => ws.send(d, { binary: b })),
    );
    const { port } = await proxyTo(await bed.listen(slow), { headTimeoutMs: 300 });
    const out = await ask(port, 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1\.1 200 OK[^]*late$/);
    const ws = new WebSocket(`wss://localhost:${port}/`, { ca: bed.pki.caPem });
    bed.defer(() => ws.terminate());
    await new Promise((r) => ws.once('open', r));
    await new Promise((r) => setTimeout(r, 700));
    const got = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
    ws.send('after the deadline');
    expect(await got).toBe('after the deadline');
  });
});
