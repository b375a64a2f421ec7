// HTTP/2 sessions on the https:// front end: one that never sends the connection preface is dropped after a
// short deadline, one with no stream open is closed with GOAWAY after the idle time, and one with a stream
// open (a slow download, an SSE response) is never cut. Raw TLS peers that speak h2 by hand (frame headers
// only, no client library's own timers); the durations are shortened through the constructor.
import http from 'node:http';
import http2 from 'node:http2';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { tlsFront, useTestbed } from './testing';

const bed = useTestbed();

const front = async (targetPort: number, opts: { h2IdleMs?: number; h2PrefaceMs?: number }) =>
  (await tlsFront(bed, targetPort, { id: 'h2t', ...opts })).port;

/** A target whose /sse answers headers at once and then one event every 100 ms until the client leaves. */
async function target() {
  const server = http.createServer((req, res) => {
    if (req.url !== '/sse') return res.end('ok');
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    const t = setInterval(() => res.write('data: tick\n\n'), 100);
    res.on('close', () => clearInterval(t));
  });
  return bed.listen(server);
}

/** A TLS connection that negotiated h2; the frame types it received and when it closed. */
async function h2Peer(port: number) {
  const s = tls.connect({ host: 'localhost', port, ca: bed.pki.caPem, ALPNProtocols: ['h2'] });
  bed.defer(() => void s.destroy());
  await new Promise((r) => s.once('secureConnect', r));
  expect(s.alpnProtocol).toBe('h2');
  const t0 = Date.now();
  const frames: number[] = [];
  let buf = Buffer.alloc(0);
  s.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 9) {
      const len = buf.readUIntBE(0, 3);
      if (buf.length < 9 + len) break;
      frames.push(buf[3]!);
      buf = buf.subarray(9 + len);
    }
  });
  s.on('error', () => {});
  const closed = new Promise<number>((r) => s.once('close', () => r(Date.now() - t0)));
  return { s, frames, closed };
}

const PREFACE = Buffer.concat([
  Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'),
  Buffer.from('000000040000000000', 'hex'), // an empty SETTINGS frame
]);
const GOAWAY = 0x7;

const within = (ms: number, p: Promise<number>) =>
  Promise.race([p, new Promise<number>((r) => setTimeout(() => r(-1), ms))]);

describe('HTTP/2 session deadlines', () => {
  it('a connection that negotiated h2 and never sends the preface is dropped after the preface deadline', async () => {
    const port = await front(await target(), { h2PrefaceMs: 300, h2IdleMs: 60_000 });
    const peer = await h2Peer(port);
    const at = await within(3000, peer.closed);
    expect(at).toBeGreaterThanOrEqual(250);
    expect(at).toBeLessThan(2000);
  });

  it('a session with no stream open is closed with GOAWAY after the idle time, not before', async () => {
    const port = await front(await target(), { h2PrefaceMs: 60_000, h2IdleMs: 500 });
    const peer = await h2Peer(port);
    peer.s.write(PREFACE);
    await new Promise((r) => setTimeout(r, 300));
    expect(peer.frames).not.toContain(GOAWAY);
    const at = await within(3000, peer.closed);
    expect(at).toBeGreaterThanOrEqual(450);
    expect(at).toBeLessThan(2500);
    expect(peer.frames).toContain(GOAWAY);
  });

  it('a session with an SSE stream open outlives the idle time, and is closed once the stream ends', async () => {
    const port = await front(await target(), { h2PrefaceMs: 300, h2IdleMs: 300 });
    const client = http2.connect(`https://localhost:${port}`, { ca: bed.pki.caPem });
    bed.defer(() => void client.destroy());
    let goaway = false;
    client.on('goaway', () => (goaway = true));
    client.on('error', () => {});
    const stream = client.request({ ':path': '/sse' });
    let ticks = 0;
    stream.on('data', (d: Buffer) => (ticks += d.toString().split('tick').length - 1));
    await new Promise((r) => setTimeout(r, 1200)); // four idle times
    expect(goaway).toBe(false);
    expect(client.closed || client.destroyed).toBe(false);
    const before = ticks;
    expect(before).toBeGreaterThanOrEqual(5);
    await new Promise((r) => setTimeout(r, 300));
    expect(ticks).toBeGreaterThan(before);
    stream.close();
    const closed = new Promise<void>((r) => client.once('close', r));
    await Promise.race([closed, new Promise((r) => setTimeout(r, 3000))]);
    expect(goaway).toBe(true);
    expect(client.destroyed).toBe(true);
  });
});
