// Whatever a client sends over /rpc, `wss-studio ui` answers (an error reply at worst) and stays up with
// its echo servers: thousands of random and adversarial frames against the real process, then a normal
// call and an echo. Also the process-level safety net: an exception nobody caught is logged, not fatal.
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { seeded } from '../main/echo/testing';
import { requestNames } from '../shared/api';
import { startUiProcess, type UiProcess } from './helpers/ui-process';

const procs: UiProcess[] = [];
afterAll(async () => {
  for (const p of procs) await p.stop();
});

/** Small seeded PRNG (mulberry32): a failure names its seed and replays exactly. */
function prng(seed: number) {
  const next = seeded(seed);
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  return { next, int, pick };
}

// Requests whose handlers reach outside the temp folders (trust stores, a browser, the network) or burn
// CPU (RSA keys) are left out, and workflows made of them (setup.localhost): random input may be valid for them.
const UNSAFE =
  /^(trust\.|app\.openExternal|app\.saveFile|doctor\.|client\.connect|ca\.create|ca\.importMkcert|setup\.)/;
const SAFE_NAMES = requestNames.filter((n) => !UNSAFE.test(n));
const WEIRD_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
];

function generator(seed: number) {
  const r = prng(seed);
  const value = (depth: number): unknown => {
    switch (r.int(depth > 4 ? 6 : 9)) {
      case 0:
        return null;
      case 1:
        return r.pick([0, -1, 1.5, 1e308, -0, 2 ** 53 + 1, NaN]);
      case 2:
        return r.pick(['', 'x', '\u0000', '\ud800', 'ca.get', 'a'.repeat(300), '../../etc']);
      case 3:
        return r.next() < 0.5;
      case 4:
        return r.pick(WEIRD_KEYS);
      case 5:
        return 'z'.repeat(r.int(5000));
      case 6:
        return Array.from({ length: r.int(5) }, () => value(depth + 1));
      default: {
        const o: Record<string, unknown> = {};
        for (let i = r.int(5); i > 0; i--)
          o[r.next() < 0.4 ? r.pick(WEIRD_KEYS) : `k${r.int(9)}`] = value(depth + 1);
        return o;
      }
    }
  };
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  let id = 1;
  /** One frame: [data, binary]. Text frames are JSON strings built by hand where JSON.stringify can't. */
  return (): [string | Buffer, boolean] => {
    const kind = r.int(12);
    const name = () =>
      r.next() < 0.7
        ? r.pick(SAFE_NAMES)
        : r.pick(['no.such', '__proto__', 'constructor', '', 'toString']);
    switch (kind) {
      case 0:
        return [JSON.stringify(value(0)), false];
      case 1:
        return [JSON.stringify({ t: 'call', id: id++, name: name(), input: value(0) }), false];
      case 2:
        // A name that is not a string: the message that used to kill the process.
        return [
          r.pick([
            `{"t":"call","id":${id++},"name":{"toString":1}}`,
            `{"t":"call","id":${id++},"name":${deep(200_000)}}`,
            `{"t":"call","id":${id++},"name":["ca.get"]}`,
            `{"t":"call","id":${id++},"name":null}`,
            `{"t":"call","id":${id++},"name":12}`,
          ]),
          false,
        ];
      case 3:
        return [
          `{"t":"call","id":${JSON.stringify(value(0)) ?? 'null'},"name":"app.info","input":{}}`,
          false,
        ];
      case 4:
        return [
          `{"t":"call","id":${id++},"name":"${r.pick(SAFE_NAMES)}","input":{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}}`,
          false,
        ];
      case 5:
        return [
          r.pick([
            `{"t":"call","id":${id++},"name":"names.check","input":{"names":${deep(100_000)}}}`,
            `{"t":"call","id":${id++},"name":"cert.issue","input":{"names":["${'a'.repeat(1_000_000)}"]}}`,
            `{"t":"call","id":${id++},"name":"names.check","input":{"names":[${'"a",'.repeat(100_000)}"a"]}}`,
          ]),
          false,
        ];
      case 6:
        return [Buffer.from(Array.from({ length: r.int(2000) }, () => r.int(256))), true];
      case 7:
        return [
          JSON.stringify({
            t: r.pick(['sub', 'unsub']),
            stream: r.pick(['log.batch', 'nope', '__proto__']),
          }),
          false,
        ];
      case 8:
        return [`{"t":"call","id":${id++},"name":"app.info"`, false];
      case 9:
        return [
          `{"__proto__":{"t":"call"},"t":"call","id":${id++},"name":"app.info","input":{}}`,
          false,
        ];
      case 10:
        return [
          JSON.stringify({ t: r.pick(['call', 'result', 'event', 'toString', 1, null]), id: id++ }),
          false,
        ];
      default:
        return [
          JSON.stringify({ t: 'call', id: id++, name: name(), input: value(0), extra: value(0) }),
          false,
        ];
    }
  };
}

describe('RPC fuzz against the wss-studio ui process', () => {
  it('answers every frame, stays up, and still serves a normal call and its echo server', async () => {
    const ui = await startUiProcess();
    procs.push(ui);
    const api = await ui.client();
    const server = await api.call('server.add', { scheme: 'ws', port: 0 });
    const started = await api.call('server.start', { id: server.id });

    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
    const next = generator(seed);
    const COUNT = 4000;
    const ws = await ui.socket();
    let replies = 0;
    let badReplies = 0;
    let events = 0;
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { t: string; ok?: boolean; error?: { code?: unknown } };
      if (m.t === 'event') return void events++;
      replies++;
      if (m.t !== 'result' || (m.ok === false && typeof m.error?.code !== 'string')) badReplies++;
    });
    let expected = 0;
    const t0 = Date.now();
    for (let i = 0; i < COUNT; i++) {
      const [data, binary] = next();
      // A valid sub/unsub is the one message with no reply.
      const text = binary ? '' : String(data);
      if (!/^\{"t":"(sub|unsub)","stream":"log\.batch"\}$/.test(text)) expected++;
      ws.send(data, { binary });
      // Keep under the in-flight cap's reach: let replies drain every 50 frames.
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 5));
    }
    await expect
      .poll(() => replies, { timeout: 60_000, message: `seed ${seed}` })
      .toBeGreaterThanOrEqual(expected);
    expect(replies, `seed ${seed}`).toBe(expected);
    expect(badReplies, `seed ${seed}`).toBe(0);

    // Invalid UTF-8 in a text frame: ws closes that socket (1007); the process does not notice.
    const bad = await ui.socket();
    const code = await new Promise<number>((res) => {
      bad.on('close', (c) => res(c));
      bad.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    });
    expect(code).toBe(1007);

    expect(ui.alive()).toBe(true);
    expect((await api.call('app.info')).shell).toBe('web');
    const echo = new WebSocket(`ws://127.0.0.1:${started.port}/`);
    const back = await new Promise<string>((res, rej) => {
      echo.on('open', () => echo.send('still here'));
      echo.on('message', (d) => res(String(d)));
      echo.on('error', rej);
    });
    echo.close();
    expect(back).toBe('still here');
    expect(ui.err()).not.toMatch(/internal error/);
    console.log(
      `RPC fuzz: ${COUNT} frames (seed ${seed}) + 1 invalid UTF-8 frame survived in ${Date.now() - t0} ms; ` +
        `${replies} error/result replies, ${events} events; process up, echo server answers`,
    );
  }, 180_000);

  it('logs an exception nobody caught and keeps serving (process safety net)', async () => {
    const ui = await startUiProcess({
      after:
        "setTimeout(() => { throw new Error('boom-throw'); }, 300); setTimeout(() => { void Promise.reject(new Error('boom-rejection')); }, 400);",
    });
    procs.push(ui);
    await expect.poll(() => ui.err(), { timeout: 10_000 }).toMatch(/boom-rejection/);
    expect(ui.err()).toMatch(/internal error \(kept running\): Error: boom-throw/);
    expect(ui.alive()).toBe(true);
    const api = await ui.client();
    expect((await api.call('app.info')).shell).toBe('web');
  }, 60_000);
});
