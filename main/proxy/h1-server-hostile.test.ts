// The http:// public side (h1-server.ts) against a hostile local client: smuggling shapes, oversized and
// endless pipelines, a client that never reads, random bytes.
import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { plainFront, rawAsk, rawClient, useTestbed } from './testing';

const bed = useTestbed();

/** A target that counts the requests it got and how many were open at once. */
async function countingTarget(delayMs = 0) {
  const st = { seen: 0, open: 0, maxOpen: 0 };
  const server = http.createServer((req, res) => {
    st.seen++;
    st.maxOpen = Math.max(st.maxOpen, ++st.open);
    req.resume();
    req.on('end', () =>
      setTimeout(() => {
        st.open--;
        res.end(`${req.method} ${req.url}`);
      }, delayMs),
    );
  });
  return { st, port: await bed.listen(server) };
}

describe('request smuggling shapes and malformed heads: 400, nothing reaches the target', () => {
  const H = 'POST / HTTP/1.1\r\nHost: x\r\n';
  it.each([
    ['CL + TE', `${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
    ['two Content-Lengths', `${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef`],
    ['obs-fold', `${H}X-A: a\r\n b\r\nContent-Length: 0\r\n\r\n`],
    ['bare LF', 'GET / HTTP/1.1\nHost: x\n\n'],
    [
      'chunk size overflow',
      `${H}Transfer-Encoding: chunked\r\n\r\n1000000000000000000000001\r\na\r\n0\r\n\r\n`,
    ],
    ['invalid chunk extension', `${H}Transfer-Encoding: chunked\r\n\r\n1;a"b\r\na\r\n0\r\n\r\n`],
    ['NUL in a header', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n'],
    ['TE not chunked last', `${H}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n`],
  ])('%s', async (_name, bytes) => {
    const { st, port } = await countingTarget();
    const { port: p } = await plainFront(bed, port);
    const c = await rawAsk(bed, p, bytes);
    expect(c.closed).toBe(true);
    // A chunked body is refused once its bad part arrives: the request may have gone out already (cut then).
    expect(c.text).toMatch(/^(HTTP\/1\.1 400 Bad Request\r\n|$)/);
    if (!bytes.includes('chunked\r\n\r\n1')) expect(st.seen).toBe(0);
  });

  it.each([
    ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\n\r\n', /^HTTP\/1\.1 400 Bad Request\r\n/],
    [
      'Expect other than 100-continue',
      'GET / HTTP/1.1\r\nHost: x\r\nExpect: x\r\n\r\n',
      /^HTTP\/1\.1 417 /,
    ],
  ])('as http.Server: %s refused', async (_name, bytes, answer) => {
    const { st, port } = await countingTarget();
    const { port: p } = await plainFront(bed, port);
    const c = await rawAsk(bed, p, bytes);
    expect(c.text).toMatch(answer);
    expect(st.seen).toBe(0);
    const ok = await rawAsk(bed, p, 'GET / HTTP/1.0\r\n\r\n');
    expect(ok.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });

  it('a head over 16 KiB: 431', async () => {
    const { port } = await countingTarget();
    const { port: p } = await plainFront(bed, port);
    const c = await rawAsk(
      bed,
      p,
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`,
    );
    expect(c.text).toMatch(/^HTTP\/1\.1 431 /);
  });

  it('a bad request pipelined behind a good one: the good answer, then 400 and the close', async () => {
    const { port } = await countingTarget(100);
    const { port: p } = await plainFront(bed, port);
    const c = await rawAsk(
      bed,
      p,
      'GET /ok HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\nHost: x\n\n',
    );
    expect(c.text).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*GET \/okHTTP\/1\.1 400 Bad Request\r\n/);
  });
});

describe('split anywhere', () => {
  it('two requests of 40 header lines, a byte per write: targets and headers whole', async () => {
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(
        `${req.url} ${req.headers['x-h0']} ${req.headers['x-h39']} ${Object.keys(req.headers).length}`,
      );
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    const { port: p } = await plainFront(bed, await bed.listen(server));
    let h = '';
    for (let i = 0; i < 40; i++) h += `X-H${i}: v${i}\r\n`;
    const bytes = Buffer.from(
      `GET /first?q=${'a'.repeat(300)} HTTP/1.1\r\nHost: x\r\n${h}\r\n` +
        `POST /second HTTP/1.1\r\nHost: x\r\n${h}Content-Length: 2\r\nConnection: close\r\n\r\nhi`,
    );
    const c = rawClient(bed, p);
    c.sock.setNoDelay(true);
    for (const b of bytes) {
      c.sock.write(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
    await c.whenClosed(5000);
    expect(seen).toEqual([`/first?q=${'a'.repeat(300)} v0 v39 44`, '/second v0 v39 45']);
  });
});

describe('bounded under load', () => {
  it('10,000 tiny pipelined requests in one write: all answered in order, few at once at the target', async () => {
    const { st, port } = await countingTarget(1);
    const { port: p } = await plainFront(bed, port);
    const c = rawClient(bed, p);
    let all = '';
    for (let i = 0; i < 10_000; i++) all += `GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`;
    c.sock.write(`${all}GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    await c.whenClosed(60_000);
    const got = [...c.text.matchAll(/GET \/(\d+|last)/g)].map((m) => m[1]);
    expect(got).toHaveLength(10_001);
    expect(got.slice(0, 3)).toEqual(['0', '1', '2']);
    expect(got.every((x, i) => x === (i === 10_000 ? 'last' : String(i)))).toBe(true);
    expect(st.maxOpen).toBeLessThanOrEqual(16);
  }, 90_000);

  it('40 pipelined POSTs with bodies behind a slow answer: all answered, bodies whole', async () => {
    const { st, port } = await countingTarget(20);
    const { port: p } = await plainFront(bed, port);
    let all = '';
    for (let i = 0; i < 40; i++)
      all += `POST /${i} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nbody${i % 10}`;
    const c = await rawAsk(
      bed,
      p,
      `${all}GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      10_000,
    );
    expect(c.text.match(/POST \/\d+/g)).toEqual(Array.from({ length: 40 }, (_, i) => `POST /${i}`));
    expect(c.text).toMatch(/GET \/last$/);
    expect(st.maxOpen).toBeLessThanOrEqual(16);
  });

  it('a client that never reads: the target is paused, the proxy holds a bounded amount', async () => {
    let written = 0;
    let blocked = 0;
    const chunk = Buffer.alloc(256 * 1024, 1);
    const server = http.createServer((_req, res) => {
      const pump = () => {
        while (written < 400 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) return void (blocked++, res.once('drain', pump));
        }
        res.end();
      };
      pump();
    });
    const { port: p } = await plainFront(bed, await bed.listen(server));
    const c = net.connect({ port: p, host: '127.0.0.1' });
    bed.defer(() => void c.destroy());
    c.pause();
    const ab0 = process.memoryUsage().arrayBuffers;
    let req = '';
    for (let i = 0; i < 20; i++) req += `GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`;
    c.write(req);
    await new Promise((r) => setTimeout(r, 1500));
    const w1 = written;
    await new Promise((r) => setTimeout(r, 500));
    expect(written).toBe(w1);
    // Most of what the target wrote sits in loopback socket buffers; the proxy holds little of it.
    const held = process.memoryUsage().arrayBuffers - ab0;
    expect(held).toBeLessThan(32 * 1024 * 1024);
    expect(blocked).toBeGreaterThan(0);
  });

  it('random bytes: nothing throws, every connection ends', async () => {
    const { port } = await countingTarget();
    const { port: p } = await plainFront(bed, port, { headTimeoutMs: 500 });
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0), seed / 2 ** 32);
    const pieces = [
      'GET ',
      '/ ',
      'HTTP/1.1',
      '\r\n',
      ':',
      'Host: x',
      'Content-Length: 3',
      '0',
      'Upgrade: websocket',
      'Connection: upgrade',
      'Transfer-Encoding: chunked',
      'Expect: 100-continue',
      ' ',
      '\n',
      'POST /x HTTP/1.0',
    ];
    const clients = [];
    for (let n = 0; n < 300; n++) {
      let s = '';
      const k = 1 + Math.floor(rnd() * 30);
      for (let i = 0; i < k; i++) {
        s +=
          rnd() < 0.7
            ? pieces[Math.floor(rnd() * pieces.length)]
            : String.fromCharCode(Math.floor(rnd() * 256));
      }
      const c = rawClient(bed, p);
      c.sock.end(Buffer.from(s, 'latin1'));
      clients.push(c);
    }
    await Promise.all(clients.map((c) => c.whenClosed(5000)));
    expect(clients.filter((c) => !c.closed)).toHaveLength(0);
  }, 20_000);
});
