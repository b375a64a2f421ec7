// The proxy against real Node peers: an http server and a ws server as the "developer's server", clients
// from `ws` and node:https trusting the test CA. Faults are measured from the client side.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { FrameLog } from '../echo/frame-log';
import { storeCertSource } from '../echo';
import { waitFor } from '../echo/testing';
import { useTestbed } from './testing';
import type { FaultEvent, FrameEvent, HttpEvent, LogEvent, OpenEvent } from '../echo/types';
import { ProxyServer, PROXY_HIGH_WATER } from './proxy-server';
import { normalizeProxy } from './validation';

const bed = useTestbed();

interface Target {
  port: number;
  http: http.Server;
  wss: WebSocketServer;
  lastHeaders: () => http.IncomingHttpHeaders;
}

/** The developer's server: echoes bodies, redirects, and a ws endpoint that echoes and closes on command. */
async function startTarget(): Promise<Target> {
  let last: http.IncomingHttpHeaders = {};
  const server = http.createServer((req, res) => {
    last = req.headers;
    if (req.url === '/redirect') {
      res.writeHead(302, { Location: `http://localhost:${port}/landed?x=1` });
      return res.end();
    }
    if (req.url === '/headers') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Set-Cookie': ['a=1', 'b=2'] });
      return res.end(JSON.stringify(req.headers));
    }
    if (req.url === '/big') {
      // 8 MiB, chunked (no Content-Length).
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 7);
      let n = 0;
      const write = () => {
        while (n < 128) {
          n++;
          if (!res.write(chunk)) return res.once('drain', write);
        }
        res.end();
      };
      return write();
    }
    // Echo the body's SHA-256 and length (streamed, never whole in memory).
    const h = createHash('sha256');
    let len = 0;
    req.on('data', (d: Buffer) => {
      h.update(d);
      len += d.length;
    });
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(`${req.method} ${req.url} ${len} ${h.digest('hex')}`);
    });
  });
  const wss = new WebSocketServer({
    server,
    perMessageDeflate: true,
    handleProtocols: (p) => (p.has('chat.v2') ? 'chat.v2' : false),
  });
  wss.on('connection', (ws, req) => {
    ws.on('message', (data, isBinary) => {
      const s = data.toString();
      if (!isBinary && s.startsWith('close:')) {
        const [, code, reason] = s.split(':');
        return ws.close(Number(code), reason);
      }
      if (!isBinary && s === 'cookie?') return ws.send(String(req.headers.cookie));
      if (!isBinary && s === 'ext?') return ws.send(String(ws.extensions));
      ws.send(data, { binary: isBinary });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  bed.defer(
    () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { port, http: server, wss, lastHeaders: () => last };
}

async function startProxy(targetPort: number, extra: Record<string, unknown> = {}) {
  const log = new FrameLog({ flushMs: 5 });
  const def = normalizeProxy({
    id: 'front',
    publicUrl: 'https://localhost:0',
    target: `http://localhost:${targetPort}`,
    ...extra,
  });
  const proxy = new ProxyServer({
    definition: def,
    log,
    tls: storeCertSource(bed.pki.store)('' + bed.pki.leafId),
    targetCa: bed.pki.caPem,
  });
  const port = await proxy.start(0);
  bed.defer(() => proxy.stop());
  return { proxy, log, port };
}

function get(port: number, path: string, opts: https.RequestOptions = {}, body?: Buffer) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>(
    (resolve, reject) => {
      const req = https.request(
        { host: 'localhost', port, path, ca: bed.pki.caPem, ...opts },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    },
  );
}

function open(
  port: number,
  path = '/ws',
  protocols: string[] = [],
  opts: Record<string, unknown> = {},
) {
  const ws = new WebSocket(`wss://localhost:${port}${path}`, protocols, {
    ca: bed.pki.caPem,
    ...opts,
  });
  bed.defer(() => ws.terminate());
  return new Promise<WebSocket>((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

const next = (ws: WebSocket) =>
  new Promise<{ data: Buffer; binary: boolean }>((r) =>
    ws.once('message', (data: Buffer, binary: boolean) => r({ data, binary })),
  );

const of = <T extends LogEvent['type']>(log: FrameLog, type: T) =>
  log.events().filter((e) => e.type === type) as Extract<LogEvent, { type: T }>[];

describe('HTTP pass-through', () => {
  it('streams a 6 MiB upload and an 8 MiB chunked download byte-exact, with X-Forwarded-* and Host kept', async () => {
    const t = await startTarget();
    const { port, log } = await startProxy(t.port);
    const body = randomBytes(6 * 1024 * 1024);
    const up = await get(
      port,
      '/upload?q=1',
      { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream' } },
      body,
    );
    expect(up.status).toBe(200);
    expect(up.body.toString()).toBe(
      `PUT /upload?q=1 ${body.length} ${createHash('sha256').update(body).digest('hex')}`,
    );
    const h = t.lastHeaders();
    expect(h.host).toBe(`localhost:${port}`);
    expect(h['x-forwarded-proto']).toBe('https');
    expect(h['x-forwarded-host']).toBe(`localhost:${port}`);
    expect(h['x-forwarded-for']).toBe('127.0.0.1');
    const big = await get(port, '/big');
    expect(big.status).toBe(200);
    expect(big.body.length).toBe(8 * 1024 * 1024);
    expect(big.body.every((b) => b === 7)).toBe(true);
    await waitFor(() => of(log, 'http').length >= 2, 'http events');
    expect(of(log, 'http').map((e) => [e.method, e.path, e.status])).toEqual([
      ['PUT', '/upload?q=1', 200],
      ['GET', '/big', 200],
    ]);
  });

  it('streams 32 MiB each way past a slow reader without buffering the body (bytes in flight stay bounded)', async () => {
    const MiB = 1024 * 1024;
    const total = 32 * MiB;
    const chunk = Buffer.alloc(64 * 1024, 1);
    // In flight = written by the sender but not yet read by the receiver: what the proxy (and the kernel's
    // socket buffers) hold. Whole-body buffering would let it reach the whole body.
    let written = 0;
    let read = 0;
    let peak = 0;
    const note = () => (peak = Math.max(peak, written - read));
    const slowRead = (stream: NodeJS.ReadableStream & { pause(): void; resume(): void }) =>
      stream.on('data', (d: Buffer) => {
        read += d.length;
        note();
        stream.pause();
        setTimeout(() => stream.resume(), 1);
      });
    const writeAll = (w: NodeJS.WritableStream, done: () => void) => {
      const pump = () => {
        while (written < total) {
          written += chunk.length;
          note();
          if (!w.write(chunk)) return void w.once('drain', pump);
        }
        done();
      };
      pump();
    };
    const server = http.createServer((req, res) => {
      if (req.method === 'PUT') {
        slowRead(req);
        req.on('end', () => res.end(String(read)));
      } else writeAll(res, () => res.end());
    });
    const targetPort = await bed.listen(server);
    const { port } = await startProxy(targetPort);
    const uploaded = await new Promise<string>((resolve, reject) => {
      const req = https.request(
        { host: 'localhost', port, path: '/up', method: 'PUT', ca: bed.pki.caPem },
        (res) => {
          let b = '';
          res.on('data', (d) => (b += d));
          res.on('end', () => resolve(b));
        },
      );
      req.on('error', reject);
      writeAll(req, () => req.end());
    });
    expect(uploaded).toBe(String(total));
    const upPeak = peak;
    written = read = peak = 0;
    await new Promise<void>((resolve, reject) => {
      https
        .get({ host: 'localhost', port, path: '/down', ca: bed.pki.caPem }, (res) => {
          slowRead(res);
          res.on('end', () => resolve());
        })
        .on('error', reject);
    });
    expect(read).toBe(total);
    expect(upPeak).toBeLessThan(16 * MiB);
    expect(peak).toBeLessThan(16 * MiB);
  }, 90_000);

  it('rewrites Host when asked, keeps both Set-Cookie headers, and rewrites redirects to the public origin', async () => {
    const t = await startTarget();
    const { port } = await startProxy(t.port, { preserveHost: false });
    const r = await get(port, '/headers');
    expect(JSON.parse(r.body.toString()).host).toBe(`localhost:${t.port}`);
    expect(r.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    const red = await get(port, '/redirect');
    expect(red.status).toBe(302);
    expect(red.headers.location).toBe(`https://localhost:${port}/landed?x=1`);
  });

  it('an https:// target: verified with our CA; an untrusted one is a 502 naming the fix unless verification is off', async () => {
    const m = storeCertSource(bed.pki.store)(bed.pki.leafId);
    const trusted = https.createServer({ key: m.keyPem, cert: m.certPem }, (_q, s) =>
      s.end('tls target'),
    );
    const goodPort = await bed.listen(trusted);
    const ok = await startProxy(0, { id: 'tls-ok', target: `https://localhost:${goodPort}` });
    const r1 = await get(ok.port, '/');
    expect([r1.status, r1.body.toString()]).toEqual([200, 'tls target']);
    // WebSockets to an https target go out as wss://.
    const wss = new WebSocketServer({ server: trusted });
    wss.on('connection', (ws) => ws.send('hello over wss'));
    const ws = await open(ok.port);
    expect((await next(ws)).data.toString()).toBe('hello over wss');
    // The same target through a proxy that has not been given our CA: not trusted.
    const noCa = new ProxyServer({
      definition: normalizeProxy({
        id: 'no-ca',
        publicUrl: 'https://localhost:0',
        target: `https://localhost:${goodPort}`,
      }),
      log: ok.log,
      tls: m,
    });
    const noCaPort = await noCa.start(0);
    bed.defer(() => noCa.stop());
    const r2 = await get(noCaPort, '/');
    expect(r2.status).toBe(502);
    expect(r2.headers['x-wss-studio-error']).toBe('TARGET_CERT_UNTRUSTED');
    expect(r2.body.toString()).toContain('turn off target verification');
    const lax = new ProxyServer({
      definition: normalizeProxy({
        id: 'lax',
        publicUrl: 'https://localhost:0',
        target: `https://localhost:${goodPort}`,
        targetVerify: false,
      }),
      log: ok.log,
      tls: m,
    });
    const laxPort = await lax.start(0);
    bed.defer(() => lax.stop());
    expect((await get(laxPort, '/')).status).toBe(200);
  });

  it('keeps the client connection alive across requests', async () => {
    const t = await startTarget();
    const { port } = await startProxy(t.port);
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: bed.pki.caPem });
    const ports = new Set<number>();
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = https.request({ host: 'localhost', port, path: `/k${i}`, agent }, (res) => {
          ports.add(res.socket.localPort as number);
          res.resume();
          res.on('end', () => resolve());
        });
        req.on('error', reject);
        req.end();
      });
    }
    agent.destroy();
    expect(ports.size).toBe(1);
  });

  it('answers 502 with a page naming the target and the fix when the target refuses', async () => {
    const t = await startTarget();
    const dead = t.port;
    await new Promise<void>((r) => {
      t.http.closeAllConnections();
      t.http.close(() => r());
    });
    const { port, log } = await startProxy(dead);
    const r = await get(port, '/app');
    expect(r.status).toBe(502);
    expect(r.headers['x-wss-studio-error']).toBe('TARGET_REFUSED');
    const page = r.body.toString();
    expect(page).toContain(`http://localhost:${dead}`);
    expect(page).toContain(`start your server so it listens on localhost:${dead}`);
    await waitFor(() => of(log, 'http').length > 0, 'http event');
    expect(of(log, 'http')[0]).toMatchObject({
      status: 502,
      error: 'TARGET_REFUSED',
      path: '/app',
    });
  });
});

describe('WebSocket pass-through', () => {
  it('carries subprotocol, cookies, text and binary byte-exact, pings, and logs both legs', async () => {
    const t = await startTarget();
    const { port, log } = await startProxy(t.port);
    const ws = await open(port, '/ws?room=1', ['chat.v1', 'chat.v2'], {
      headers: { Cookie: 'sid=abc' },
    });
    expect(ws.protocol).toBe('chat.v2');
    ws.send('cookie?');
    expect((await next(ws)).data.toString()).toBe('sid=abc');
    const text = 'héllo ✓ ' + 'x'.repeat(5000);
    ws.send(text);
    const m1 = await next(ws);
    expect(m1.binary).toBe(false);
    expect(m1.data.toString('utf8')).toBe(text);
    const bin = randomBytes(70_000);
    ws.send(bin);
    const m2 = await next(ws);
    expect(m2.binary).toBe(true);
    expect(Buffer.compare(m2.data, bin)).toBe(0);
    const pong = new Promise<Buffer>((r) => ws.once('pong', r));
    ws.ping(Buffer.from('p1'));
    expect((await pong).toString()).toBe('p1');
    await waitFor(
      () => of(log, 'frame').filter((f) => f.opcode === 'pong').length > 0,
      'pong logged',
    );
    const open1 = of(log, 'open')[0] as OpenEvent;
    expect(open1.protocol).toBe('chat.v2');
    expect(open1.target?.url).toBe(`ws://localhost:${t.port}/ws?room=1`);
    expect(open1.target?.protocol).toBe('chat.v2');
    const frames = of(log, 'frame') as FrameEvent[];
    const dirs = frames
      .filter((f) => f.opcode !== 'ping' && f.opcode !== 'pong')
      .map((f) => `${f.dir}:${f.opcode}:${f.length}`);
    expect(dirs).toEqual([
      'in:text:7',
      'out:text:7',
      `in:text:${Buffer.byteLength(text)}`,
      `out:text:${Buffer.byteLength(text)}`,
      'in:binary:70000',
      'out:binary:70000',
    ]);
    expect(
      frames
        .filter((f) => f.opcode === 'ping' || f.opcode === 'pong')
        .map((f) => `${f.dir}:${f.opcode}`),
    ).toEqual(['in:ping', 'out:pong']);
    const up = of(log, 'http').find((e) => e.status === 101) as HttpEvent;
    expect(up).toMatchObject({ method: 'GET', path: '/ws?room=1', conn: open1.conn });
  });

  it('negotiates permessage-deflate on both legs only when the client offers it', async () => {
    const t = await startTarget();
    const { port } = await startProxy(t.port);
    const a = await open(port, '/', [], { perMessageDeflate: true });
    expect(a.extensions).toContain('permessage-deflate');
    a.send('ext?');
    expect((await next(a)).data.toString()).toContain('permessage-deflate');
    const b = await open(port, '/', [], { perMessageDeflate: false });
    expect(b.extensions).toBe('');
    b.send('ext?');
    expect((await next(b)).data.toString()).toBe('');
  });

  it('propagates close codes and reasons both ways', async () => {
    const t = await startTarget();
    const { port, log } = await startProxy(t.port);
    // Target closes with 4001.
    const a = await open(port);
    const closedA = new Promise<[number, string]>((r) =>
      a.once('close', (c, why) => r([c, why.toString()])),
    );
    a.send('close:4001:target says bye');
    expect(await closedA).toEqual([4001, 'target says bye']);
    // Client closes with 4002: the target sees exactly that.
    const seen = new Promise<[number, string]>((r) =>
      t.wss.once('connection', (s) => s.once('close', (c, why) => r([c, why.toString()]))),
    );
    const b = await open(port);
    b.close(4002, 'client says bye');
    expect(await seen).toEqual([4002, 'client says bye']);
    await waitFor(() => of(log, 'close').length === 2, 'two close events');
    expect(of(log, 'close').map((c) => [c.code, c.reason, c.by])).toEqual([
      [4001, 'target says bye', 'server'],
      [4002, 'client says bye', 'client'],
    ]);
  });

  it('relays a refused upgrade with the target status, and refuses with a fault status', async () => {
    const t = await startTarget();
    t.wss.options.verifyClient = (_i: unknown, cb: (ok: boolean, code?: number) => void) =>
      cb(false, 403);
    const { port, proxy, log } = await startProxy(t.port);
    await expect(open(port)).rejects.toThrow(/403/);
    proxy.faults.set({ refuseStatus: 503 });
    await expect(open(port)).rejects.toThrow(/503/);
    await waitFor(() => of(log, 'fault').some((f) => f.fault === 'refuse'), 'refuse fault');
  });

  it('backpressure: a client that stops reading pauses the target leg; memory in the proxy stays bounded', async () => {
    const t = await startTarget();
    let targetSide: WebSocket | undefined;
    t.wss.once('connection', (s) => (targetSide = s));
    const { port, proxy } = await startProxy(t.port);
    const ws = await open(port, '/', [], { perMessageDeflate: false });
    await waitFor(() => targetSide !== undefined, 'target connection');
    // The client stops reading at the TCP level.
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const chunk = randomBytes(1024 * 1024);
    const sender = targetSide as WebSocket;
    for (let i = 0; i < 64; i++) sender.send(chunk);
    await new Promise((r) => setTimeout(r, 1500));
    const pair = [
      ...(
        proxy as unknown as { pairs: Map<number, { down: WebSocket; up: WebSocket }> }
      ).pairs.values(),
    ][0];
    // What the proxy holds for the client is bounded by the high-water mark plus what TCP buffers took.
    expect(pair?.down.bufferedAmount).toBeLessThan(PROXY_HIGH_WATER + 4 * 1024 * 1024);
    // ... and the rest stays in the target's own send queue (it was told to wait), not in the proxy.
    expect(sender.bufferedAmount).toBeGreaterThan(32 * 1024 * 1024);
    expect(pair?.up.isPaused).toBe(true);
  }, 20_000);
});

describe('faults, measured from the client', () => {
  it('adds latency within tolerance (200 ms + 0..50 ms jitter each way, measured round trip)', async () => {
    const t = await startTarget();
    const { port, proxy } = await startProxy(t.port);
    const ws = await open(port);
    const base = performance.now();
    ws.send('warm');
    await next(ws);
    const baseRtt = performance.now() - base;
    proxy.faults.set({ latencyMs: 200, jitterMs: 50 });
    const rtts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      ws.send(`m${i}`);
      expect((await next(ws)).data.toString()).toBe(`m${i}`);
      rtts.push(performance.now() - t0);
    }
    // Never early: every round trip carries at least the fixed latency both ways. Not late: the median is
    // within the jitter plus the base round trip plus 60 ms of timer slack (one late sample on a loaded
    // machine is the scheduler's, not the fault's).
    for (const r of rtts) expect(r).toBeGreaterThanOrEqual(400);
    const median = [...rtts].sort((a, b) => a - b)[rtts.length >> 1] as number;
    expect(median).toBeLessThanOrEqual(500 + baseRtt + 60);
  });

  it('drops a fraction of messages in one direction within a statistical bound', async () => {
    const t = await startTarget();
    const { port, proxy, log } = await startProxy(t.port);
    const ws = await open(port);
    proxy.faults.set({ dropOut: 0.3 });
    const N = 400;
    let got = 0;
    ws.on('message', () => got++);
    for (let i = 0; i < N; i++) ws.send(`d${i}`);
    ws.send('end');
    await waitFor(
      () => of(log, 'frame').filter((f) => f.dir === 'in').length === N + 1,
      'all sent',
    );
    // Each message the target echoed is either delivered or dropped (and logged): poll until all are.
    const dropped = () => (of(log, 'fault') as FaultEvent[]).filter((f) => f.fault === 'drop');
    await waitFor(() => got + dropped().length === N + 1, 'every echo delivered or dropped');
    // Binomial(400, 0.7): mean 280, sd 9.2; 4 sd either side = 243..317 (fails by chance about 1 in 15,000).
    expect(got).toBeGreaterThanOrEqual(243);
    expect(got).toBeLessThanOrEqual(318);
    const drops = dropped();
    expect(drops.length).toBe(N + 1 - got);
    expect(drops.every((d) => d.dir === 'out')).toBe(true);
  });

  it('hold queues messages; release delivers them in order', async () => {
    const t = await startTarget();
    const { port, proxy } = await startProxy(t.port);
    const ws = await open(port);
    const got: string[] = [];
    ws.on('message', (d) => got.push(d.toString()));
    proxy.faults.set({ hold: true });
    for (let i = 0; i < 20; i++) ws.send(`h${i}`);
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toEqual([]);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    proxy.faults.set({ hold: false });
    await waitFor(() => got.length === 20, 'released messages');
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `h${i}`));
  });

  it('closes one connection with the chosen code and reason, and logs the fault', async () => {
    const t = await startTarget();
    const { port, proxy, log } = await startProxy(t.port);
    const a = await open(port);
    const b = await open(port);
    const conn = (of(log, 'open')[0] as OpenEvent).conn;
    const closed = new Promise<[number, string]>((r) =>
      a.once('close', (c, why) => r([c, why.toString()])),
    );
    expect(proxy.closeConnections(conn, 4321, 'chaos')).toBe(1);
    expect(await closed).toEqual([4321, 'chaos']);
    expect(b.readyState).toBe(WebSocket.OPEN);
    expect(
      (of(log, 'fault') as FaultEvent[]).some((f) => f.fault === 'close' && f.conn === conn),
    ).toBe(true);
  });

  it('throttles bandwidth: 64 KiB at 128 KiB/s takes about half a second', async () => {
    const t = await startTarget();
    const { port, proxy } = await startProxy(t.port);
    const ws = await open(port, '/', [], { perMessageDeflate: false });
    proxy.faults.set({ bandwidth: 128 * 1024 });
    const t0 = performance.now();
    ws.send(randomBytes(64 * 1024));
    await next(ws);
    const ms = performance.now() - t0;
    // Throttled on both legs: 2 x 500 ms.
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(ms).toBeLessThan(1600);
  });

  it('injects into a live connection both ways, logged as injected', async () => {
    const t = await startTarget();
    const { port, proxy, log } = await startProxy(t.port);
    const ws = await open(port);
    const conn = (of(log, 'open')[0] as OpenEvent).conn;
    proxy.inject(conn, 'client', Buffer.from('from the user'), false);
    expect((await next(ws)).data.toString()).toBe('from the user');
    // To the target: it echoes, so the client sees it come back.
    proxy.inject(conn, 'target', Buffer.from([1, 2, 3]), true);
    const m = await next(ws);
    expect([...m.data]).toEqual([1, 2, 3]);
    const inj = (of(log, 'frame') as FrameEvent[]).filter((f) => f.source === 'injected');
    expect(inj.map((f) => [f.dir, f.opcode, f.length])).toEqual([
      ['out', 'text', 13],
      ['in', 'binary', 3],
    ]);
    expect(() => proxy.inject(999_999, 'client', Buffer.from('x'), false)).toThrow(
      /no open connection 999999/,
    );
  });
});
