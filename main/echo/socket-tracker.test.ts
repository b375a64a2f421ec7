import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SocketTracker } from './socket-tracker';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SocketTracker', () => {
  it('fires the handshake timeout only for a socket that was neither disarmed nor closed', async () => {
    const timedOut: unknown[] = [];
    const t = new SocketTracker(30, (s) => timedOut.push(s));
    const slow = new PassThrough();
    const answered = new PassThrough();
    const gone = new PassThrough();
    for (const s of [slow, answered, gone]) t.arm(s);
    expect(t.sockets.size).toBe(3);
    t.disarm(answered);
    gone.destroy();
    await wait(80);
    expect(timedOut).toEqual([slow]);
    // A closed socket is forgotten (stop() would otherwise destroy it again).
    expect([...t.sockets]).toEqual([slow, answered]);
    slow.destroy();
    answered.destroy();
    await wait(10);
    expect(t.sockets.size).toBe(0);
  });
});
