// The target leg's masking key: zero where no intermediary can read the leg (loopback, TLS), so the proxy
// neither XORs nor copies each payload; random for a plain ws:// target elsewhere. Read off the wire by a
// hand-written target that does the handshake itself and parses the first frame the proxy sends it.
import { createHash } from 'node:crypto';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { FrameLog } from '../echo/frame-log';
import { useTestbed } from './testing';
import { ProxyServer, zeroMask } from './proxy-server';
import { normalizeProxy, parseTarget } from './validation';

const bed = useTestbed();

/** A raw TCP WebSocket target: answers the handshake, then resolves with the first client frame. */
async function rawTarget() {
  let frame: (f: { masked: boolean; key: Buffer; payload: Buffer }) => void = () => {};
  const first = new Promise<{ masked: boolean; key: Buffer; payload: Buffer }>((r) => (frame = r));
  const server = net.createServer((s) => {
    let buf = Buffer.alloc(0);
    let upgraded = false;
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const key = /sec-websocket-key: *(\S+)/i.exec(buf.subarray(0, end).toString('latin1'))?.[1];
        const accept = createHash('sha1')
          .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
          .digest('base64');
        s.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
        );
        upgraded = true;
        buf = buf.subarray(end + 4);
      }
      // One short frame (< 126 bytes): 2 header bytes, 4 key bytes when masked, the payload.
      if (buf.length < 2) return;
      const masked = (buf[1]! & 0x80) !== 0;
      const len = buf[1]! & 0x7f;
      const start = 2 + (masked ? 4 : 0);
      if (buf.length < start + len) return;
      const key = Buffer.from(buf.subarray(2, start));
      const payload = Buffer.from(buf.subarray(start, start + len));
      for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i % 4] ?? 0;
      frame({ masked, key, payload });
    });
  });
  return { port: await bed.listen(server), first };
}

describe('target leg masking', () => {
  it('a loopback target gets masked frames with a zero key and the payload byte-exact', async () => {
    const target = await rawTarget();
    const def = normalizeProxy({
      id: 'mask',
      publicUrl: 'http://localhost:0',
      target: `http://127.0.0.1:${target.port}`,
    });
    const proxy = new ProxyServer({ definition: def, log: new FrameLog() });
    const port = await proxy.start(0);
    bed.defer(() => proxy.stop());
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    bed.defer(() => ws.terminate());
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    ws.send('hello target');
    const f = await target.first;
    expect(f.masked).toBe(true);
    expect([...f.key]).toEqual([0, 0, 0, 0]);
    expect(f.payload.toString()).toBe('hello target');
  });

  it('keeps random keys only for a plain ws:// target off this machine', () => {
    for (const t of [
      'http://127.0.0.1:1',
      'http://localhost:1',
      'http://[::1]:1',
      'https://example.com',
    ])
      expect(zeroMask(parseTarget(t)), t).toBe(true);
    for (const t of ['http://example.com:8080', 'http://192.168.1.10:3000'])
      expect(zeroMask(parseTarget(t)), t).toBe(false);
  });
});
