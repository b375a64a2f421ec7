// Seeded random answers from a raw target, to h1-client.ts directly and through ProxyServer: the process
// never throws, every request ends exactly once (an answer, an error, a 502 or a cut connection), a body that
// ended has the length its head promised, and nothing stays open once the pool (or proxy) is gone.
import http from 'node:http';
import http2 from 'node:http2';
import { describe, expect, it } from 'vitest';
import { seeded, waitFor } from '../echo/testing';
import { poolTo, rawTarget, sleep } from './h1-client-testing';
import { ProxyServer } from './proxy-server';
import { tlsFront, useTestbed } from './testing';
import { normalizeProxy } from './validation';
import { FrameLog } from '../echo/frame-log';

const bed = useTestbed();

/** The same cases on every run. */
const rng = seeded;

const STATUS = [0, 99, 101, 200, 200, 200, 204, 206, 304, 404, 500, 600, 999];
const HEADERS = [
  'Content-Type: text/plain',
  'Connection: close',
  'Connection: keep-alive',
  'Connection: upgrade',
  'Upgrade: x',
  'Keep-Alive: timeout=0',
  'Keep-Alive: timeout=1',
  'Transfer-Encoding: chunked',
  'Transfer-Encoding: gzip, chunked',
  'Content-Length: 3',
  'Link: </a>; rel=preload',
  'Set-Cookie: a=1',
  'X-Obs: caf\xe9',
  'HTTP2-Settings: x',
];
/** Refused by llhttp or in conflict with the framing the case adds: one case in ten has one. */
const BAD = [
  'Content-Length: -1',
  'Content-Length: 99999999999999999999',
  'Bad Header: x',
  'X: a\x7f',
];

/** One answer: a few messages (1xx, then a final one) built from parts, then perhaps damaged. */
function answer(r: () => number): Buffer {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  if (r() < 0.1)
    return Buffer.from(Array.from({ length: Math.floor(r() * 200) }, () => Math.floor(r() * 256)));
  let out = '';
  const messages = 1 + Math.floor(r() * 3);
  for (let m = 0; m < messages; m++) {
    const status = m < messages - 1 ? pick([100, 102, 103]) : pick(STATUS);
    const lines = Array.from({ length: Math.floor(r() * (r() < 0.1 ? 40 : 5)) }, () =>
      pick(HEADERS),
    );
    if (r() < 0.1) lines.push(pick(BAD));
    // 1xx answers have no body (one now and then has, as a broken target would send)
    const body = m < messages - 1 && r() < 0.9 ? '' : 'x'.repeat(Math.floor(r() * 50));
    const framing = body === '' ? 1 : r();
    if (framing < 0.4) lines.push(`Content-Length: ${body.length + (r() < 0.2 ? 5 : 0)}`);
    else if (framing < 0.7) lines.push('Transfer-Encoding: chunked');
    const chunked = lines.includes('Transfer-Encoding: chunked');
    const payload = chunked
      ? `${body.length.toString(16)}\r\n${body}\r\n${r() < 0.8 ? '0\r\n\r\n' : ''}`
      : body;
    out += `HTTP/1.${r() < 0.2 ? 0 : 1} ${String(status).padStart(3, '0')} ${r() < 0.05 ? 'Weird\x01' : pick(['OK', ''])}\r\n`;
    out += lines.map((l) => `${l}\r\n`).join('') + '\r\n' + payload;
  }
  const b = Buffer.from(out, 'latin1');
  const damage = r();
  if (damage < 0.2) return b.subarray(0, Math.floor(r() * b.length));
  if (damage < 0.4) {
    for (let i = 0; i < 3; i++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
  }
  return b;
}

/** A target that answers each request with the next case, in 1 to 3 writes, then ends the connection. */
async function fuzzTarget(seed: number) {
  const r = rng(seed);
  return rawTarget(bed, (s, head) => {
    if (!/^[A-Z]+ \//.test(head)) return; // the end of a chunked request body, not a request
    const b = answer(r);
    const cut = [Math.floor(r() * b.length), Math.floor(r() * b.length)].sort((x, y) => x - y);
    const parts = [b.subarray(0, cut[0]), b.subarray(cut[0], cut[1]), b.subarray(cut[1])];
    const endMs = r() < 0.5 ? 0 : 5;
    const next = (i: number) => {
      if (s.destroyed) return;
      if (i === parts.length) return void setTimeout(() => s.end(), endMs);
      s.write(parts[i]!);
      setImmediate(() => next(i + 1));
    };
    next(0);
  });
}

/** Run `n` jobs, `width` at a time. */
async function inWaves(n: number, width: number, job: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await job(next++);
    }),
  );
}

/** Rejects after `ms`: a request that never ends is a failure, not a hung test. */
const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([
    p,
    sleep(ms).then(() => Promise.reject(new Error(`${what} did not end in ${ms} ms`))),
  ]);

describe('random answers', () => {
  it('to TargetPool: 400 requests each end exactly once; bodies that ended are whole; nothing left open', async () => {
    const t = await fuzzTarget(0x5eed);
    const pool = poolTo(bed, t.port);
    const r = rng(7);
    const outcomes = { end: 0, error: 0, switched: 0 };
    const twice: string[] = [];
    await inWaves(400, 8, async (i) => {
      const isHead = r() < 0.1;
      const withBody = !isHead && r() < 0.2;
      let settled = '';
      let status = 0;
      let headers: string[] = [];
      let body = 0;
      let resume: NodeJS.Timeout | undefined;
      await within(
        new Promise<void>((resolve) => {
          const settle = (how: 'end' | 'error' | 'switched') => {
            if (settled) return void twice.push(`${i}: ${settled} then ${how}`);
            settled = how;
            outcomes[how]++;
            resolve();
          };
          const x = pool.request(
            {
              head: `${isHead ? 'HEAD' : 'POST'} /${i} HTTP/1.1\r\n\r\n`,
              isHead,
              bodyless: !withBody,
            },
            {
              info: () => {},
              head: (s, _m, h) => {
                status = s;
                headers = h;
              },
              // a client that is slow now and then, its drain a few ms later
              data: (c) => ((body += c.length), r() < 0.9),
              end: () => settle('end'),
              error: () => settle('error'),
              switched: () => settle('switched'),
            },
            withBody,
          );
          resume = setInterval(() => x.resume(), 2);
          if (withBody) {
            x.write(Buffer.from('abc'), () => {});
            x.end();
          }
        }),
        5000,
        `request ${i}`,
      ).finally(() => clearInterval(resume));
      if (settled === 'end' && !isHead && status >= 200 && status !== 204 && status !== 304) {
        const cl = headers.findIndex((h, k) => k % 2 === 0 && h.toLowerCase() === 'content-length');
        if (cl >= 0 && /^\d+$/.test(headers[cl + 1]!)) expect(body).toBe(Number(headers[cl + 1]));
      }
    });
    expect(twice).toEqual([]);
    expect(outcomes.end + outcomes.error + outcomes.switched).toBe(400);
    // Both kinds of outcome are common: the cases are neither all broken nor all fine.
    expect(outcomes.end).toBeGreaterThan(40);
    expect(outcomes.error).toBeGreaterThan(40);
    await sleep(50);
    pool.destroy();
    await waitFor(() => pool.size === 0 && t.open() === 0, 'every socket closed', 3000);
  });

  it('through ProxyServer (http:// and HTTP/2 fronts): 240 requests each end; the proxy serves on; nothing left open', async () => {
    const t = await fuzzTarget(0xbad5eed);
    const proxy = new ProxyServer({
      definition: normalizeProxy({
        id: 'fz',
        publicUrl: 'http://127.0.0.1:0',
        target: `http://127.0.0.1:${t.port}`,
      }),
      log: new FrameLog(),
    });
    const plain = await proxy.start(0);
    bed.defer(() => proxy.stop());
    const front = await tlsFront(bed, t.port);
    const session = http2.connect(`https://localhost:${front.port}`, { ca: bed.pki.caPem });
    bed.defer(() => void session.destroy());
    const seen = { answered: 0, bad: 0, cut: 0 };
    const h1 = (i: number) =>
      new Promise<void>((resolve) => {
        const req = http.get(
          { host: '127.0.0.1', port: plain, path: `/${i}`, agent: false },
          (res) => {
            res.resume();
            res.on('error', () => {});
            res.on('close', () => {
              if (!res.complete) seen.cut++;
              else if (res.headers['x-wss-studio-error']) seen.bad++;
              else seen.answered++;
              resolve();
            });
          },
        );
        req.on('error', () => (seen.cut++, resolve()));
      });
    const h2 = (i: number) =>
      new Promise<void>((resolve) => {
        const st = session.request({
          ':path': `/${i}`,
          ...(i % 5 === 0 ? { ':method': 'HEAD' } : {}),
        });
        let h: http2.IncomingHttpHeaders = {};
        let ended = false;
        st.on('response', (x) => (h = x));
        st.on('data', () => {});
        st.on('end', () => (ended = true));
        st.on('error', () => {});
        st.on('close', () => {
          if (!ended) seen.cut++;
          else if (h['x-wss-studio-error']) seen.bad++;
          else seen.answered++;
          resolve();
        });
        st.end();
      });
    await inWaves(240, 8, (i) => within(i % 2 ? h1(i) : h2(i), 5000, `request ${i}`));
    expect(seen.answered + seen.bad + seen.cut).toBe(240);
    expect([seen.answered > 12, seen.bad > 20]).toEqual([true, true]);
    expect(proxy.requests + front.proxy.requests).toBe(240);
    // The proxy still answers a plain request after all that.
    const r = await new Promise<number>((resolve) =>
      http.get(
        { host: '127.0.0.1', port: plain, agent: false },
        (res) => (res.resume(), resolve(res.statusCode ?? 0)),
      ),
    );
    expect(r).toBeGreaterThan(0);
    session.destroy();
    await proxy.stop();
    await front.proxy.stop();
    await waitFor(() => t.open() === 0, 'every target socket closed', 3000);
  });
});
