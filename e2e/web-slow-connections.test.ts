// The UI server bounds slow clients as the echo servers do: at most WEB_LIMITS.connections sockets at once
// (the rest are closed on accept), and a socket that has not sent complete headers within
// WEB_LIMITS.headersMs is closed. Before: 5,000 slow connections held for 60-90 s each.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { WEB_LIMITS } from '../main/web';
import { httpGet, startRig, type WebRig } from './helpers/web';

let rig: WebRig;
beforeAll(async () => {
  rig = await startRig();
});
afterAll(async () => {
  await rig?.close();
});

describe('UI server under slow connections', () => {
  it('holds at most the connection cap, drops slow headers in time, then serves again', async () => {
    const N = 300;
    const host = `127.0.0.1:${rig.web.port}`;
    const opened: { sock: Socket; t0: number; closedAfter?: number }[] = [];
    for (let i = 0; i < N; i++) {
      const sock = connect(rig.web.port, '127.0.0.1');
      const entry: (typeof opened)[number] = { sock, t0: Date.now() };
      sock.on('error', () => {});
      sock.on('close', () => (entry.closedAfter = Date.now() - entry.t0));
      sock.on('connect', () => {
        // Half send the start of a request and never finish it (slow loris), half send nothing.
        if (i % 2 === 0) sock.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nX-Slow: `);
      });
      sock.resume();
      opened.push(entry);
    }
    // The server closes what is over its connection limit at once: poll until it has.
    const holding = () => opened.filter((o) => o.closedAfter === undefined).length;
    await expect.poll(holding, { timeout: 10_000 }).toBeLessThanOrEqual(WEB_LIMITS.connections);
    const held = holding();
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(WEB_LIMITS.connections);

    const bound = WEB_LIMITS.headersMs + 5_000;
    await expect
      .poll(() => opened.filter((o) => o.closedAfter === undefined).length, {
        timeout: bound + 5_000,
        interval: 250,
      })
      .toBe(0);
    const longest = Math.max(...opened.map((o) => o.closedAfter ?? Infinity));
    expect(longest).toBeLessThan(bound);
    // Served again once the slow ones are gone.
    expect((await httpGet(rig.web.port, '/', { Host: host })).status).toBe(200);
    console.log(
      `UI server, ${N} slow connections: ${held} held (cap ${WEB_LIMITS.connections}), ` +
        `${N - held} closed on accept; the last held one closed after ${(longest / 1000).toFixed(1)} s ` +
        `(header limit ${WEB_LIMITS.headersMs / 1000} s)`,
    );
  }, 60_000);
});
