// The http:// public side (h1-server.ts) as a client sees it, byte by byte over raw TCP and with Node's
// http client: keep-alive, deadlines, response framing, request bodies, pipelining. Hostile input, upgrades,
// the log and stop() are in h1-server-hostile.test.ts.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../echo/testing';
import { plainFront, rawAsk, rawClient, useTestbed } from './testing';

const bed = useTestbed();
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const BIG = randomBytes(3 * 1024 * 1024 + 17);

/** A target with a route per framing; /echo answers the sha256 and length of the body it read. */
async function target() {
  const server = http.createServer((req, res) => {
    const u = new URL(req.url!, 'http://x');
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const delay = Number(u.searchParams.get('delay') ?? 0);
      setTimeout(() => {
        switch (u.pathname) {
          case '/len':
            res.setHeader('Content-Length', BIG.length);
            return res.end(BIG);
          case '/chunked':
            res.write(BIG.subarray(0, 1000));
            return res.end(BIG.subarray(1000));
          case '/204':
            return res.writeHead(204).end();
          case '/304':
            return res.writeHead(304, { ETag: '"x"' }).end();
          case '/headers': {
            const h: string[] = [];
            for (let i = 0; i < 40; i++) h.push(`X-H${i}`, `v${i}`);
            h.push('Set-Cookie', 'a=1; Path=/', 'Set-Cookie', 'b=2; Path=/');
            res.writeHead(200, h);
            return res.end('many');
          }
          default: {
            const body = Buffer.concat(parts);
            res.setHeader('X-Seen', JSON.stringify(req.headers));
            res.end(`${req.method} ${req.url} ${body.length} ${sha(body)}`);
          }
        }
      }, delay);
    });
  });
  return bed.listen(server);
}

/** A target answering HTTP/1.0 with no length: the body ends with the connection. */
async function closeDelimitedTarget() {
  const server = net.createServer((s) => {
    s.once('data', () => s.end(Buffer.concat([Buffer.from('HTTP/1.0 200 OK\r\n\r\n'), BIG])));
  });
  return bed.listen(server);
}

/** Split raw answer bytes: the head text and the body bytes. */
function split(all: Buffer): { head: string; body: Buffer } {
  const i = all.indexOf('\r\n\r\n');
  return { head: all.subarray(0, i).toString('latin1'), body: all.subarray(i + 4) };
}

function dechunk(b: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  for (;;) {
    const e = b.indexOf('\r\n', i);
    const n = parseInt(b.subarray(i, e).toString('latin1'), 16);
    if (n === 0) return Buffer.concat(out);
    out.push(b.subarray(e + 2, e + 2 + n));
    i = e + 2 + n + 2;
  }
}

describe('keep-alive and deadlines', () => {
  it('answers several requests on one connection, then closes after Connection: close', async () => {
    const { port } = await plainFront(bed, await target());
    const c = rawClient(bed, port);
    for (const p of ['/a', '/b']) {
      c.sock.write(`GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`);
      await waitFor(() => c.text.includes(`GET ${p} 0`), p);
    }
    expect(c.text).toMatch(/Connection: keep-alive/);
    c.sock.write('GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await c.whenClosed();
    expect(c.closed).toBe(true);
    expect(c.text.match(/HTTP\/1\.1 200/g)).toHaveLength(3);
    expect(c.text.split('\r\n\r\n')[2]).toMatch(/Connection: close/);
  });

  it('HTTP/1.0: closes without keep-alive, keeps the connection with it', async () => {
    const { port } = await plainFront(bed, await target());
    const a = await rawAsk(bed, port, 'GET /a HTTP/1.0\r\n\r\n');
    expect(a.closed).toBe(true);
    expect(a.text).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*Connection: close\r\n[^]*GET \/a 0/);
    const b = rawClient(bed, port);
    b.sock.write('GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    await waitFor(() => b.text.includes('GET /b 0'), 'the answer');
    expect(b.text).toMatch(/Connection: keep-alive/);
    b.sock.write('GET /c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    await waitFor(() => b.text.includes('GET /c 0'), 'the second answer');
    expect(b.closed).toBe(false);
  });

  it('closes a connection idle between requests after keepAliveMs, and says so in Keep-Alive', async () => {
    const { port } = await plainFront(bed, await target(), { keepAliveMs: 300 });
    const c = rawClient(bed, port);
    c.sock.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => c.text.includes('GET /a 0'), 'the answer');
    expect(c.text).toMatch(/Keep-Alive: timeout=0\r\n/);
    const t0 = Date.now();
    await c.whenClosed(3000);
    expect(c.closed).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('drops a client that sends no head, a lone CRLF, or a header line at a time, at headTimeoutMs', async () => {
    const { port } = await plainFront(bed, await target(), { headTimeoutMs: 300 });
    const silent = rawClient(bed, port);
    const crlf = rawClient(bed, port);
    crlf.sock.write('\r\n');
    const drip = rawClient(bed, port);
    drip.sock.write('GET / HTTP/1.1\r\n');
    const timer = setInterval(() => drip.sock.write('X-A: b\r\n'), 50);
    bed.defer(() => clearInterval(timer));
    await Promise.all([silent, crlf, drip].map((c) => c.whenClosed(2000)));
    expect([silent.closed, crlf.closed, drip.closed]).toEqual([true, true, true]);
  });

  it('after an answer, the next request head gets headTimeoutMs, not the idle deadline', async () => {
    const { port } = await plainFront(bed, await target(), {
      keepAliveMs: 200,
      headTimeoutMs: 2000,
    });
    const c = rawClient(bed, port);
    c.sock.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\n');
    await waitFor(() => c.text.includes('GET /a 0'), 'the first answer');
    await new Promise((r) => setTimeout(r, 500));
    c.sock.write('Host: x\r\n\r\n');
    await waitFor(() => c.text.includes('GET /b 0') || c.closed, 'the second answer');
    expect(c.text).toContain('GET /b 0');
  });
});

describe('response framing', () => {
  it.each([
    ['/len', 'HTTP/1.1', 'content-length'],
    ['/chunked', 'HTTP/1.1', 'chunked'],
    ['/len', 'HTTP/1.0', 'content-length'],
    ['/chunked', 'HTTP/1.0', 'close'],
  ])('%s to an %s client: %s, byte-exact', async (path, v, framing) => {
    const { port } = await plainFront(bed, await target());
    const c = await rawAsk(
      bed,
      port,
      `GET ${path} ${v}\r\nHost: x\r\nConnection: close\r\n\r\n`,
      8000,
    );
    const { head, body } = split(Buffer.concat(c.bytes));
    if (framing === 'chunked') expect(head).toMatch(/Transfer-Encoding: chunked/);
    else expect(head).not.toMatch(/Transfer-Encoding/);
    if (framing === 'content-length') expect(head).toMatch(`Content-Length: ${BIG.length}`);
    expect(sha(framing === 'chunked' ? dechunk(body) : body)).toBe(sha(BIG));
  });

  it('a close-delimited HTTP/1.0 answer of the target: chunked to HTTP/1.1, close-delimited to HTTP/1.0', async () => {
    const { port } = await plainFront(bed, await closeDelimitedTarget());
    const a = await rawAsk(
      bed,
      port,
      'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      8000,
    );
    const ra = split(Buffer.concat(a.bytes));
    expect(ra.head).toMatch(/Transfer-Encoding: chunked/);
    expect(ra.head).toMatch(/\r\nDate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\n/);
    expect(sha(dechunk(ra.body))).toBe(sha(BIG));
    const b = await rawAsk(bed, port, 'GET / HTTP/1.0\r\n\r\n', 8000);
    const rb = split(Buffer.concat(b.bytes));
    expect(rb.head).toMatch(/Connection: close/);
    expect(sha(rb.body)).toBe(sha(BIG));
  });

  it('HEAD, 204 and 304 carry no body and keep the connection', async () => {
    const { port } = await plainFront(bed, await target());
    const c = rawClient(bed, port);
    c.sock.write(
      'HEAD /len HTTP/1.1\r\nHost: x\r\n\r\nGET /204 HTTP/1.1\r\nHost: x\r\n\r\n' +
        'GET /304 HTTP/1.1\r\nHost: x\r\n\r\nGET /end HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    await waitFor(() => c.text.includes('GET /end 0'), 'the last answer');
    const heads = c.text.split('\r\n\r\n');
    expect(heads[0]).toMatch(`HTTP/1.1 200 OK\r\nContent-Length: ${BIG.length}`);
    expect(heads[1]).toMatch(/^HTTP\/1\.1 204 No Content\r\n/);
    expect(heads[2]).toMatch(/^HTTP\/1\.1 304 Not Modified\r\n/);
    expect(heads[3]).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(c.text).not.toMatch(/chunked/);
  });

  it('more than 32 header lines both ways, repeated Set-Cookie kept', async () => {
    const { port } = await plainFront(bed, await target());
    let many = '';
    for (let i = 0; i < 50; i++) many += `X-Q${i}: q${i}\r\n`;
    const a = await rawAsk(
      bed,
      port,
      `GET /headers HTTP/1.1\r\nHost: x\r\n${many}Connection: close\r\n\r\n`,
    );
    for (let i = 0; i < 40; i++) expect(a.text).toContain(`X-H${i}: v${i}\r\n`);
    expect(a.text).toContain('Set-Cookie: a=1; Path=/\r\nSet-Cookie: b=2; Path=/\r\n');
    // Behind a chunked request with a trailer: neither its trailer nor its target leaks into this head.
    const b = await rawAsk(
      bed,
      port,
      'POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX-Trailer: yes\r\n\r\n' +
        `GET /q?x=1 HTTP/1.1\r\nHost: x\r\n${many}Connection: close\r\n\r\n`,
    );
    const seen = JSON.parse(/X-Seen: (.*)\r\n(?![^]*X-Seen)/.exec(b.text)![1]!) as Record<
      string,
      string
    >;
    for (let i = 0; i < 50; i++) expect(seen[`x-q${i}`]).toBe(`q${i}`);
    expect(seen['x-trailer']).toBeUndefined();
    expect(b.text).toContain('GET /q?x=1 0');
  });
});

describe('request bodies', () => {
  it.each(['content-length', 'chunked'])(
    'a %s upload of several MiB arrives byte-exact',
    async (how) => {
      const { port } = await plainFront(bed, await target());
      const c = rawClient(bed, port);
      if (how === 'chunked') {
        c.sock.write(
          'POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
        );
        for (let i = 0; i < BIG.length; i += 100_000) {
          const part = BIG.subarray(i, i + 100_000);
          c.sock.write(`${part.length.toString(16)}\r\n`);
          c.sock.write(part);
          c.sock.write('\r\n');
        }
        c.sock.write('0\r\n\r\n');
      } else {
        c.sock.write(
          `POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: ${BIG.length}\r\nConnection: close\r\n\r\n`,
        );
        c.sock.write(BIG);
      }
      await c.whenClosed(10_000);
      expect(c.text).toContain(`POST /up ${BIG.length} ${sha(BIG)}`);
    },
  );

  it('a slow target reader: the proxy reads the upload no faster than the target (not all into memory)', async () => {
    let got = 0;
    let paused: http.IncomingMessage | undefined;
    const server = http.createServer((req, res) => {
      paused = req;
      req.pause();
      req.on('end', () => res.end(`got ${got}`));
    });
    const { port } = await plainFront(bed, await bed.listen(server));
    const c = rawClient(bed, port);
    const size = 64 * 1024 * 1024;
    c.sock.write(`POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`);
    const chunk = Buffer.alloc(1024 * 1024, 7);
    let sent = 0;
    const pump = () => {
      while (sent < size && c.sock.write(chunk)) sent += chunk.length;
      if (sent < size) c.sock.once('drain', () => ((sent += chunk.length), pump()));
    };
    pump();
    await waitFor(() => paused !== undefined, 'the request at the target');
    await new Promise((r) => setTimeout(r, 800));
    // Socket buffers on both sides hold a few MiB at most; the client could not write the whole body.
    expect(sent).toBeLessThan(24 * 1024 * 1024);
    paused!.on('data', (d: Buffer) => (got += d.length));
    paused!.resume();
    await waitFor(() => c.text.includes(`got ${size}`), 'the whole body at the target', 20_000);
  });

  it('Expect: 100-continue gets 100 Continue before the body is sent, also behind another answer', async () => {
    const { port } = await plainFront(bed, await target());
    const c = rawClient(bed, port);
    c.sock.write(
      'GET /first?delay=200 HTTP/1.1\r\nHost: x\r\n\r\n' +
        'POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n',
    );
    await waitFor(() => c.text.includes('100 Continue'), 'the 100 Continue', 3000);
    expect(c.text.indexOf('GET /first')).toBeLessThan(c.text.indexOf('100 Continue'));
    c.sock.write('hello');
    await waitFor(() => c.text.includes('POST /up 5'), 'the answer');
  });

  it('a client that half-closes after its request still gets the answer, then the connection ends', async () => {
    const { port } = await plainFront(bed, await target());
    const c = rawClient(bed, port);
    c.sock.end('POST /up?delay=100 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc');
    await c.whenClosed();
    expect(c.text).toContain(`POST /up?delay=100 3 ${sha(Buffer.from('abc'))}`);
  });

  it('a request cut off half-way is not answered and the target does not get it whole', async () => {
    let ended = 0;
    let aborted = 0;
    const server = http.createServer((req, res) => {
      req.on('end', () => (ended++, res.end('x')));
      req.on('aborted', () => aborted++);
      req.resume();
    });
    const { port } = await plainFront(bed, await bed.listen(server));
    const c = rawClient(bed, port);
    c.sock.end('POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc');
    await c.whenClosed();
    await waitFor(() => aborted === 1, 'the target request aborted');
    expect(ended).toBe(0);
    expect(c.text).toBe('');
  });
});

describe('an answer before the whole upload', () => {
  it('the rest of the body is read and dropped, and the connection serves the next request', async () => {
    const server = http.createServer((req, res) => {
      // Answered after the proxy had to pause the upload (nothing read here).
      if (req.url === '/up')
        return void setTimeout(() => res.writeHead(413, { 'Content-Length': 3 }).end('big'), 300);
      req.resume();
      res.end('after');
    });
    const tport = await bed.listen(server);
    const { port } = await plainFront(bed, tport);
    const c = rawClient(bed, port);
    const size = 32 * 1024 * 1024;
    c.sock.write(`POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`);
    c.sock.write(Buffer.alloc(size, 1));
    c.sock.write('GET /after HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => c.text.endsWith('after'), 'the next answer', 10_000);
    expect(c.text).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n[^]*bigHTTP\/1\.1 200 OK\r\n/);
    // Without a next request, the connection is idle once the body is in: the idle deadline applies.
    const { port: p2 } = await plainFront(bed, tport, { keepAliveMs: 300 });
    const d = rawClient(bed, p2);
    d.sock.write(`POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`);
    d.sock.write(Buffer.alloc(size, 1));
    await waitFor(() => d.text.endsWith('big'), 'the 413');
    await d.whenClosed(3000);
    expect(d.closed).toBe(true);
  });
});

describe('pipelining', () => {
  it('answers in request order when the target answers the second first; a body in the pipeline', async () => {
    const { port } = await plainFront(bed, await target());
    const c = rawClient(bed, port);
    c.sock.write(
      'GET /1?delay=300 HTTP/1.1\r\nHost: x\r\n\r\n' +
        'POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc' +
        'GET /len HTTP/1.1\r\nHost: x\r\n\r\n' +
        'GET /4 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    await c.whenClosed(8000);
    const all = Buffer.concat(c.bytes).toString('latin1');
    const i1 = all.indexOf('GET /1?delay=300 0');
    const i2 = all.indexOf(`POST /2 3 ${sha(Buffer.from('abc'))}`);
    const i3 = all.indexOf(`Content-Length: ${BIG.length}`);
    const i4 = all.indexOf('GET /4 0');
    expect(i1).toBeGreaterThan(0);
    expect([i1 < i2, i2 < i3, i3 < i4]).toEqual([true, true, true]);
    expect(all.length).toBeGreaterThan(BIG.length);
  });

  it('requests after Connection: close in the same write: the first is answered, the rest not passed on', async () => {
    let seen = 0;
    const server = http.createServer((req, res) => (seen++, res.end(`${req.url}`)));
    const { port } = await plainFront(bed, await bed.listen(server));
    const c = await rawAsk(
      bed,
      port,
      'GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    expect(c.text).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n\/a$/);
    expect(seen).toBe(1);
  });

  it('with Node http and a keep-alive agent: 200 requests over a few connections', async () => {
    const { port } = await plainFront(bed, await target());
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    bed.defer(() => agent.destroy());
    const one = (i: number) =>
      new Promise<string>((resolve, reject) => {
        const req = http.request(
          { port, host: '127.0.0.1', path: `/r${i}`, method: 'POST', agent },
          (res) => {
            let t = '';
            res.setEncoding('latin1');
            res.on('data', (d: string) => (t += d));
            res.on('end', () => resolve(t));
          },
        );
        req.on('error', reject);
        req.end(`body${i}`);
      });
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => one(i)));
    answers.forEach((a, i) => expect(a).toContain(`POST /r${i} ${`body${i}`.length}`));
  });
});
