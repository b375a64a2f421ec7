// The closed-loop WebSocket client shared by bench/echo.mjs, bench/shells.mjs and bench/proxy.mjs: `clients` sockets, each
// sends one message, waits for its echo, sends again. Returns messages per second and every round trip (ms).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { WebSocket } = require('ws');

export const WARMUP_MS = 200;

/**
 * `opts`: the measured seconds, or `{ seconds, warmupMs }`. `hooks.start` / `hooks.end` run when the
 * measured window opens and closes (after the warm-up).
 */
export async function measure(url, size, clients, ca, opts, hooks = {}) {
  const seconds = typeof opts === 'number' ? opts : opts.seconds;
  const warmupMs = typeof opts === 'number' ? WARMUP_MS : (opts.warmupMs ?? WARMUP_MS);
  const payload = Buffer.alloc(size, 0x61);
  const sockets = await Promise.all(
    Array.from(
      { length: clients },
      () =>
        new Promise((resolve, reject) => {
          const ws = new WebSocket(url, { ca, perMessageDeflate: false });
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
        }),
    ),
  );
  const rtts = [];
  let count = 0;
  let measuring = false;
  let running = true;
  const loops = sockets.map(
    (ws) =>
      new Promise((resolve) => {
        let t0 = 0n;
        const send = () => {
          if (!running) return resolve();
          t0 = process.hrtime.bigint();
          ws.send(payload, { binary: true });
        };
        ws.on('message', () => {
          if (measuring) {
            rtts.push(Number(process.hrtime.bigint() - t0) / 1e6);
            count++;
          }
          send();
        });
        send();
      }),
  );
  await sleep(warmupMs);
  hooks.start?.();
  measuring = true;
  const start = process.hrtime.bigint();
  await sleep(seconds * 1000);
  measuring = false;
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  hooks.end?.();
  running = false;
  await Promise.all(loops);
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise((r) => {
          ws.once('close', r);
          ws.close(1000);
        }),
    ),
  );
  return { rate: count / elapsed, count, rtts };
}

/** Median rate over rounds, p50/p99 over every round trip of every round. */
export function summarize({ rates, rtts }) {
  rtts.sort((a, b) => a - b);
  const pct = (p) => rtts[Math.min(rtts.length - 1, Math.floor((rtts.length * p) / 100))] ?? NaN;
  return { rate: median(rates), p50: pct(50), p99: pct(99) };
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}
export function fmt(n) {
  return Math.round(n).toLocaleString('en-US');
}
export function fmtSize(n) {
  return n >= 1024 ? `${n / 1024} KiB` : `${n} B`;
}
