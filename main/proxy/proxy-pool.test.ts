// The proxy's connections to the developer's server: kept alive and reused (a page load of many modules
// must not open a connection per request), bounded, and all closed when the proxy stops. Counted on the
// target's side, where a new connection is a 'connection' event. Its host name is looked up once per few
// seconds, not once per new connection.
import type dns from 'node:dns';
import http from 'node:http';
import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { FrameLog } from '../echo/frame-log';
import { waitFor } from '../echo/testing';
import { useTestbed } from './testing';
import { ProxyServer } from './proxy-server';
import { cachedLookup } from './target';
import { normalizeProxy } from './validation';

const bed = useTestbed();

/** A target that counts the connections it accepted and knows which are still open. */
async function countingTarget() {
  const open = new Set<net.Socket>();
  let accepted = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end(`${req.method} ${req.url}`));
  });
  server.on('connection', (s: net.Socket) => {
    accepted++;
    open.add(s);
    s.once('close', () => open.delete(s));
  });
  const port = await bed.listen(server);
  return { port, accepted: () => accepted, open: () => open.size };
}

async function startProxy(targetUrl: string) {
  const proxy = new ProxyServer({
    definition: normalizeProxy({ id: 'pool', publicUrl: 'http://127.0.0.1:0', target: targetUrl }),
    log: new FrameLog(),
  });
  const port = await proxy.start(0);
  bed.defer(() => proxy.stop());
  return { proxy, port };
}

/** One request on a new client connection each time (the client side pools nothing). */
function fetchOnce(port: number, path: string, method = 'GET', body?: string) {
  return new Promise<string>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('keep-alive to the target', () => {
  it('40 sequential requests (GET and POST) from 40 client connections reuse one target connection', async () => {
    const t = await countingTarget();
    const { port } = await startProxy(`http://127.0.0.1:${t.port}`);
    for (let i = 0; i < 40; i++) {
      const post = i % 4 === 3;
      expect(
        await fetchOnce(port, `/m${i}.js`, post ? 'POST' : 'GET', post ? 'x'.repeat(i) : undefined),
      ).toBe(`${post ? 'POST' : 'GET'} /m${i}.js`);
    }
    expect(t.accepted()).toBe(1);
  });

  it('a target given as localhost is pooled the same way', async () => {
    const t = await countingTarget();
    const { port } = await startProxy(`http://localhost:${t.port}`);
    for (let i = 0; i < 20; i++) await fetchOnce(port, `/l${i}`);
    expect(t.accepted()).toBe(1);
  });

  it('6 requests at a time (a browser loading modules): at most 6 target connections, reused by the next waves', async () => {
    const t = await countingTarget();
    const { port } = await startProxy(`http://127.0.0.1:${t.port}`);
    for (let wave = 0; wave < 5; wave++) {
      await Promise.all(Array.from({ length: 6 }, (_, i) => fetchOnce(port, `/w${wave}/${i}`)));
    }
    expect(t.accepted()).toBeGreaterThanOrEqual(1);
    expect(t.accepted()).toBeLessThanOrEqual(6);
  });

  it('a burst of 40 at once (an HTTP/2 page asking for its modules): all 40 target connections kept for the next burst', async () => {
    // The target answers only once all 40 are in, so the burst really holds 40 target connections.
    let waiting: (() => void)[] = [];
    let accepted = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      waiting.push(() => res.end(req.url));
      if (waiting.length === 40) for (const go of waiting.splice(0)) go();
    });
    server.on('connection', () => accepted++);
    const tport = await bed.listen(server);
    const { port } = await startProxy(`http://127.0.0.1:${tport}`);
    const burst = (n: number) =>
      Promise.all(Array.from({ length: 40 }, (_, i) => fetchOnce(port, `/b${n}/${i}`)));
    expect(await burst(1)).toEqual(Array.from({ length: 40 }, (_, i) => `/b1/${i}`));
    expect(accepted).toBe(40);
    waiting = [];
    expect(await burst(2)).toEqual(Array.from({ length: 40 }, (_, i) => `/b2/${i}`));
    expect(accepted).toBe(40);
  });

  it('stopping the proxy closes its pooled connections to the target', async () => {
    const t = await countingTarget();
    const { proxy, port } = await startProxy(`http://127.0.0.1:${t.port}`);
    await Promise.all(Array.from({ length: 4 }, (_, i) => fetchOnce(port, `/s${i}`)));
    expect(t.open()).toBeGreaterThan(0);
    await proxy.stop();
    // Well inside the target's own 5 s keep-alive timeout: only the proxy closing them explains it.
    await waitFor(() => t.open() === 0, 'pooled target connections closed', 4_000);
    expect(t.open()).toBe(0);
  });
});

describe('the target host name is looked up once per few seconds, not per connection', () => {
  /** A resolver that counts its calls; `fail` makes the next call fail. */
  function resolver() {
    const r = {
      calls: 0,
      fail: false,
      lookup: (
        _host: string,
        _o: dns.LookupAllOptions,
        cb: (e: NodeJS.ErrnoException | null, a: dns.LookupAddress[]) => void,
      ) => {
        r.calls++;
        const fail = r.fail;
        r.fail = false;
        setTimeout(() =>
          fail
            ? cb(Object.assign(new Error('getaddrinfo EAI_AGAIN'), { code: 'EAI_AGAIN' }), [])
            : cb(null, [
                { address: '127.0.0.1', family: 4 },
                { address: '::1', family: 6 },
              ]),
        );
      },
    };
    return r;
  }
  const ask = (lookup: net.LookupFunction, all: boolean) =>
    new Promise<{ err: unknown; address: unknown; family?: number }>((resolve) =>
      lookup('localhost', { all }, (err, address, family) => resolve({ err, address, family })),
    );

  it('20 connections at once share one lookup; every address is kept for all:true, the first for one', async () => {
    const r = resolver();
    const lookup = cachedLookup(60_000, r.lookup);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => ask(lookup, i % 2 === 0)),
    );
    expect(r.calls).toBe(1);
    expect(answers[0]).toEqual({
      err: null,
      address: [
        { address: '127.0.0.1', family: 4 },
        { address: '::1', family: 6 },
      ],
      family: undefined,
    });
    expect(answers[1]).toEqual({ err: null, address: '127.0.0.1', family: 4 });
    await ask(lookup, true);
    expect(r.calls).toBe(1);
  });

  it('looks up again after the TTL, and never keeps a failure', async () => {
    const r = resolver();
    const lookup = cachedLookup(20, r.lookup);
    r.fail = true;
    expect((await ask(lookup, true)).err).toMatchObject({ code: 'EAI_AGAIN' });
    expect((await ask(lookup, true)).err).toBeNull();
    expect(r.calls).toBe(2);
    await new Promise((res) => setTimeout(res, 40));
    await ask(lookup, true);
    expect(r.calls).toBe(3);
  });

  it('a localhost target under a burst of 30 requests at once: all answered', async () => {
    const t = await countingTarget();
    const { port } = await startProxy(`http://localhost:${t.port}`);
    const got = await Promise.all(Array.from({ length: 30 }, (_, i) => fetchOnce(port, `/b${i}`)));
    expect(got).toEqual(Array.from({ length: 30 }, (_, i) => `GET /b${i}`));
  });
});
