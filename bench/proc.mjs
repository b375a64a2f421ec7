// CPU time of processes from /proc (Linux), for the benchmarks that read a server's or a browser's CPU
// from outside it (bench/shells.mjs, bench/proxy.mjs).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** CPU time (user + system) of a process so far, in ms (NaN once it is gone). */
function cpuMs(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/**
 * CPU time of a process and all its descendants so far, in ms: a browser's renderer, GPU and utility
 * processes, or a command that its launcher started again (bin/wss-studio.cjs: proxy, ui).
 */
export function treeCpuMs(pid) {
  const parent = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ');
      parent.set(Number(d), Number(f[1]));
    } catch {
      // gone meanwhile
    }
  }
  let total = 0;
  for (const p of parent.keys()) {
    for (let q = p; q > 1; q = parent.get(q) ?? 0) {
      if (q === pid) {
        total += cpuMs(p) || 0;
        break;
      }
    }
  }
  return total;
}
