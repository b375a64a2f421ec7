// The http:// public side (h1-server.ts): WebSocket upgrades handed over (first frame in the handshake's
// packet, after a kept-alive request, pipelined behind a slow one), the log of each request, X-Forwarded-*,
// the 502 page, stop() ending every connection, and curl (keep-alive reuse, an upload with 100-continue).
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { HttpEvent } from '../echo/types';
import { waitFor } from '../echo/testing';
import { echoTarget, plainFront, rawClient, useTestbed } from './testing';

const bed = useTestbed();
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const HANDSHAKE =
  'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`;

/** A masked text frame from the client. */
function frame(text: string): Buffer {
  const p = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const out = Buffer.alloc(6 + p.length);
  out[0] = 0x81;
  out[1] = 0x80 | p.length;
  mask.copy(out, 2);
  for (let i = 0; i < p.length; i++) out[6 + i] = p[i]! ^ mask[i % 4]!;
  return out;
}

/** A target that echoes WebSockets and answers /slow after 300 ms, others at once. */
async function wsTarget() {
  const t = await echoTarget(bed);
  t.wss.options.server?.removeAllListeners('request');
  t.wss.options.server?.on('request', (req: http.IncomingMessage, res: http.ServerResponse) =>
    setTimeout(() => res.end(`${req.url}`), req.url === '/slow' ? 300 : 0),
  );
  return t;
}

describe('upgrades on the http:// side', () => {
  it('a ws client echoes through it', async () => {
    const { port } = await plainFront(bed, (await wsTarget()).port);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    bed.defer(() => ws.terminate());
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    const echoed = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
    ws.send('hello');
    expect(await echoed).toBe('hello');
  });

  it.each([
    ['the first frame in the handshake packet', ''],
    ['after a kept-alive request', 'GET /a HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['pipelined behind a slow request', 'GET /slow HTTP/1.1\r\nHost: x\r\n\r\n'],
  ])('%s', async (_name, before) => {
    const { port } = await plainFront(bed, (await wsTarget()).port);
    const c = rawClient(bed, port);
    if (before === 'GET /a HTTP/1.1\r\nHost: x\r\n\r\n') {
      c.sock.write(before);
      await waitFor(() => c.text.endsWith('/a'), 'the first answer');
      c.sock.write(Buffer.concat([Buffer.from(HANDSHAKE), frame('first')]));
    } else c.sock.write(Buffer.concat([Buffer.from(before + HANDSHAKE), frame('first')]));
    await waitFor(() => c.text.includes('first'), 'the echo of the first frame');
    if (before.includes('/slow'))
      expect(c.text).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n\/slowHTTP\/1\.1 101 /);
    expect(c.text).toContain('HTTP/1.1 101 Switching Protocols\r\n');
    c.sock.write(frame('second'));
    await waitFor(() => c.text.includes('second'), 'the echo of the second frame');
  });

  it('an Upgrade other than websocket (h2c: curl --http2, Java HttpClient) is ignored: HTTP/1.1 answers, kept alive', async () => {
    // It was answered 400 "only WebSocket upgrades are proxied"; RFC 9110 7.8 lets a server ignore it.
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      let n = 0;
      req.on('data', (d: Buffer) => (n += d.length));
      req.on('end', () => {
        const h = req.headers;
        seen.push(
          `${req.method} ${req.url} ${n} ${h.upgrade ?? '-'} ${h['http2-settings'] ?? '-'}`,
        );
        res.end(`${req.method} ${req.url} ${n}`);
      });
    });
    const { port, log } = await plainFront(bed, await bed.listen(server));
    const h2c =
      'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n';
    const c = rawClient(bed, port);
    // Pipelined in one write: the request after the ignored Upgrade is parsed too.
    c.sock.write(
      `GET /a HTTP/1.1\r\nHost: x\r\n${h2c}\r\n` +
        `POST /b HTTP/1.1\r\nHost: x\r\n${h2c}Content-Length: 5\r\n\r\nhello` +
        'GET /c HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    await waitFor(() => c.text.endsWith('GET /c 0'), 'three answers');
    expect(c.text.match(/HTTP\/1\.1 \d+ /g)).toEqual([
      'HTTP/1.1 200 ',
      'HTTP/1.1 200 ',
      'HTTP/1.1 200 ',
    ]);
    expect(c.text).toContain('GET /a 0');
    expect(c.text).toContain('POST /b 5');
    expect(c.closed).toBe(false);
    expect(seen).toEqual(['GET /a 0 - -', 'POST /b 5 - -', 'GET /c 0 - -']);
    await waitFor(
      () => log.events().filter((e) => e.type === 'http').length === 3,
      'three in the log',
    );
    expect(log.events().map((e) => (e as HttpEvent).status)).toEqual([200, 200, 200]);
  });
});

describe('the log, X-Forwarded-*, the 502 page', () => {
  it('each request once (method, path, status), X-Forwarded-* as before', async () => {
    let seen: http.IncomingHttpHeaders = {};
    const server = http.createServer(
      (req, res) => ((seen = req.headers), res.writeHead(201).end()),
    );
    const { port, log } = await plainFront(bed, await bed.listen(server));
    const c = rawClient(bed, port);
    c.sock.write('PUT /p?q=1 HTTP/1.1\r\nHost: app.test:8080\r\nContent-Length: 0\r\n\r\n');
    await waitFor(() => log.events().some((e) => e.type === 'http'), 'the log');
    await new Promise((r) => setTimeout(r, 100));
    const http1 = log.events().filter((e) => e.type === 'http') as HttpEvent[];
    expect(http1).toHaveLength(1);
    expect(http1[0]).toMatchObject({ method: 'PUT', path: '/p?q=1', status: 201 });
    expect(http1[0]!.error).toBeUndefined();
    expect(seen).toMatchObject({
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'app.test:8080',
    });
  });

  it('a target that refuses: the 502 page with X-WSS-Studio-Error, logged as 502 with the code', async () => {
    const free = net.createServer();
    const dead = await new Promise<number>((r) =>
      free.listen(0, '127.0.0.1', () => r((free.address() as net.AddressInfo).port)),
    );
    await new Promise((r) => free.close(r));
    const { port, log } = await plainFront(bed, dead);
    const c = rawClient(bed, port);
    c.sock.write('GET /x HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => c.text.includes('</html>'), 'the error page');
    expect(c.text).toMatch(
      /^HTTP\/1\.1 502 Bad Gateway\r\n[^]*X-WSS-Studio-Error: TARGET_REFUSED\r\n/,
    );
    await waitFor(() => log.events().some((e) => e.type === 'http'), 'the log');
    expect(log.events().find((e) => e.type === 'http')).toMatchObject({
      status: 502,
      error: 'TARGET_REFUSED',
    });
  });

  it('CLIENT_GONE when the client goes away mid-answer; the target request is aborted', async () => {
    let closed = false;
    // A streaming answer: a client that half-closed still gets it, so a client gone is seen at a write.
    const server = http.createServer((_req, res) => {
      const t = setInterval(() => res.write('part'), 50);
      res.on('close', () => ((closed = true), clearInterval(t)));
    });
    const { port, log } = await plainFront(bed, await bed.listen(server));
    const c = rawClient(bed, port);
    c.sock.write('GET /long HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => c.text.includes('part'), 'the first part');
    c.sock.destroy();
    await waitFor(() => log.events().some((e) => e.type === 'http'), 'the log');
    expect(log.events().find((e) => e.type === 'http')).toMatchObject({
      path: '/long',
      status: 200,
      error: 'CLIENT_GONE',
    });
    await waitFor(() => closed, 'the target request closed');
  });
});

describe('stop()', () => {
  it('ends idle, half-sent and in-flight connections promptly, and the target requests', async () => {
    let aborted = 0;
    const server = http.createServer((req, res) => {
      if (req.url === '/hang') return void res.on('close', () => aborted++);
      res.end('ok');
    });
    const { proxy, port } = await plainFront(bed, await bed.listen(server));
    const idle = rawClient(bed, port);
    idle.sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => idle.text.endsWith('ok'), 'the idle one answered');
    const half = rawClient(bed, port);
    half.sock.write('GET / HTTP/1.1\r\nHo');
    const busy = rawClient(bed, port);
    busy.sock.write('GET /hang HTTP/1.1\r\nHost: x\r\n\r\n');
    const upload = rawClient(bed, port);
    upload.sock.write('POST /hang HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc');
    await waitFor(() => proxy.requests === 3, 'three requests in');
    const t0 = Date.now();
    await proxy.stop();
    await Promise.all([idle, half, busy, upload].map((c) => c.whenClosed(2000)));
    expect(Date.now() - t0).toBeLessThan(1500);
    expect([idle, half, busy, upload].map((c) => c.closed)).toEqual([true, true, true, true]);
    await waitFor(() => aborted === 2, 'the target requests aborted');
  });
});

describe('curl', () => {
  it('reuses one connection for two URLs, and a 3 MiB upload goes through Expect: 100-continue', async () => {
    const server = http.createServer((req, res) => {
      const h = createHash('sha256');
      req.on('data', (d: Buffer) => h.update(d));
      req.on('end', () => res.end(`${req.url} ${h.digest('hex')}\n`));
    });
    const { port } = await plainFront(bed, await bed.listen(server));
    const body = randomBytes(3 * 1024 * 1024);
    const file = path.join(os.tmpdir(), `h1-curl-${process.pid}.bin`);
    writeFileSync(file, body);
    bed.defer(() => rmSync(file, { force: true }));
    const curl = (args: string[]) =>
      new Promise<{ out: string; err: string }>((resolve, reject) =>
        execFile('curl', ['-sS', '-v', ...args], (e, out, err) =>
          e ? reject(e) : resolve({ out, err }),
        ),
      );
    const two = await curl([`http://127.0.0.1:${port}/a`, `http://127.0.0.1:${port}/b`]);
    expect(two.out).toMatch(/^\/a \w+\n\/b \w+\n$/);
    expect(two.err).toMatch(/Re-using existing connection/);
    const t0 = Date.now();
    const up = await curl(['--data-binary', `@${file}`, `http://127.0.0.1:${port}/up`]);
    expect(up.err).toMatch(/Expect: 100-continue/);
    expect(up.err).toMatch(/HTTP\/1\.1 100 Continue/);
    expect(up.out).toBe(`/up ${createHash('sha256').update(body).digest('hex')}\n`);
    expect(Date.now() - t0).toBeLessThan(900); // curl waits 1 s for a 100 that does not come
  });
});
