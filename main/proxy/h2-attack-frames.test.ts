// HTTP/2 frames Node's client will not send (duplicate pseudo-headers, uppercase names) and a PING flood, raw
// over TLS to the https:// front: nghttp2 refuses them before a stream reaches the proxy (h2-attack.test.ts
// has the stream-level attacks).
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { expect, it } from 'vitest';
import { waitFor } from '../echo/testing';
import type { HttpEvent } from '../echo/types';
import { tlsFront, useTestbed } from './testing';

const bed = useTestbed();

/** A raw target: every byte it got; it answers each chunk read with a small 200. */
async function captureTarget() {
  const got: string[] = [];
  const server = net.createServer((s) => {
    s.on('data', (d: Buffer) => {
      got.push(d.toString('latin1'));
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    s.on('error', () => {});
  });
  return { port: await bed.listen(server), got };
}

/** A GET over Node's client on a new session: its status. */
function status(port: number, path: string) {
  const s = http2.connect(`https://localhost:${port}`, { ca: bed.pki.caPem });
  s.on('error', () => {});
  bed.defer(() => void s.destroy());
  return new Promise<unknown>((resolve) => {
    const st = s.request({ ':path': path });
    st.on('response', (h) => resolve(h[':status']));
    st.on('error', () => resolve(undefined));
    st.resume();
  });
}

/** Raw HTTP/2 over TLS: the preface and an empty SETTINGS sent; the frames the front sent back. */
async function rawH2(port: number) {
  const sock = tls.connect({ host: 'localhost', port, ca: bed.pki.caPem, ALPNProtocols: ['h2'] });
  bed.defer(() => void sock.destroy());
  sock.on('error', () => {});
  await new Promise((r) => sock.once('secureConnect', r));
  let buf = Buffer.alloc(0);
  const frames: { type: number; stream: number; payload: Buffer }[] = [];
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 9 && buf.length >= 9 + buf.readUIntBE(0, 3)) {
      const len = buf.readUIntBE(0, 3);
      frames.push({
        type: buf[3]!,
        stream: buf.readUInt32BE(5) & 0x7fffffff,
        payload: buf.subarray(9, 9 + len),
      });
      buf = buf.subarray(9 + len);
    }
  });
  const closed = new Promise((r) => sock.once('close', r));
  const frame = (type: number, flags: number, stream: number, payload: Buffer) => {
    const h = Buffer.alloc(9);
    h.writeUIntBE(payload.length, 0, 3);
    h[3] = type;
    h[4] = flags;
    h.writeUInt32BE(stream, 5);
    return Buffer.concat([h, payload]);
  };
  sock.write(
    Buffer.concat([
      Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
      frame(4, 0, 0, Buffer.alloc(0)),
    ]),
  );
  return { sock, frames, frame, closed };
}

/** HPACK literals without indexing (no Huffman): a header block of these name/value pairs. */
const hpack = (pairs: [string, string][]) =>
  Buffer.concat(
    pairs.flatMap(([n, v]) => [
      Buffer.from([0, n.length]),
      Buffer.from(n),
      Buffer.from([v.length]),
      Buffer.from(v),
    ]),
  );

it('duplicate pseudo-headers and uppercase names are reset by nghttp2 and never reach the target', async () => {
  const t = await captureTarget();
  const { port, log } = await tlsFront(bed, t.port);
  const c = await rawH2(port);
  const base: [string, string][] = [
    [':method', 'GET'],
    [':scheme', 'https'],
    [':authority', 'localhost'],
  ];
  c.sock.write(c.frame(1, 5, 1, hpack([...base, [':path', '/a'], [':path', '/b']])));
  c.sock.write(c.frame(1, 5, 3, hpack([...base, [':path', '/c'], ['X-Up', '1']])));
  c.sock.write(c.frame(1, 5, 5, hpack([...base, [':path', '/ok']])));
  await waitFor(
    () => c.frames.some((f) => f.type === 1 && f.stream === 5),
    'the answer to stream 5',
  );
  const rst = (id: number) =>
    c.frames.find((f) => f.type === 3 && f.stream === id)?.payload.readUInt32BE(0);
  expect([rst(1), rst(3)]).toEqual([1, 1]); // PROTOCOL_ERROR
  await waitFor(
    () => log.events().filter((e): e is HttpEvent => e.type === 'http').length === 1,
    'the log',
  );
  expect(
    log
      .events()
      .filter((e): e is HttpEvent => e.type === 'http')
      .map((e) => e.path),
  ).toEqual(['/ok']);
  expect(t.got.join('')).not.toMatch(/GET \/[abc]/);
});

it('a PING flood from a client that never reads is cut off, and the front stays responsive', async () => {
  const t = await captureTarget();
  const { port } = await tlsFront(bed, t.port);
  const c = await rawH2(port);
  const ping = c.frame(6, 0, 0, Buffer.alloc(8));
  c.sock.pause();
  const burst = Buffer.concat(Array.from({ length: 1000 }, () => ping));
  for (let i = 0; i < 200 && !c.sock.destroyed; i++) c.sock.write(burst);
  await new Promise((r) => setTimeout(r, 1000));
  c.sock.resume();
  await Promise.race([c.closed, new Promise((r) => setTimeout(r, 3000))]);
  // nghttp2 stops at 1,000 queued control frames (its flood limit): the session is dropped, few ACKs queued.
  expect(c.frames.filter((f) => f.type === 6).length).toBeLessThan(20_000);
  expect(c.sock.destroyed).toBe(true);
  expect(await status(port, '/ok')).toBe(200);
});
