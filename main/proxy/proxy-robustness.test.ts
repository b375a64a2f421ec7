// Hostile bytes on both sockets of the proxy: a client that sends a protocol violation, a target that does,
// garbage HTTP and a malformed handshake. Each is answered (the right close code or status), logged, and the
// proxy keeps serving the next connection. Nothing is dialled for a handshake that would be refused.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { FrameLog } from '../echo/frame-log';
import { waitFor } from '../echo/testing';
import { echoTarget, tlsFront, useTestbed } from './testing';
import { requireTool } from '../../e2e/helpers/tools';

const bed = useTestbed();

const echo = () => echoTarget(bed);

const proxyTo = (targetPort: number) =>
  tlsFront(bed, targetPort, { id: 'rob', log: new FrameLog() });

/** A raw TLS socket that did a WebSocket handshake with the proxy: write any bytes after it. */
async function rawUpgraded(port: number): Promise<tls.TLSSocket> {
  const s = tls.connect({ host: 'localhost', port, ca: bed.pki.caPem });
  bed.defer(() => void s.destroy());
  await new Promise((r) => s.once('secureConnect', r));
  s.write(
    'GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  let head = '';
  await new Promise<void>((resolve) => {
    const on = (d: Buffer) => {
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        s.off('data', on);
        resolve();
      }
    };
    s.on('data', on);
  });
  expect(head.startsWith('HTTP/1.1 101')).toBe(true);
  return s;
}

const wssOpen = (port: number) =>
  new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(`wss://localhost:${port}/`, { ca: bed.pki.caPem });
    bed.defer(() => ws.terminate());
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });

async function stillServes(port: number) {
  const ws = await wssOpen(port);
  const got = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
  ws.send('still here');
  expect(await got).toBe('still here');
}

describe('hostile peers', () => {
  it('a client sending an unmasked frame gets 1002; the target leg is closed; the proxy serves on', async () => {
    const t = await echo();
    const { port, log } = await proxyTo(t.port);
    const s = await rawUpgraded(port);
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    s.write(Buffer.from([0x81, 0x02, 0x68, 0x69])); // text "hi", not masked: a protocol error from a client
    await waitFor(() => Buffer.concat(got).length >= 4, 'close frame');
    const frame = Buffer.concat(got);
    expect(frame[0]).toBe(0x88);
    expect(frame.readUInt16BE(2)).toBe(1002);
    await waitFor(() => log.events().some((e) => e.type === 'close'), 'close event');
    expect(log.events().some((e) => e.type === 'error' && e.code === 'WS_ERR_EXPECTED_MASK')).toBe(
      true,
    );
    await stillServes(port);
  });

  it('a connection that closed leaves nothing of itself in the proxy (pair, close-frame logger)', async () => {
    // Each one kept both sockets and their buffers alive: a leak per connection, and at 64 KiB messages
    // the old space it filled made V8 run full GCs all along (bench/proxy.mjs).
    const t = await echo();
    const { proxy, log, port } = await proxyTo(t.port);
    const kept = () =>
      (proxy as unknown as { closeFrameOf: Map<number, unknown> }).closeFrameOf.size;
    for (let i = 0; i < 3; i++) {
      const ws = await wssOpen(port);
      const got = new Promise((r) => ws.once('message', r));
      ws.send('x');
      await got;
      ws.close(1000);
    }
    await waitFor(() => proxy.connections === 0, 'every pair to finish');
    expect(log.events().filter((e) => e.type === 'close')).toHaveLength(3);
    expect(kept()).toBe(0);
  });

  it('a target sending garbage closes the client instead of hanging it; the proxy serves on', async () => {
    // A target that accepts the upgrade, then writes a frame with reserved bits set.
    const bad = net.createServer((c) => {
      c.once('data', (d) => {
        const key = /Sec-WebSocket-Key: (.+)\r\n/i.exec(d.toString())?.[1] ?? '';
        const accept = createHash('sha1')
          .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
          .digest('base64');
        c.write(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
        );
        setTimeout(() => c.write(Buffer.from([0xf1, 0x01, 0x00])), 50);
      });
    });
    const badPort = await bed.listen(bad);
    const { port, log } = await proxyTo(badPort);
    const ws = await wssOpen(port);
    const code = await new Promise<number>((r) => ws.once('close', (c) => r(c)));
    expect([1002, 1006]).toContain(code);
    await waitFor(
      () => log.events().some((e) => e.type === 'error' && /target leg/.test(e.message)),
      'target error logged',
    );
  });

  it('answers garbage HTTP with 400 and a malformed handshake with 400 without dialling the target', async () => {
    const t = await echo();
    const { port } = await proxyTo(t.port);
    const ask = async (bytes: string) => {
      const s = tls.connect({ host: 'localhost', port, ca: bed.pki.caPem });
      bed.defer(() => void s.destroy());
      await new Promise((r) => s.once('secureConnect', r));
      s.write(bytes);
      let out = '';
      s.on('data', (d) => (out += d));
      await new Promise((r) => s.once('close', r));
      return out;
    };
    expect(await ask('\x00\x01\x02 garbage\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(
      await ask(
        'GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n',
      ),
    ).toMatch(/^HTTP\/1\.1 400/);
    expect(t.upgrades()).toBe(0);
    await stillServes(port);
  });

  it('logs a client that rejects our certificate and a plain http:// client on the TLS port, in words', async () => {
    const t = await echo();
    const { port, log } = await proxyTo(t.port);
    // A client that does not trust our CA and says so (alert unknown_ca), as browsers do: real openssl.
    // (async: the proxy runs in this process.)
    await new Promise<void>((resolve) => {
      const c = execFile(
        requireTool('openssl'),
        [
          's_client',
          '-connect',
          `127.0.0.1:${port}`,
          '-servername',
          'localhost',
          '-verify_return_error',
        ],
        { timeout: 10_000 },
        () => resolve(),
      );
      c.stdin?.end();
    });
    const plain = net.connect(port, '127.0.0.1', () =>
      plain.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
    );
    plain.on('error', () => {});
    bed.defer(() => void plain.destroy());
    await waitFor(
      () =>
        log.events().some((e) => e.type === 'error' && e.code === 'CLIENT_REJECTED_CERT') &&
        log.events().some((e) => e.type === 'error' && e.code === 'PLAIN_ON_TLS_PORT'),
      'both TLS errors logged',
    );
    await stillServes(port);
  });
});
