// h1-client.ts end to end, through ProxyServer: what a client sees of a target's cut answer, request bodies
// (byte-exact, chunked when they have no length, backpressure from a slow target), a slow client pausing
// the target, https:// targets (verification, SNI, TLS session reuse), an answer HTTP/2 cannot carry, more
// requests at once than the pool opens sockets, and a proxy started again after stop().
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { storeCertSource } from '../echo';
import { FrameLog } from '../echo/frame-log';
import { waitFor } from '../echo/testing';
import { digestTarget, ok, rawTarget, sha, sleep } from './h1-client-testing';
import { ProxyServer, type ProxyServerOptions } from './proxy-server';
import { plainFront, tlsFront, tlsH1, useTestbed } from './testing';
import { normalizeProxy } from './validation';

const bed = useTestbed();

/** Our http:// front to `target` (testing.ts), its port. */
const plainPort = async (
  target: string,
  def: { targetVerify?: boolean } = {},
  opts: Partial<ProxyServerOptions> = {},
) => (await plainFront(bed, target, { id: 'h1c', log: new FrameLog(), def, ...opts })).port;

interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The whole answer arrived (false: the connection was cut). */
  complete: boolean;
}

/** A request to the http:// front; `body` is written in 64 KiB pieces (chunked unless a length is given). */
function request(
  port: number,
  o: { method?: string; path?: string; body?: Buffer; length?: boolean } = {},
) {
  return new Promise<Got>((resolve, reject) => {
    const headers = o.body && o.length !== false ? { 'Content-Length': String(o.body.length) } : {};
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: o.method ?? 'GET',
        path: o.path ?? '/',
        agent: false,
        headers,
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('error', () => {});
        res.on('close', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(parts),
            complete: res.complete,
          }),
        );
      },
    );
    req.on('error', reject);
    if (o.body)
      for (let i = 0; i < o.body.length; i += 65536) req.write(o.body.subarray(i, i + 65536));
    req.end();
  });
}

/** One HTTP/2 request to the https:// front: status, headers, body, and how the stream ended. */
function h2Request(port: number, headers: http2.OutgoingHttpHeaders, body?: Buffer) {
  const session = http2.connect(`https://localhost:${port}`, { ca: bed.pki.caPem });
  bed.defer(() => void session.destroy());
  return new Promise<{
    status: number;
    headers: http2.IncomingHttpHeaders;
    body: Buffer;
    rst: number;
    /** END_STREAM came: the answer is whole. */
    ended: boolean;
  }>((resolve) => {
    const st = session.request(headers);
    let h: http2.IncomingHttpHeaders = {};
    let ended = false;
    const parts: Buffer[] = [];
    st.on('response', (x) => (h = x));
    st.on('data', (d: Buffer) => parts.push(d));
    st.on('end', () => (ended = true));
    st.on('error', () => {});
    st.on('close', () =>
      resolve({
        status: Number(h[':status'] ?? 0),
        headers: h,
        body: Buffer.concat(parts),
        rst: st.rstCode ?? 0,
        ended,
      }),
    );
    st.end(body);
  });
}

describe('through ProxyServer', () => {
  it('an answer the target cuts mid-body cuts the client (HTTP/1.1 and HTTP/2): never a short body as whole', async () => {
    const t = await rawTarget(bed, (s, head) =>
      s.end(
        head.startsWith('GET /chunked')
          ? 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nonly this\r\n'
          : 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this',
      ),
    );
    const front = await plainPort(`http://127.0.0.1:${t.port}`);
    const { port } = await tlsFront(bed, t.port);
    for (const path of ['/length', '/chunked']) {
      const h1 = await request(front, { path });
      expect([h1.status, h1.body.toString(), h1.complete]).toEqual([200, 'only this', false]);
      const h2 = await h2Request(port, { ':path': path });
      expect([h2.status, h2.body.toString()]).toEqual([200, 'only this']);
      // RST_STREAM(NO_ERROR) after part of a body ends the stream as if whole (Node's client, Chromium).
      expect([h2.ended, h2.rst]).toEqual([false, http2.constants.NGHTTP2_INTERNAL_ERROR]);
    }
  });

  it('6 MiB request bodies arrive byte-exact: with a length as is, without one chunked (HTTP/1.1 and HTTP/2)', async () => {
    const target = await digestTarget(bed);
    const body = randomBytes(6 << 20);
    const want = { n: body.length, sha: sha(body) };
    const port = await plainPort(`http://127.0.0.1:${target}`);
    const a = JSON.parse((await request(port, { method: 'POST', body })).body.toString());
    expect(a).toEqual({ ...want, te: null, cl: String(body.length) });
    const b = JSON.parse(
      (await request(port, { method: 'POST', body, length: false })).body.toString(),
    );
    expect(b).toEqual({ ...want, te: 'chunked', cl: null });
    const front = await tlsFront(bed, target);
    const c = await h2Request(front.port, { ':method': 'POST', ':path': '/' }, body);
    expect(JSON.parse(c.body.toString())).toEqual({ ...want, te: 'chunked', cl: null });
    const d = await h2Request(
      front.port,
      { ':method': 'POST', ':path': '/', 'content-length': body.length },
      body,
    );
    expect(JSON.parse(d.body.toString())).toEqual({ ...want, te: null, cl: String(body.length) });
  });

  it('a target that stops reading an upload stops the client too: the proxy does not buffer the body', async () => {
    const t = await rawTarget(bed, (s) => s.pause());
    const port = await plainPort(`http://127.0.0.1:${t.port}`);
    const total = 512 << 20;
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      agent: false,
      headers: { 'Content-Length': String(total) },
    });
    req.on('error', () => {});
    bed.defer(() => void req.destroy());
    const piece = Buffer.alloc(1 << 20, 97);
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent += piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
    };
    pump();
    await sleep(2500);
    // Socket buffers on the way (client, proxy in and out, target) hold some MiB; the rest waits.
    expect(sent).toBeLessThan(64 << 20);
  });

  it('a target answering before the upload ends: the client gets the answer; that socket is not reused', async () => {
    const t = await rawTarget(bed, (s, head) =>
      s.write(ok(head.startsWith('POST') ? 'early' : 'next')),
    );
    const port = await plainPort(`http://127.0.0.1:${t.port}`);
    const got = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          agent: false,
          headers: { 'Content-Length': String(1 << 20) },
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve(text));
          // the rest of the upload after the answer
          req.end(Buffer.alloc((1 << 20) - 65536, 97));
        },
      );
      req.on('error', reject);
      req.write(Buffer.alloc(65536, 97));
    });
    expect(got).toBe('early');
    expect((await request(port)).body.toString()).toBe('next');
    expect(t.conns()).toBe(2);
  });

  it('a client that does not read (HTTP/1.1 over TLS) pauses the target: the proxy never holds the body', async () => {
    let written = 0;
    const server = http.createServer((_req, res) => {
      const piece = Buffer.alloc(1 << 20, 98);
      const pump = () => {
        while (written < 256 << 20) {
          written += piece.length;
          if (!res.write(piece)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const { port } = await tlsFront(bed, await bed.listen(server));
    const s = await tlsH1(bed, port);
    s.write('GET /big HTTP/1.1\r\nHost: localhost\r\n\r\n');
    s.pause();
    await sleep(2500);
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(64 << 20);
  });

  it('an answer HTTP/2 cannot carry (status 600): the 502 page, and that target socket is not reused', async () => {
    const t = await rawTarget(bed, (s, head) =>
      s.write(head.startsWith('GET /bad') ? ok('x').replace('200 OK', '600 Beyond') : ok('fine')),
    );
    const { port } = await tlsFront(bed, t.port);
    const a = await h2Request(port, { ':path': '/bad' });
    expect([a.status, a.headers['x-wss-studio-error']]).toEqual([502, 'TARGET_BAD_RESPONSE']);
    expect((await h2Request(port, { ':path': '/' })).body.toString()).toBe('fine');
    expect(t.conns()).toBe(2);
  });
});

describe('more requests at once than the pool opens sockets (256)', () => {
  it('300 HTTP/2 streams: 256 target connections, the rest wait; a waiting upload arrives byte-exact', async () => {
    // GETs are held until 256 wait at once (then all answered), so the rest must queue in the pool.
    const held: http.ServerResponse[] = [];
    let conns = 0;
    const server = http.createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        if (req.method === 'POST') return void res.end(sha(Buffer.concat(parts)));
        if (held.length < 256) {
          held.push(res);
          if (held.length === 256) for (const r of held) r.end('ok');
        } else res.end('ok');
      });
    });
    server.on('connection', () => conns++);
    const { port } = await tlsFront(bed, await bed.listen(server));
    const session = http2.connect(`https://localhost:${port}`, { ca: bed.pki.caPem });
    bed.defer(() => void session.destroy());
    const one = (headers: http2.OutgoingHttpHeaders, body?: Buffer) =>
      new Promise<string>((resolve, reject) => {
        const st = session.request(headers);
        let text = '';
        st.on('data', (d: Buffer) => (text += d.toString()));
        st.on('end', () => resolve(text));
        st.on('error', reject);
        st.end(body);
      });
    const body = randomBytes(1 << 20);
    const gets = Array.from({ length: 299 }, () => one({ ':path': '/' }));
    const post = one({ ':method': 'POST', ':path': '/up' }, body);
    expect((await Promise.all(gets)).every((g) => g === 'ok')).toBe(true);
    expect(await post).toBe(sha(body));
    expect(conns).toBe(256);
  });
});

describe('what a plain request meets, explained', () => {
  it('not HTTP, a TLS alert from an http:// target, a broken header: the 502 page names each (TARGET_*)', async () => {
    const notHttp = await rawTarget(bed, (s) => s.end('SSH-2.0-OpenSSH_9.6\r\n'));
    const broken = await rawTarget(bed, (s) => s.end('HTTP/1.1 200 OK\r\nBad Header\r\n\r\n'));
    // a fatal protocol_version alert, as a TLS stack sends it for plain bytes (Node's just hangs up: that
    // stays TARGET_RESET on a request, as with http.request; the card's probe finds the TLS by a handshake)
    const alert = Buffer.from('15030300020246', 'hex');
    const speaksTls = (await rawTarget(bed, (s) => s.end(alert))).port;
    const cases: [number, string][] = [
      [notHttp.port, 'TARGET_NOT_HTTP'],
      [speaksTls, 'TARGET_SPEAKS_TLS'],
      [broken.port, 'TARGET_BAD_RESPONSE'],
    ];
    for (const [port, code] of cases) {
      const got = await request(await plainPort(`http://127.0.0.1:${port}`));
      expect([got.status, got.headers['x-wss-studio-error']]).toEqual([502, code]);
    }
  });
});

describe('a proxy stopped and started again', () => {
  it('reaches its target again (the pool stop() closed is open for the new run)', async () => {
    const t = await rawTarget(bed, (s) => s.write(ok('here')));
    const proxy = new ProxyServer({
      definition: normalizeProxy({
        id: 'again',
        publicUrl: 'http://127.0.0.1:0',
        target: `http://127.0.0.1:${t.port}`,
      }),
      log: new FrameLog(),
    });
    bed.defer(() => proxy.stop());
    expect((await request(await proxy.start(0))).body.toString()).toBe('here');
    await proxy.stop();
    await waitFor(() => t.open() === 0, 'target sockets closed by stop()', 2000);
    const again = await request(await proxy.start(0));
    expect([again.status, again.body.toString()]).toEqual([200, 'here']);
  });
});

describe('https:// targets', () => {
  async function tlsTarget() {
    const accepted: tls.TLSSocket[] = [];
    const m = storeCertSource(bed.pki.store)(bed.pki.leafId);
    const server = https.createServer({ key: m.keyPem, cert: m.certPem }, (req, res) => {
      const s = req.socket as tls.TLSSocket;
      const delay = req.url === '/slow' ? 100 : 0;
      setTimeout(
        () => res.end(`${(s as tls.TLSSocket & { servername?: string }).servername || '-'}`),
        delay,
      );
    });
    server.on('secureConnection', (s: tls.TLSSocket) => accepted.push(s));
    return { port: await bed.listen(server), accepted };
  }

  it('verified with our CA (SNI the target name), refused without it, accepted with verification off', async () => {
    const t = await tlsTarget();
    const url = `https://localhost:${t.port}`;
    const trusted = await request(await plainPort(url, {}, { targetCa: bed.pki.caPem }));
    expect([trusted.status, trusted.body.toString()]).toEqual([200, 'localhost']);
    const untrusted = await request(await plainPort(url));
    expect([untrusted.status, untrusted.headers['x-wss-studio-error']]).toEqual([
      502,
      'TARGET_CERT_UNTRUSTED',
    ]);
    const off = await request(await plainPort(url, { targetVerify: false }));
    expect([off.status, off.body.toString()]).toEqual([200, 'localhost']);
  });

  it('a new connection to the target resumes the TLS session of an earlier one', async () => {
    const t = await tlsTarget();
    const port = await plainPort(`https://localhost:${t.port}`, {}, { targetCa: bed.pki.caPem });
    await request(port);
    await sleep(50); // the TLS 1.3 ticket follows the handshake
    const both = await Promise.all([
      request(port, { path: '/slow' }),
      request(port, { path: '/slow' }),
    ]);
    expect(both.map((g) => g.status)).toEqual([200, 200]);
    expect(t.accepted.length).toBe(2);
    expect(t.accepted.map((s) => s.isSessionReused())).toEqual([false, true]);
  });
});
