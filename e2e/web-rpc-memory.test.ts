// A client that never reads its replies cannot grow `wss-studio ui` without bound: it sends 20 ×
// log.snapshot {limit:100000} against a full frame log (about 45 MB of JSON each) and stops reading. The
// server drops it with a logged reason once its unsent replies pass the per-client cap; the process's
// memory stays bounded and it keeps answering others. (Before the cap: 225 MB -> 1.5 GB.)
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { startUiProcess, type UiProcess } from './helpers/ui-process';

let ui: UiProcess | undefined;
afterAll(async () => {
  await ui?.stop();
});

/** One masked client text frame (payload < 126 bytes, as every call here is). */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  if (payload.length >= 126) throw new Error('frame too long for this helper');
  const mask = randomBytes(4);
  const out = Buffer.alloc(2 + 4 + payload.length);
  out[0] = 0x81;
  out[1] = 0x80 | payload.length;
  mask.copy(out, 2);
  for (let i = 0; i < payload.length; i++) out[6 + i] = payload[i]! ^ mask[i % 4]!;
  return out;
}

const MB = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;

describe('RPC queue cap', () => {
  it('drops a client that does not read, and memory stays bounded', async () => {
    ui = await startUiProcess();
    const api = await ui.client();
    const server = await api.call('server.add', { scheme: 'ws', port: 0 });
    const { port } = await api.call('server.start', { id: server.id });

    // Fill the frame log: 4 KB text frames echoed (two events each) until the ring buffer is full.
    const echo = new WebSocket(`ws://127.0.0.1:${port}/`);
    await new Promise((r) => echo.once('open', r));
    const big = 'x'.repeat(4096);
    let back = 0;
    echo.on('message', () => back++);
    for (let i = 0; i < 6000; i++) echo.send(big);
    await expect.poll(() => back, { timeout: 60_000 }).toBe(6000);
    echo.close();
    const snap = await api.call('log.snapshot', { limit: 1 });
    expect(snap.capacity).toBe(10_000);
    const full = await api.call('log.snapshot', { limit: 100_000 });
    const snapshotBytes = JSON.stringify(full).length;
    expect(full.events.length).toBe(10_000);

    await new Promise((r) => setTimeout(r, 1000));
    const before = ui.rss();

    // The non-reading client: a raw socket that completes the handshake, sends 20 calls and never reads.
    const sock = connect(ui.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.write(
      [
        `GET /rpc?token=${ui.token} HTTP/1.1`,
        `Host: 127.0.0.1:${ui.port}`,
        `Origin: ${ui.origin}`,
        'Connection: Upgrade',
        'Upgrade: websocket',
        'Sec-WebSocket-Version: 13',
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
        '',
        '',
      ].join('\r\n'),
    );
    const head = await new Promise<string>((r) =>
      sock.once('data', (d: Buffer) => r(d.toString())),
    );
    expect(head).toMatch(/^HTTP\/1\.1 101/);
    sock.pause();
    for (let i = 1; i <= 20; i++) {
      sock.write(
        textFrame(
          JSON.stringify({ t: 'call', id: i, name: 'log.snapshot', input: { limit: 100000 } }),
        ),
      );
    }
    let peak = before;
    const t0 = Date.now();
    while (Date.now() - t0 < 10_000) {
      peak = Math.max(peak, ui.rss());
      if (/dropped RPC client/.test(ui.err()) && Date.now() - t0 > 3000) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    sock.destroy();
    await new Promise((r) => setTimeout(r, 1500));
    const after = ui.rss();
    console.log(
      `non-reading RPC client, 20 × log.snapshot of ${MB(snapshotBytes)}: RSS before ${MB(before)}, ` +
        `peak ${MB(peak)} (+${MB(peak - before)}), after ${MB(after)}; server log: ` +
        (/dropped RPC client[^\n]*/.exec(ui.err())?.[0] ?? 'nothing'),
    );
    expect(ui.err()).toMatch(/dropped RPC client 127\.0\.0\.1:\d+: it does not read its replies/);
    // Without the cap this grows by 20 snapshots (about 1 GB); with it, by about three (one queued, one being encoded, the objects behind it).
    expect(peak - before).toBeLessThan(6 * snapshotBytes);
    expect(ui.alive()).toBe(true);
    expect((await api.call('app.info')).shell).toBe('web');
  }, 180_000);
});
