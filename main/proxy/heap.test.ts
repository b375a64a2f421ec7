import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PROXY_V8_FLAGS, withProxyHeap } from './heap';

// The proxy's 64 KiB traffic in miniature, in a fresh node: more than 8 MB of live heap (the engine's
// size), 64 messages in flight, five 64 KiB Buffers per message of which four die at once, 6,000 messages. Prints the full
// (mark-compact) GCs it ran.
const TRAFFIC = `
const { PerformanceObserver, constants } = require('node:perf_hooks');
let full = 0;
new PerformanceObserver((l) => {
  for (const e of l.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) full++;
}).observe({ entryTypes: ['gc'] });
globalThis.live = Array.from({ length: 6 * 131072 }, (_, i) => i + 0.5);
const inflight = [];
let n = 0;
const turn = () => {
  for (let i = 0; i < 16; i++, n++) {
    for (let k = 0; k < 4; k++) Buffer.allocUnsafe(65536).fill(k);
    inflight.push(Buffer.allocUnsafe(65536).fill(n & 255));
    if (inflight.length > 64) inflight.shift();
  }
  if (n < 6000) setImmediate(turn);
  else setTimeout(() => process.stdout.write(String(full)), 10);
};
turn();
`;

const fullGcs = (execArgv: string[]) =>
  Number(execFileSync(process.execPath, [...execArgv, '-e', TRAFFIC], { encoding: 'utf8' }));

describe('withProxyHeap', () => {
  it('adds the proxy heap flags to a command line', () => {
    expect(withProxyHeap(['--cpu-prof'])).toEqual(['--cpu-prof', ...PROXY_V8_FLAGS]);
    expect(PROXY_V8_FLAGS).toEqual(['--initial-old-space-size=64']);
  });

  it("keeps the user's own initial old space size, in any spelling", () => {
    for (const own of [
      ['--initial-old-space-size=200'],
      ['--initial_old_space_size=200'],
      ['--initial-old-space-size', '200'],
    ]) {
      expect(withProxyHeap(own)).toEqual(own);
    }
  });

  it('spares a process past 8 MB of heap the full GCs that short-lived 64 KiB Buffers start', () => {
    // Without the flags V8 runs a full GC every few dozen messages here (31-47 in seven runs; 6,000
    // messages, since one run of 3,000 under a loaded test suite once gave only 2).
    expect(fullGcs([])).toBeGreaterThanOrEqual(5);
    // With them none (at most one in ten runs).
    expect(fullGcs(withProxyHeap([]))).toBeLessThanOrEqual(1);
  }, 20_000);
});
