// Robustness of the echo servers: many connections, a flood with the log bounded, protocol violations from
// raw sockets (each closes only the offending connection with the right code) and stalled handshakes.
import { spawn } from 'node:child_process';
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ServerManager } from '../main/echo/server-manager';
import { storeCertSource } from '../main/echo/index';
import { makeTestPki, waitFor, type TestPki } from '../main/echo/testing';
import type { LogBatch } from '../main/echo/types';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

let pki: TestPki;
let manager: ServerManager;
const clients: WebSocket[] = [];
beforeAll(async () => {
  pki = await makeTestPki();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await manager?.stopAll();
});
afterAll(() => pki?.cleanup());

async function start(
  opts: Parameters<ServerManager['add']>[0],
  mopts: ConstructorParameters<typeof ServerManager>[0] = {},
) {
  manager = new ServerManager({ resolveCert: storeCertSource(pki.store), ...mopts });
  const id = manager.add(opts).id;
  const s = await manager.start(id);
  return { id, port: s.port as number };
}

function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  clients.push(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function roundTrip(ws: WebSocket, msg: string): Promise<string> {
  return new Promise((resolve) => {
    ws.once('message', (d: Buffer) => resolve(d.toString()));
    ws.send(msg);
  });
}

describe('many connections', () => {
  it('holds 1,000 concurrent connections open, each echoing', async () => {
    const { id, port } = await start({ scheme: 'ws' });
    const url = `ws://127.0.0.1:${port}/`;
    const conns: WebSocket[] = [];
    for (let batch = 0; batch < 10; batch++) {
      conns.push(...(await Promise.all(Array.from({ length: 100 }, () => open(url)))));
    }
    await waitFor(() => manager.status(id).connections === 1000, '1000 server-side connections');
    const replies = await Promise.all(conns.map((ws, i) => roundTrip(ws, `c${i}`)));
    expect(replies).toEqual(conns.map((_, i) => `c${i}`));
    expect(conns.every((c) => c.readyState === WebSocket.OPEN)).toBe(true);
    const opens = manager.log.events().filter((e) => e.type === 'open');
    expect(new Set(opens.map((e) => (e.type === 'open' ? e.conn : 0))).size).toBe(1000);
    for (const c of conns) c.close(1000);
    await waitFor(() => manager.status(id).connections === 0, 'all connections closed', 30_000);
  });
});

describe('flood', () => {
  it('100,000 small messages keep the log at capacity and memory bounded', async () => {
    const { port } = await start({ scheme: 'ws' }, { logOptions: { capacity: 10_000 } });
    const batches: LogBatch[] = [];
    manager.log.subscribe((b) => batches.push({ ...b, events: [] }));
    const url = `ws://127.0.0.1:${port}/`;
    const senders = await Promise.all(Array.from({ length: 4 }, () => open(url)));
    gc();
    const mem = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const heapBefore = mem();
    const t0 = Date.now();
    const perClient = 25_000;
    const window = 500;
    await Promise.all(
      senders.map(
        (ws) =>
          new Promise<void>((resolve) => {
            let sent = 0;
            let got = 0;
            const pump = () => {
              while (sent < perClient && sent - got < window) ws.send(`m${sent++}`);
            };
            ws.on('message', () => {
              got++;
              if (got === perClient) resolve();
              else if (sent - got < window / 2) pump();
            });
            pump();
          }),
      ),
    );
    const elapsed = Date.now() - t0;
    const log = manager.log;
    expect(log.size).toBe(10_000);
    expect(log.total).toBeGreaterThanOrEqual(200_000 + 4); // 100k in + 100k out + 4 opens
    expect(log.dropped).toBe(log.total - 10_000);
    // The newest events are the last echoes.
    const last = log.events().at(-1);
    expect(last?.type === 'frame' && last.dir).toBe('out');
    gc();
    const growth = mem() - heapBefore;
    if (process.env.WSS_ECHO_DEBUG) console.log({ growth, elapsed, batches: batches.length });
    // The ring holds 10,000 small frames (typed arrays and slab copies: a few MB); an unbounded log
    // would hold 200,000 (tens of MB).
    expect(growth).toBeLessThan(30 * 1024 * 1024);
    // Subscribers were pushed in batches on the 50 ms timer, not per frame.
    await new Promise((r) => setTimeout(r, 100));
    expect(batches.length).toBeLessThanOrEqual(Math.ceil(elapsed / 50) + 5);
  }, 120_000);
});

// --- raw socket helpers ------------------------------------------------------------------------------------

/** A WebSocket handshake by hand; resolves with the socket and a reader of what the server sends after 101. */
async function rawConnect(port: number) {
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => {});
  await new Promise((r) => sock.once('connect', r));
  sock.write(
    'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  let buf = Buffer.alloc(0);
  sock.on('data', (d: Buffer) => (buf = Buffer.concat([buf, d])));
  await waitFor(() => buf.includes('\r\n\r\n'), 'handshake response');
  const end = buf.indexOf('\r\n\r\n') + 4;
  expect(buf.subarray(0, 12).toString()).toBe('HTTP/1.1 101');
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  return {
    sock,
    /** The close code of the first close frame the server sent. */
    async closeCode(): Promise<number> {
      await waitFor(() => buf.length >= end + 4, 'close frame', 10_000);
      const f = buf.subarray(end);
      expect((f[0] as number) & 0x0f).toBe(0x8);
      return f.readUInt16BE(2);
    },
    closed,
  };
}

function frame(
  opcode: number,
  payload: Buffer,
  opts: { mask?: boolean; declaredLength?: number } = {},
): Buffer {
  const mask = opts.mask ?? true;
  const len = opts.declaredLength ?? payload.length;
  const head: number[] = [0x80 | opcode];
  if (len < 126) head.push((mask ? 0x80 : 0) | len);
  else if (len < 65536) head.push((mask ? 0x80 : 0) | 126, len >> 8, len & 0xff);
  else throw new Error('test frames stay under 64 KiB');
  if (!mask) return Buffer.concat([Buffer.from(head), payload]);
  const key = Buffer.from([0x11, 0x22, 0x33, 0x44]);
  const body = Buffer.from(payload.map((b, i) => b ^ (key[i % 4] as number)));
  return Buffer.concat([Buffer.from(head), key, body]);
}

describe('protocol violations', () => {
  it('close only the offending connection, each with its code, and are logged', async () => {
    const { id, port } = await start({ scheme: 'ws', maxPayload: 1024 });
    const bystander = await open(`ws://127.0.0.1:${port}/`);
    const cases: { name: string; bytes: Buffer; code: number; err: string }[] = [
      {
        name: 'unmasked client frame',
        bytes: frame(0x1, Buffer.from('hi'), { mask: false }),
        code: 1002,
        err: 'WS_ERR_EXPECTED_MASK',
      },
      {
        name: 'reserved opcode 0x3',
        bytes: frame(0x3, Buffer.from('x')),
        code: 1002,
        err: 'WS_ERR_INVALID_OPCODE',
      },
      {
        name: 'invalid UTF-8 in text',
        bytes: frame(0x1, Buffer.from([0x68, 0xff, 0xfe])),
        code: 1007,
        err: 'WS_ERR_INVALID_UTF8',
      },
      {
        name: 'over max payload',
        bytes: frame(0x2, Buffer.alloc(0), { declaredLength: 2000 }).subarray(0, 8),
        code: 1009,
        err: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
      },
    ];
    for (const c of cases) {
      const raw = await rawConnect(port);
      raw.sock.write(c.bytes);
      expect(await raw.closeCode(), c.name).toBe(c.code);
      await raw.closed; // the server ends the offending connection
      expect(await roundTrip(bystander, `still here after ${c.name}`)).toBe(
        `still here after ${c.name}`,
      );
    }
    const errors = manager.log.events().filter((e) => e.type === 'error');
    expect(errors.map((e) => (e.type === 'error' ? [e.code, e.closeCode] : []))).toEqual(
      cases.map((c) => [c.err, c.code]),
    );
    const serverCloses = manager.log
      .events()
      .filter((e) => e.type === 'close' && e.by === 'server');
    expect(serverCloses.map((e) => (e.type === 'close' ? e.code : 0))).toEqual(
      cases.map((c) => c.code),
    );
    expect(manager.status(id).connections).toBe(1);
  });
});

describe('stalled handshakes', () => {
  it('drops a TLS client that never sends its ClientHello, and a plain one that never ends its request', async () => {
    const { port } = await start(
      { scheme: 'wss', certId: pki.leafId },
      { handshakeTimeoutMs: 400 },
    );
    const tlsSock = net.connect(port, '127.0.0.1');
    tlsSock.on('error', () => {});
    const t0 = Date.now();
    await new Promise((r) => tlsSock.once('close', r));
    expect(Date.now() - t0).toBeLessThan(15_000);
    await manager.stopAll();

    const plain = await start({ scheme: 'ws' }, { handshakeTimeoutMs: 400 });
    const sock = net.connect(plain.port, '127.0.0.1');
    sock.on('error', () => {});
    await new Promise((r) => sock.once('connect', r));
    sock.write('GET / HTTP/1.1\r\n');
    await new Promise((r) => sock.once('close', r));
    expect(
      manager.log.events().some((e) => e.type === 'error' && e.code === 'HANDSHAKE_TIMEOUT'),
    ).toBe(true);
  });
});

// A client that writes as fast as it can and reads nothing for 3 s, then reads everything back.
const NON_READER = String.raw`
const net = require('node:net');
const [port] = process.argv.slice(1);
const sock = net.connect(Number(port), '127.0.0.1');
const SIZE = 60000;
const frame = Buffer.alloc(8 + SIZE, 0x61);
frame[0] = 0x82; frame[1] = 0x80 | 126; frame.writeUInt16BE(SIZE, 2); frame.writeUInt32BE(0, 4); // zero mask key
let head = '';
sock.on('data', function onHead(d) {
  head += d.toString('latin1');
  if (!head.includes('\r\n\r\n')) return;
  sock.off('data', onHead);
  sock.pause();
  const extra = Buffer.from(head.slice(head.indexOf('\r\n\r\n') + 4), 'latin1');
  let frames = 0;
  let stopped = false;
  const pump = () => {
    while (!stopped) {
      frames++;
      if (!sock.write(frame)) return void sock.once('drain', pump);
    }
  };
  setTimeout(() => {
    stopped = true;
    const want = frames * (SIZE + 4);
    let got = extra.length;
    console.log(JSON.stringify({ phase: 'sent', bytes: frames * SIZE }));
    sock.on('data', (d) => {
      got += d.length;
      if (got >= want) {
        console.log(JSON.stringify({ phase: 'echoed', bytes: got }));
        sock.destroy();
      }
    });
    sock.resume();
  }, 3000);
  pump();
});
sock.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
`;

describe('backpressure', () => {
  it('stops reading from a client that does not read its echoes, then catches up once it does', async () => {
    const { id, port } = await start({ scheme: 'ws' });
    gc();
    const before = process.memoryUsage();
    const child = spawn(process.execPath, ['-e', NON_READER, String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: { phase: string; bytes: number }[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      for (const l of d.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      await waitFor(
        () => lines.length >= 1,
        `sender to finish its 3 s (stderr: ${stderr})`,
        30_000,
      );
      const after = process.memoryUsage();
      const grown = after.arrayBuffers + after.heapUsed - (before.arrayBuffers + before.heapUsed);
      const sent = lines[0]?.bytes as number;
      // Without backpressure the server reads everything the client can write (hundreds of MB in 3 s on
      // loopback) and queues the echoes. With it, the client is held to about the high-water mark.
      expect(sent).toBeLessThan(64 * 1024 * 1024);
      expect(grown).toBeLessThan(64 * 1024 * 1024);
      await waitFor(() => lines.length >= 2, 'every echo to arrive once the client reads', 30_000);
      expect(lines[1]?.bytes).toBeGreaterThanOrEqual(sent);
      expect(manager.log.events().some((e) => e.type === 'error')).toBe(false);
      await waitFor(() => manager.status(id).connections === 0, 'client gone');
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});
