// The HTTP/2 side of the https:// front against a hostile local client: Node's core stream API gives none of
// the compatibility layer's checks, so each request shape nghttp2 lets through is tried here for what reaches
// the target, what the client gets and what is logged.
import http2 from 'node:http2';
import net from 'node:net';
import { expect, it } from 'vitest';
import { waitFor } from '../echo/testing';
import type { HttpEvent } from '../echo/types';
import type { FrameLog } from '../echo/frame-log';
import { tlsFront, useTestbed } from './testing';

const bed = useTestbed();

/** A raw target: every byte it got; it answers each chunk read with a small 200. */
async function captureTarget() {
  const got: string[] = [];
  let conns = 0;
  const server = net.createServer((s) => {
    conns++;
    s.on('data', (d: Buffer) => {
      got.push(d.toString('latin1'));
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    s.on('error', () => {});
  });
  return { port: await bed.listen(server), got, conns: () => conns };
}

function session(port: number) {
  const s = http2.connect(`https://localhost:${port}`, { ca: bed.pki.caPem });
  s.on('error', () => {});
  bed.defer(() => void s.destroy());
  return s;
}

/** One request: its status, body, and the error it closed with (a reset). */
function ask(s: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer) {
  return new Promise<{ status: unknown; body: string; err?: string }>((resolve) => {
    const st = s.request(headers, { endStream: body === undefined });
    if (body) st.end(body);
    let status: unknown;
    let text = '';
    st.on('response', (h) => (status = h[':status']));
    st.on('data', (d: Buffer) => (text += d.toString()));
    st.on('close', () => resolve({ status, body: text }));
    st.on('error', (e) => resolve({ status, body: text, err: e.message }));
  });
}

const httpEvents = (log: FrameLog) => log.events().filter((e): e is HttpEvent => e.type === 'http');

it('refuses CONNECT (405 with the error page) and never passes it on as "CONNECT / HTTP/1.1"', async () => {
  const t = await captureTarget();
  const { port, log } = await tlsFront(bed, t.port);
  const s = session(port);
  const r = await ask(s, { ':method': 'CONNECT', ':authority': 'evil.example:443' });
  expect(r.status).toBe(405);
  expect(r.body).toContain('CONNECT');
  expect(t.got).toEqual([]);
  await waitFor(() => httpEvents(log).length === 1, 'the log');
  expect(httpEvents(log)[0]).toMatchObject({
    method: 'CONNECT',
    status: 405,
    error: 'BAD_REQUEST',
  });
  // The session is still good for a plain request.
  expect((await ask(s, { ':path': '/ok' })).status).toBe(200);
});

/** A target that reads request bodies without answering; its open sockets and what each got. */
async function silentTarget() {
  const socks = new Set<net.Socket>();
  const got: string[] = [];
  const server = net.createServer((s) => {
    socks.add(s);
    const i = got.push('') - 1;
    s.on('data', (d: Buffer) => (got[i] += d.toString('latin1')));
    s.on('close', () => socks.delete(s));
    s.on('error', () => {});
  });
  return { port: await bed.listen(server), socks, got };
}

it('a client that resets its stream mid-upload: the target connection closes, the stream is CLIENT_GONE', async () => {
  const t = await silentTarget();
  const { port, log } = await tlsFront(bed, t.port);
  const s = session(port);
  const st = s.request({ ':path': '/up', ':method': 'POST', 'content-length': '100' });
  st.on('error', () => {});
  st.write('0123456789');
  await waitFor(() => t.got[0]?.endsWith('0123456789') === true, 'the first bytes at the target');
  st.close(http2.constants.NGHTTP2_CANCEL);
  // Half a body: the socket cannot carry another request, and nothing else waits on it.
  await waitFor(() => t.socks.size === 0, 'the target connection closed', 3000);
  await waitFor(() => httpEvents(log).length === 1, 'the log');
  expect(httpEvents(log)[0]).toMatchObject({ method: 'POST', path: '/up', error: 'CLIENT_GONE' });
});

it('a body longer than its Content-Length: nghttp2 resets the stream, and the target connection goes too', async () => {
  const t = await silentTarget();
  const { port, log } = await tlsFront(bed, t.port);
  const s = session(port);
  const r = await ask(
    s,
    { ':path': '/cl', ':method': 'POST', 'content-length': '3' },
    Buffer.from('abcdef'),
  );
  expect(r.err).toMatch(/PROTOCOL_ERROR/);
  await waitFor(() => httpEvents(log).length === 1, 'the log');
  expect(httpEvents(log)[0]).toMatchObject({ method: 'POST', path: '/cl', error: 'CLIENT_GONE' });
  await waitFor(() => t.socks.size === 0, 'the target connection closed', 3000);
  expect(t.got.join('')).not.toContain('abcdef');
});

it('an answer sent whole before the client ended its upload is logged once, as a success', async () => {
  const t = await captureTarget();
  const { port, log } = await tlsFront(bed, t.port);
  const s = session(port);
  // The target answers the head before the body reaches it: the answer ends while the upload goes on.
  const r = await ask(s, { ':path': '/early', ':method': 'POST' }, Buffer.from('abc'));
  expect(r.status).toBe(200);
  await waitFor(() => httpEvents(log).length === 1, 'the log');
  await new Promise((r) => setTimeout(r, 50));
  expect(httpEvents(log)).toHaveLength(1);
  expect(httpEvents(log)[0]).toMatchObject({ method: 'POST', path: '/early', status: 200 });
  expect(httpEvents(log)[0]!.error).toBeUndefined();
});

/** A target answering every request with `answer` (raw HTTP/1.1), closing after it. */
async function rawTarget(answer: string) {
  const server = net.createServer((s) => {
    s.once('data', () => s.end(answer));
    s.on('error', () => {});
  });
  return bed.listen(server);
}

it('a 204 with a Content-Length reaches the client as a 204 (nghttp2 resets a stream that has both)', async () => {
  const tp = await rawTarget('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nX-A: 1\r\n\r\n');
  const { port, log } = await tlsFront(bed, tp);
  const r = await ask(session(port), { ':path': '/nc' });
  expect(r).toMatchObject({ status: 204, body: '' });
  expect(r.err).toBeUndefined();
  await waitFor(() => httpEvents(log).length === 1, 'the log');
  expect(httpEvents(log)[0]).toMatchObject({ path: '/nc', status: 204 });
});

it('a 304 with a Content-Length and a HEAD keep their Content-Length and send no body', async () => {
  const tp = await rawTarget('HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nETag: "e"\r\n\r\n');
  const { port } = await tlsFront(bed, tp);
  const s = session(port);
  const r = await ask(s, { ':path': '/nm' });
  expect(r).toMatchObject({ status: 304, body: '' });
  const tp2 = await rawTarget('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n');
  const { port: port2 } = await tlsFront(bed, tp2);
  expect(await ask(session(port2), { ':path': '/h', ':method': 'HEAD' })).toMatchObject({
    status: 200,
    body: '',
  });
});

it('1,000 streams opened and reset at once: every target socket closes, each stream is logged CLIENT_GONE', async () => {
  const t = await silentTarget();
  const { port, log, proxy } = await tlsFront(bed, t.port, { h2IdleMs: 300 });
  const s = session(port);
  await new Promise((r) => s.once('remoteSettings', r));
  const streams = Array.from({ length: 1000 }, (_, i) => {
    const st = s.request({ ':path': `/many/${i}` });
    st.on('error', () => {});
    return st;
  });
  await waitFor(() => t.socks.size > 0, 'requests at the target');
  for (const st of streams) st.close(http2.constants.NGHTTP2_CANCEL);
  await waitFor(() => httpEvents(log).length === 1000, 'every stream logged', 10_000);
  expect(httpEvents(log).every((e) => e.error === 'CLIENT_GONE')).toBe(true);
  await waitFor(() => t.socks.size === 0, 'every target socket closed', 5000);
  expect(proxy.requests).toBe(1000);
  // No stream is left open: the session goes idle, and is closed.
  await new Promise((r) => s.once('close', r));
});

it('a client that never opens its flow-control window: the target is paused, the proxy buffers little', async () => {
  let written = 0;
  let blocked = false;
  const server = net.createServer((sock) => {
    sock.on('error', () => {});
    sock.once('data', () => {
      sock.write('HTTP/1.1 200 OK\r\nContent-Length: 67108864\r\n\r\n');
      const chunk = Buffer.alloc(64 * 1024, 120);
      const pump = () => {
        while (written < 64 * 1024 * 1024) {
          written += chunk.length;
          if (!sock.write(chunk)) return void sock.once('drain', pump);
        }
      };
      pump();
      setTimeout(() => (blocked = sock.writableLength > 0), 800);
    });
  });
  const { port } = await tlsFront(bed, await bed.listen(server));
  const s = session(port);
  const st = s.request({ ':path': '/big' });
  st.on('error', () => {});
  st.pause(); // what it gets is never consumed: no WINDOW_UPDATE
  await new Promise((r) => setTimeout(r, 1000));
  // The client's window (64 KiB) plus socket buffers on three hops and one chunk in flight: a few MiB at most.
  expect(written).toBeLessThan(8 * 1024 * 1024);
  expect(blocked).toBe(true);
  st.close(http2.constants.NGHTTP2_CANCEL);
});

it('"rapid reset" (open and reset in a loop for 2 s): the flood is cut off, the front stays responsive', async () => {
  const t = await captureTarget();
  const { port, log, proxy } = await tlsFront(bed, t.port);
  const s = session(port);
  await new Promise((r) => s.once('remoteSettings', r));
  let goaway = -1;
  s.on('goaway', (code) => (goaway = code));
  const until = Date.now() + 2000;
  let sent = 0;
  await new Promise<void>((done) => {
    const burst = () => {
      if (Date.now() > until || s.destroyed) return done();
      for (let i = 0; i < 100 && !s.destroyed; i++) {
        try {
          const st = s.request({ ':path': `/rr/${sent++}` });
          st.on('error', () => {});
          st.close(http2.constants.NGHTTP2_CANCEL);
        } catch {
          return done();
        }
      }
      setImmediate(burst);
    };
    burst();
  });
  // Another client is served at once.
  const t0 = Date.now();
  const other = session(port);
  expect((await ask(other, { ':path': '/ok' })).status).toBe(200);
  expect(Date.now() - t0).toBeLessThan(1000);
  await new Promise((r) => setTimeout(r, 200));
  // Every stream that reached the proxy is logged once.
  const evs = httpEvents(log).filter((e) => e.path.startsWith('/rr/'));
  expect(new Set(evs.map((e) => e.path)).size).toBe(evs.length);
  expect(evs.length).toBeLessThanOrEqual(sent);
  expect(evs.length).toBe(proxy.requests - 1);
  // Node's mitigation (nghttp2's reset rate limit) ends the flooding session: the target saw a bounded burst.
  expect(goaway).not.toBe(-1);
  expect(s.destroyed).toBe(true);
  expect(t.conns()).toBeLessThan(2000);
});

it('a Host that differs from :authority is refused with 400, and the target gets nothing', async () => {
  const t = await captureTarget();
  const { port, log } = await tlsFront(bed, t.port, { def: { preserveHost: true } });
  const s = session(port);
  const r = await ask(s, {
    ':path': '/h',
    ':authority': `localhost:${port}`,
    host: 'evil.example',
  });
  expect(r.status).toBe(400);
  expect(t.got).toEqual([]);
  await waitFor(() => httpEvents(log).length === 1, 'the log');
  expect(httpEvents(log)[0]).toMatchObject({ path: '/h', status: 400, error: 'BAD_REQUEST' });
  // The same name in another case is the same authority.
  const ok = await ask(s, {
    ':path': '/same',
    ':authority': `localhost:${port}`,
    host: `LOCALHOST:${port}`,
  });
  expect(ok.status).toBe(200);
  expect(t.got.join('')).toContain(`Host: LOCALHOST:${port}`);
});

it('"OPTIONS *" goes to the target as "OPTIONS *", not under its base path', async () => {
  const t = await captureTarget();
  const { port } = await tlsFront(bed, `http://127.0.0.1:${t.port}/base`);
  const r = await ask(session(port), { ':method': 'OPTIONS', ':path': '*' }, Buffer.alloc(0));
  expect(r.status).toBe(200);
  expect(t.got.join('')).toMatch(/^OPTIONS \* HTTP\/1\.1\r\n/);
});

it('extended CONNECT (:protocol) is reset by nghttp2 and never reaches the target', async () => {
  const t = await captureTarget();
  const { port, log } = await tlsFront(bed, t.port);
  const s = session(port);
  const r = await ask(s, { ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/ws' });
  expect(r.status).toBeUndefined();
  expect(r.err).toMatch(/PROTOCOL_ERROR/);
  expect(t.got).toEqual([]);
  expect(httpEvents(log)).toEqual([]);
});

it('a big upload to a target that does not read: the client is held by flow control, memory stays bounded', async () => {
  const socks: net.Socket[] = [];
  const server = net.createServer((sock) => {
    socks.push(sock);
    sock.on('error', () => {});
    sock.pause();
  });
  const tp = await bed.listen(server);
  // A paused socket never sees the proxy close it.
  bed.defer(() => socks.forEach((x) => x.destroy()));
  const { port } = await tlsFront(bed, tp);
  const s = session(port);
  const st = s.request({ ':path': '/up', ':method': 'PUT' });
  st.on('error', () => {});
  const chunk = Buffer.alloc(64 * 1024, 97);
  let accepted = 0;
  const until = Date.now() + 1000;
  await new Promise<void>((done) => {
    const pump = () => {
      while (Date.now() < until) {
        accepted += chunk.length;
        if (!st.write(chunk)) return void st.once('drain', pump);
      }
      done();
    };
    pump();
    setTimeout(done, 1200);
  });
  // Flow-control windows and socket buffers on both hops, not the 64 MiB+ a fast client pushes in a second.
  expect(accepted).toBeLessThan(16 * 1024 * 1024);
  st.close(http2.constants.NGHTTP2_CANCEL);
});

it('a status HTTP/2 cannot carry is the 502 page (TARGET_BAD_RESPONSE); 103 then the answer both arrive', async () => {
  const bad = await rawTarget('HTTP/1.1 600 Odd\r\nContent-Length: 2\r\n\r\nok');
  const { port, log } = await tlsFront(bed, bad);
  const r = await ask(session(port), { ':path': '/odd' });
  expect(r.status).toBe(502);
  await waitFor(() => httpEvents(log).length === 1, 'the log');
  expect(httpEvents(log)[0]).toMatchObject({
    path: '/odd',
    status: 502,
    error: 'TARGET_BAD_RESPONSE',
  });
  const hints = await rawTarget(
    'HTTP/1.1 103 Early Hints\r\nLink: </a.js>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  );
  const { port: p2 } = await tlsFront(bed, hints);
  const st = session(p2).request({ ':path': '/hints' });
  const seen: unknown[] = [];
  st.on('headers', (h) => seen.push([h[':status'], h.link]));
  st.on('response', (h) => seen.push(h[':status']));
  st.resume();
  await new Promise((res) => st.once('close', res));
  expect(seen).toEqual([[103, '</a.js>; rel=preload'], 200]);
});
