#!/usr/bin/env node
// Over 400 lines: one run starts every path once (children, nginx, Vite) and measures both the WebSocket table and the page load on them.
// bench/proxy: WebSocket round trips through four paths to the same target (a bare `ws` echo server), in one
// run: (a) ours = WSS Studio's proxy with the frame log on and a live subscriber draining it, (b) bare = a
// Node pass-through built on `ws` both sides with no logging, (c) nginx (Debian nginx-light) configured as a
// WebSocket reverse proxy, (d) direct = the target itself. Public side ws:// and wss:// (TLS terminated by
// the proxy; the target leg is plain ws://). 32 B / 1 KiB / 64 KiB x 1 / 64 clients, closed loop:
// messages per second and round-trip p50/p99. Then an HTTP "page load" of a Vite dev server with its
// modules in headless Chromium (bench/page-load.mjs: a fresh context per load, paths interleaved, medians,
// spread and a confidence interval): direct, ours (http:// and https:// public side), bare, nginx.
//   node bench/proxy.mjs [--seconds S] [--rounds R] [--rounds-1 R1] [--warmup-rounds W] [--only ws:32:1,wss]
//                        [--quick] [--no-nginx] [--no-vite] [--page-rounds N] [--page-only] [--aa]
//                        [--page-dump FILE] [--bare-heap-mb M] [--verbose]
// Each server runs in its own child process (ours and bare one per scheme); the clients run in this
// process. NODE_EXTRA_CA_CERTS is unset for the children. "ours" is the engine alone: a child that loads the engine bundle and runs ProxyServer
// with a FrameLog and a subscriber that only counts events. "cli" is the shell a user runs:
// `wss-studio proxy PUBLIC TARGET --json` (the built bin, one per scheme), every event printed as a JSON
// line into a file, its CPU read from /proc for the launcher and the proxy process it starts. It runs with the V8 flags a
// process running the proxy is meant to start with (main/proxy/heap.ts, withProxyHeap: the floor of the old
// generation's limit, without which 64 KiB traffic costs a process of the engine's heap size a full GC
// every ~100 messages); bare runs as plain node.
// Noise: every round measures each path once, ours, bare and cli back to back (which goes first alternates,
// and the three move before or after nginx and direct), so machine load hits all alike; a cell's rate is the
// median over rounds and ours/bare (ours/nginx, cli/bare) is the median of the per-round ratios, each taken
// between two windows of the same round. Every cell gets 9 rounds (--rounds; --rounds-1 for the 1-client
// cells), after one unrecorded warm-up round in which every path carries the cell's traffic once
// (--warmup-rounds). Why so many: on 2 CPUs the client, the proxy and the target share the cores, and one
// window's ratio moves a lot. In 11 rounds of wss 1 KiB x 64 the per-round ours/bare read 1.47 in the first
// round (the cell's first windows at a new size), then 0.88-1.06; cli/bare 1.47, then 0.71-0.99. Ours' CPU
// per message stayed within 39.5-43.8 µs meanwhile. With 5 rounds, one such window shifts the median. One
// connection's round trip goes through three processes, so in the 1-client cells one descheduling by
// anything else moves a 0.6 s window by 10-20 % (a cell once read 80.9 % and 105.8 % on the re-run).
// Within a round bare sits between ours and cli, so both ratios compare neighbouring windows.
// --verbose prints every round's ratios and CPU per message to stderr. --only takes a comma-separated list
// of cells (ws:32:1) or schemes (wss). --aa adds "direct again" to the page load (the direct URL a second
// time: its ratio to direct is the noise floor); --page-dump FILE writes every page load's ms as JSON.
import { fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { PerformanceObserver, constants as perf } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { benchTls, bundleEngine } from './engine-bundle.mjs';
import { fmt, fmtSize, measure as load, summarize } from './client.mjs';
import { chromiumPageLoads } from './page-load.mjs';
import { treeCpuMs } from './proc.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const self = fileURLToPath(import.meta.url);
const require = createRequire(import.meta.url);
const { WebSocket, WebSocketServer } = require('ws');
const measure = (url, size, clients, ca, hooks) =>
  load(url, size, clients, ca, { seconds: SECONDS, warmupMs: WARMUP_MS }, hooks);

const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const QUICK = process.argv.includes('--quick');
const SECONDS = Number(arg('--seconds') ?? (QUICK ? 0.15 : 0.6));
const ROUNDS = Number(arg('--rounds') ?? (QUICK ? 1 : 9));
const ROUNDS_ONE_CLIENT = Number(arg('--rounds-1') ?? ROUNDS);
const WARMUP_ROUNDS = Number(arg('--warmup-rounds') ?? (QUICK ? 0 : 1));
const VERBOSE = process.argv.includes('--verbose');
const WARMUP_MS = QUICK ? 50 : 200;
const SIZES = QUICK ? [32, 1024] : [32, 1024, 64 * 1024];
const CLIENTS = QUICK ? [1, 4] : [1, 64];
const SCHEMES = ['ws', 'wss'];
const ONLY = arg('--only')?.split(',');
const NGINX = '/usr/sbin/nginx';
const WITH_NGINX = !process.argv.includes('--no-nginx');
const WITH_VITE = !process.argv.includes('--no-vite');
const VITE_MODULES = QUICK ? 10 : 60;
const PAGE_ROUNDS = Number(arg('--page-rounds') ?? (QUICK ? 4 : 25));
const PAGE_ONLY = process.argv.includes('--page-only');
// A/A: the page load also measures "direct again", the same Vite URL as direct under a second name, so its
// ratio to direct shows the noise floor of the page-load figures.
const PAGE_AA = process.argv.includes('--aa');
// Extra live JS heap (MB) kept by the bare pass-through, to compare the two at the same heap size.
const BARE_HEAP_MB = Number(arg('--bare-heap-mb') ?? 0);

// --- children ------------------------------------------------------------------------------------------------
if (process.argv[2] === '--child') {
  const kind = process.argv[3];
  const cfg = JSON.parse(process.argv[4]);
  const ports = {};
  const tlsOpts = {
    cert: `${cfg.certPem.trim()}\n${cfg.caPem.trim()}\n`,
    key: cfg.keyPem,
    minVersion: 'TLSv1.2',
  };
  const https = require('node:https');
  /** A ws server on 127.0.0.1:0 (TLS for wss), no compression; resolves its port. */
  const wsServer = async (scheme, onConnection) => {
    // Plain requests get a 200: `wss-studio proxy` checks at start that its target answers HTTP.
    const page = (_q, res) => res.end('ok');
    const server = scheme === 'wss' ? https.createServer(tlsOpts, page) : http.createServer(page);
    new WebSocketServer({ server, maxPayload: 16 * 1024 * 1024, perMessageDeflate: false }).on(
      'connection',
      onConnection,
    );
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    return server.address().port;
  };
  if (kind === 'target') {
    // The "developer's server": a bare ws echo (plain for the proxies; also TLS for the direct wss column).
    for (const scheme of SCHEMES) {
      ports[scheme] = await wsServer(scheme, (ws) =>
        ws.on('message', (d, b) => ws.send(d, { binary: b })),
      );
    }
  } else if (kind === 'ours') {
    const eng = require(cfg.bundle);
    const log = new eng.FrameLog();
    let seen = 0;
    log.subscribe((b) => (seen += b.events.length)); // a live viewer, as in the app
    for (const scheme of cfg.schemes) {
      const def = eng.normalizeProxy({
        id: `bench-${scheme}`,
        publicUrl: `${scheme === 'wss' ? 'https' : 'http'}://localhost:0`,
        target: `http://127.0.0.1:${cfg.targetPort}`,
      });
      const p = new eng.ProxyServer({
        definition: def,
        log,
        ...(scheme === 'wss'
          ? { tls: { certPem: cfg.certPem, keyPem: cfg.keyPem, caPem: cfg.caPem } }
          : {}),
      });
      ports[scheme] = await p.start(0);
    }
    if (cfg.vitePort && cfg.schemes.includes('ws')) {
      const def = eng.normalizeProxy({
        id: 'bench-vite',
        publicUrl: 'http://localhost:0',
        target: `http://127.0.0.1:${cfg.vitePort}`,
      });
      ports.vite = await new eng.ProxyServer({ definition: def, log }).start(0);
    }
    if (cfg.vitePort && cfg.schemes.includes('wss')) {
      // The same with TLS on the public side, as a user runs it (https://localhost).
      const tlsDef = eng.normalizeProxy({
        id: 'bench-vite-tls',
        publicUrl: 'https://localhost:0',
        target: `http://127.0.0.1:${cfg.vitePort}`,
      });
      ports.viteTls = await new eng.ProxyServer({
        definition: tlsDef,
        log,
        tls: { certPem: cfg.certPem, keyPem: cfg.keyPem, caPem: cfg.caPem },
      }).start(0);
    }
  } else if (kind === 'bare') {
    // A minimal Node pass-through: ws on both sides, messages forwarded as they come, no logging.
    // --bare-heap-mb: that many MB of live doubles on the V8 heap (one array, never touched again).
    globalThis.ballast = Array.from({ length: cfg.bareHeapMb * 131072 }, (_, i) => i + 0.5);
    for (const scheme of cfg.schemes) {
      ports[scheme] = await wsServer(scheme, (down, req) => {
        const up = new WebSocket(`ws://127.0.0.1:${cfg.targetPort}${req.url}`, {
          perMessageDeflate: false,
        });
        const queue = [];
        up.on('open', () => {
          for (const [d, b] of queue.splice(0)) up.send(d, { binary: b });
        });
        down.on('message', (d, b) =>
          up.readyState === 1 ? up.send(d, { binary: b }) : queue.push([d, b]),
        );
        up.on('message', (d, b) => down.send(d, { binary: b }));
        down.on('close', () => up.close());
        up.on('close', () => down.close());
        up.on('error', () => down.terminate());
      });
    }
    if (cfg.vitePort && cfg.schemes.includes('ws')) {
      // The same minimal pass-through for HTTP: streamed both ways, keep-alive to the target, no logging.
      const agent = new http.Agent({ keepAlive: true });
      const server = http.createServer((req, res) => {
        // GETs only in the page load: one retry when a kept-alive socket was closed by Vite meanwhile.
        const send = (retry) => {
          const preq = http.request(
            {
              host: '127.0.0.1',
              port: cfg.vitePort,
              method: req.method,
              path: req.url,
              headers: req.headers,
              agent,
            },
            (pres) => {
              res.writeHead(pres.statusCode, pres.headers);
              pres.pipe(res);
            },
          );
          preq.on('error', () => (retry && preq.reusedSocket ? send(false) : res.destroy()));
          preq.end();
        };
        send(true);
      });
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      ports.vite = server.address().port;
    }
  }
  process.send({ ports });
  // Full (mark-compact) GCs of this process so far: 64 KiB payloads are external memory, and how often V8
  // runs a full GC for them depends on the process's live heap (see README, proxy benchmark).
  let fullGcs = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      if (e.detail?.kind === perf.NODE_PERFORMANCE_GC_MAJOR) fullGcs++;
  }).observe({ entryTypes: ['gc'] });
  // CPU time of this process (user + system, µs) and its full GCs, asked for at the start and end of a
  // measured window.
  process.on(
    'message',
    (m) =>
      m === 'cpu' &&
      process.send({ cpu: process.cpuUsage(), fullGcs, rss: process.memoryUsage().rss }),
  );
  process.on('message', (m) => m === 'exit' && process.exit(0));
  // Exit normally on SIGTERM so `node --cpu-prof bench/proxy.mjs` writes each child's profile too.
  process.on('SIGTERM', () => process.exit(0));
} else {
  await main();
}

// --- parent ------------------------------------------------------------------------------------------------------
async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wss-bench-proxy-'));
  const stops = [];
  try {
    const bundle = await bundleEngine('proxy-entry.ts', path.join(tmp, 'proxy.cjs'));
    const engine = require(bundle);
    const material = { bundle, ...(await benchTls(engine, path.join(tmp, 'home'))) };
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;

    const startChild = async (kind, cfg, execArgv = process.execArgv, name = kind) => {
      const child = fork(self, ['--child', kind, JSON.stringify(cfg)], {
        env,
        execArgv,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      stops.push(() => child.kill('SIGTERM'));
      const { ports } = await new Promise((resolve, reject) => {
        child.once('message', resolve);
        child.once('exit', (c) => reject(new Error(`${kind} exited with ${c}`)));
      });
      children[name] = child;
      return ports;
    };
    const children = {};
    /** CPU µs the child has used so far and its full GCs (its answer to 'cpu'). */
    const probeOf = (child) =>
      new Promise((resolve) => {
        const on = (m) => {
          if (!m?.cpu) return;
          child.off('message', on);
          resolve({ cpu: m.cpu.user + m.cpu.system, fullGcs: m.fullGcs, rss: m.rss });
        };
        child.on('message', on);
        child.send('cpu');
      });
    const cpuOf = async (child) => (await probeOf(child)).cpu;
    // node flags of ours: this process's own, plus the proxy's heap flags unless given here (A/B: run
    // `node --initial-old-space-size=0 bench/proxy.mjs` for V8's default heap sizing).
    const oursArgv = engine.withProxyHeap(process.execArgv);
    const target = await startChild('target', material);
    const vite = WITH_VITE ? await startVite(tmp, env, stops) : undefined;
    // One process per scheme for ours and for bare (as `wss-studio proxy` runs one), so the ws cells do not
    // shape how V8 optimises the code the wss cells run, and the page load's ours over http:// and over
    // https:// each have their own process. Ours' ws process fronts Vite over http://, its wss process over
    // https://; bare's ws process over http://.
    const perScheme = async (kind, cfg, execArgv) => {
      const ports = {};
      for (const scheme of SCHEMES) {
        const p = await startChild(
          kind,
          { ...cfg, schemes: [scheme] },
          execArgv,
          `${kind}:${scheme}`,
        );
        Object.assign(ports, p);
      }
      return ports;
    };
    const paths = {
      ours: await perScheme(
        'ours',
        { ...material, targetPort: target.ws, vitePort: vite?.port },
        oursArgv,
      ),
      bare: await perScheme(
        'bare',
        { ...material, targetPort: target.ws, vitePort: vite?.port, bareHeapMb: BARE_HEAP_MB },
        process.execArgv,
      ),
      direct: target,
    };
    const cliPids = {};
    if (!PAGE_ONLY) {
      paths.cli = {};
      for (const scheme of SCHEMES) {
        const c = await startCli(scheme, target.ws, path.join(tmp, 'home'), tmp, env, stops);
        paths.cli[scheme] = c.port;
        cliPids[scheme] = c.pid;
      }
    }
    if (WITH_NGINX) paths.nginx = await startNginx(tmp, material, target.ws, stops, vite?.port);
    const kinds = Object.keys(paths);

    console.log(
      `bench/proxy: ${ROUNDS} round(s) (1 client: ${ROUNDS_ONE_CLIENT}) after ${WARMUP_ROUNDS} warm-up round(s) x ${SECONDS} s per cell and path (median rate, median of per-round ratios), closed loop, loopback; node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`,
    );
    console.log(
      `ours = WSS Studio's proxy engine (node ${oursArgv.join(' ')}), frame log on + live subscriber; cli = \`wss-studio proxy ... --json\` into a file (what a user runs); bare = ws<->ws Node pass-through, no logging; nginx = nginx-light reverse proxy; direct = the target\n`,
    );
    if (!PAGE_ONLY)
      console.log(
        `| scheme | size | clients | ${kinds.map((k) => `${k} msg/s`).join(' | ')} | ours/bare | cli/bare | ours/nginx | ${kinds.map((k) => `${k} p50/p99 ms`).join(' | ')} | CPU µs/msg ours / cli / bare | full GCs per 100k msgs ours / bare |`,
      );
    if (!PAGE_ONLY)
      console.log(
        `| --- | ---: | ---: | ${kinds.map(() => '---:').join(' | ')} | ---: | ---: | ---: | ${kinds.map(() => '---:').join(' | ')} | ---: | ---: |`,
      );
    const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    let worst = Infinity;
    let worstCli = Infinity;
    for (const scheme of PAGE_ONLY ? [] : SCHEMES) {
      for (const size of SIZES) {
        for (const clients of CLIENTS) {
          if (ONLY && !ONLY.includes(`${scheme}:${size}:${clients}`) && !ONLY.includes(scheme))
            continue;
          const acc = Object.fromEntries(
            kinds.map((k) => [k, { rates: [], rtts: [], cpu: [], gcs: 0, count: 0 }]),
          );
          const rounds = clients === 1 ? ROUNDS_ONE_CLIENT : ROUNDS;
          for (let round = -WARMUP_ROUNDS; round < rounds; round++) {
            if (round < 0) {
              // Warm-up: every path carries this cell's traffic once; nothing is recorded.
              for (const k of kinds) {
                const host = scheme === 'wss' ? 'localhost' : '127.0.0.1';
                await measure(
                  `${scheme}://${host}:${paths[k][scheme]}/`,
                  size,
                  clients,
                  material.caPem,
                );
              }
              continue;
            }
            for (const k of roundOrder(kinds, round)) {
              const host = scheme === 'wss' ? 'localhost' : '127.0.0.1';
              // The proxy process's CPU per message: less sensitive to a busy machine than the rate.
              const probe = k === 'ours' || k === 'bare' ? children[`${k}:${scheme}`] : undefined;
              let c0, c1;
              const cliPid = k === 'cli' ? cliPids[scheme] : undefined;
              const m = await measure(
                `${scheme}://${host}:${paths[k][scheme]}/`,
                size,
                clients,
                material.caPem,
                probe
                  ? { start: () => (c0 = probeOf(probe)), end: () => (c1 = probeOf(probe)) }
                  : cliPid
                    ? { start: () => (c0 = treeCpuMs(cliPid)), end: () => (c1 = treeCpuMs(cliPid)) }
                    : undefined,
              );
              if (cliPid) acc[k].cpu.push(((c1 - c0) * 1000) / m.count);
              if (probe) {
                const [p0, p1] = [await c0, await c1];
                acc[k].cpu.push((p1.cpu - p0.cpu) / m.count);
                acc[k].gcs += p1.fullGcs - p0.fullGcs;
                acc[k].count += m.count;
              }
              acc[k].rates.push(m.rate);
              for (const x of m.rtts) acc[k].rtts.push(x);
            }
            process.stderr.write('.');
          }
          const s = Object.fromEntries(kinds.map((k) => [k, summarize(acc[k])]));
          const ratio = median(acc.ours.rates.map((r, i) => r / acc.bare.rates[i]));
          worst = Math.min(worst, ratio);
          const cliRatio = median(acc.cli.rates.map((r, i) => r / acc.bare.rates[i]));
          if (VERBOSE) {
            const list = (xs, d) => xs.map((x) => x.toFixed(d)).join(' ');
            const per = (k) =>
              list(
                acc[k].rates.map((r, i) => r / acc.bare.rates[i]),
                3,
              );
            process.stderr.write(
              `\n${scheme}:${size}:${clients} per round: ours/bare ${per('ours')}; cli/bare ${per('cli')}; CPU µs/msg ours ${list(acc.ours.cpu, 1)}, cli ${list(acc.cli.cpu, 1)}, bare ${list(acc.bare.cpu, 1)}\n`,
            );
          }
          worstCli = Math.min(worstCli, cliRatio);
          const gcRate = (a) => ((a.gcs * 1e5) / Math.max(1, a.count)).toFixed(0);
          const vsNginx = acc.nginx
            ? median(acc.ours.rates.map((r, i) => r / acc.nginx.rates[i]))
            : NaN;
          console.log(
            `| ${scheme} | ${fmtSize(size)} | ${clients} | ${kinds.map((k) => fmt(s[k].rate)).join(' | ')} | ${(ratio * 100).toFixed(1)}% | ${(cliRatio * 100).toFixed(1)}% | ${Number.isNaN(vsNginx) ? '-' : `${(vsNginx * 100).toFixed(1)}%`} | ${kinds.map((k) => `${s[k].p50.toFixed(3)} / ${s[k].p99.toFixed(3)}`).join(' | ')} | ${median(acc.ours.cpu).toFixed(1)} / ${median(acc.cli.cpu).toFixed(1)} / ${median(acc.bare.cpu).toFixed(1)} | ${gcRate(acc.ours)} / ${gcRate(acc.bare)} |`,
          );
        }
      }
    }
    process.stderr.write('\n');
    console.log('');
    if (!PAGE_ONLY) {
      // What the heap flags cost: the proxy processes' resident memory once the table is done.
      const mb = async (name) => ((await probeOf(children[name])).rss / 1048576).toFixed(0);
      console.log(
        `resident memory after the table (ws / wss process): ours ${await mb('ours:ws')} / ${await mb('ours:wss')} MB, bare ${await mb('bare:ws')} / ${await mb('bare:wss')} MB`,
      );
    }
    if (!PAGE_ONLY)
      console.log(
        `target: ours >= 0.9x bare in every cell: worst ${(worst * 100).toFixed(1)}% -> ${worst >= 0.9 ? 'met' : 'NOT met'}; the CLI shell (cli): worst ${(worstCli * 100).toFixed(1)}% -> ${worstCli >= 0.9 ? 'met' : 'NOT met'}`,
      );
    if (vite) {
      const urls = {
        direct: `http://127.0.0.1:${vite.port}/`,
        ...(PAGE_AA ? { 'direct again': `http://127.0.0.1:${vite.port}/` } : {}),
        ours: `http://127.0.0.1:${paths.ours.vite}/`,
        'ours https': `https://localhost:${paths.ours.viteTls}/`,
        bare: `http://127.0.0.1:${paths.bare.vite}/`,
        ...(paths.nginx ? { nginx: `http://127.0.0.1:${paths.nginx.vite}/` } : {}),
      };
      const { rows, runs } = await chromiumPageLoads(urls, {
        rounds: PAGE_ROUNDS,
        modules: VITE_MODULES,
        env,
        cpu: {
          ours: () => cpuOf(children['ours:ws']),
          'ours https': () => cpuOf(children['ours:wss']),
          bare: () => cpuOf(children['bare:ws']),
        },
        onRound: () => process.stderr.write('.'),
      });
      process.stderr.write('\n');
      if (arg('--page-dump')) fs.writeFileSync(arg('--page-dump'), JSON.stringify(runs));
      console.log(
        `\nHTTP page load in headless Chromium: a Vite dev server, index + main.js + ${VITE_MODULES} modules, a fresh browser context per load (empty cache, new connections), ${PAGE_ROUNDS} rounds, paths interleaved; navigation timing (loadEventEnd)\n`,
      );
      console.log(
        '| path | protocol | median ms | p25 / p75 ms | x direct (median of per-round ratios) | 95% CI | request wait p50 / p95 / max ms | added ms per request (95% CI) | proxy CPU ms/load (µs/request) |',
      );
      console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
      for (const r of rows) {
        console.log(
          `| ${r.name} | ${r.protocol} | ${r.median.toFixed(1)} | ${r.p25.toFixed(1)} / ${r.p75.toFixed(1)} | ${r.ratio.toFixed(2)}x | ${r.ci[0].toFixed(2)}-${r.ci[1].toFixed(2)}x | ${r.waitP50.toFixed(1)} / ${r.waitP95.toFixed(1)} / ${r.waitMax.toFixed(1)} | ${r.name === 'direct' ? '-' : `${r.addedMs.toFixed(2)} (${r.addedCi[0].toFixed(2)} to ${r.addedCi[1].toFixed(2)})`} | ${r.cpuMs === undefined ? '-' : `${r.cpuMs.toFixed(1)} (${((r.cpuMs * 1000) / r.requests).toFixed(0)})`} |`,
        );
      }
      const row = Object.fromEntries(rows.map((r) => [r.name, r]));
      for (const k of ['ours', 'ours https']) {
        const r = row[k];
        console.log(
          `target: page load through ${k} <= 1.2x direct: ${r.ratio.toFixed(2)}x (95% CI ${r.ci[0].toFixed(2)}-${r.ci[1].toFixed(2)}x) -> ${r.ratio <= 1.2 ? 'met' : 'NOT met'}${r.ci[1] > 1.2 && r.ratio <= 1.2 ? ' (the interval reaches past 1.2x: re-run with more --page-rounds)' : ''}`,
        );
      }
    }
  } finally {
    for (const s of stops.reverse()) s();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * The paths in the order one round measures them: ours, bare, cli back to back with bare in the middle (each
 * ratio compares two neighbouring windows, so load that drifts over the round cancels out), the three
 * reversed on alternate rounds, and before or after the others on alternate pairs of rounds.
 */
function roundOrder(kinds, round) {
  const core = ['ours', 'bare', 'cli'].filter((k) => kinds.includes(k));
  if (round % 2) core.reverse();
  const others = kinds.filter((k) => !core.includes(k));
  if (round % 2) others.reverse();
  return (round >> 1) % 2 ? [...others, ...core] : [...core, ...others];
}

/**
 * `wss-studio proxy` for `scheme` (ws: http:// public side, wss: https://localhost with a certificate from
 * `home`) in front of the target, --json into a file as a user would log it; resolves its port and pid.
 */
async function startCli(scheme, targetPort, home, tmp, env, stops) {
  const out = path.join(tmp, `cli-${scheme}.jsonl`);
  const fd = fs.openSync(out, 'w');
  const publicUrl = scheme === 'wss' ? 'https://localhost:0' : 'http://127.0.0.1:0';
  const bin = path.join(root, 'bin', 'wss-studio.cjs');
  const child = spawn(
    process.execPath,
    [bin, 'proxy', publicUrl, `http://127.0.0.1:${targetPort}`, '--json'],
    { env: { ...env, WSS_STUDIO_HOME: home }, stdio: ['pipe', fd, 'inherit'] },
  );
  fs.closeSync(fd);
  stops.push(() => child.kill('SIGTERM'));
  const end = Date.now() + 30_000;
  for (;;) {
    const first = fs.readFileSync(out, 'utf8').split('\n')[0];
    if (first.endsWith('}')) return { port: JSON.parse(first).port, pid: child.pid };
    if (child.exitCode !== null || Date.now() > end)
      throw new Error(`wss-studio proxy (${scheme}) did not start: ${first}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise((r) => s.close(r));
  return port;
}

async function waitPort(port, what, ms = 30_000) {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((r) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`${what} did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** nginx-light as a WebSocket reverse proxy, in a temp prefix, 127.0.0.1 only, one worker. */
async function startNginx(tmp, m, targetPort, stops, vitePort) {
  if (!fs.existsSync(NGINX))
    throw new Error(
      `nginx is missing at ${NGINX}: install it with "apt-get install nginx-light" (or pass --no-nginx)`,
    );
  const dir = path.join(tmp, 'nginx');
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'cert.pem'), `${m.certPem.trim()}\n${m.caPem.trim()}\n`);
  fs.writeFileSync(path.join(dir, 'key.pem'), m.keyPem, { mode: 0o600 });
  const ws = await freePort();
  const wss = await freePort();
  const vite = vitePort ? await freePort() : undefined;
  const loc = `location / { proxy_pass http://127.0.0.1:${targetPort}; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; proxy_set_header Host $host; proxy_read_timeout 3600s; proxy_buffering off; }`;
  fs.writeFileSync(
    path.join(dir, 'nginx.conf'),
    `worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/logs/error.log warn; daemon off;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  server { listen 127.0.0.1:${ws}; ${loc} }
  server { listen 127.0.0.1:${wss} ssl; ssl_certificate ${dir}/cert.pem; ssl_certificate_key ${dir}/key.pem; ${loc} }
  ${vite ? `upstream vite { server 127.0.0.1:${vitePort}; keepalive 16; }\n  server { listen 127.0.0.1:${vite}; location / { proxy_pass http://vite; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; proxy_buffering off; } }` : ''}
}
`,
  );
  const child = spawn(
    NGINX,
    ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'logs', 'error.log')],
    { stdio: 'inherit' },
  );
  stops.push(() => child.kill('SIGTERM'));
  await waitPort(wss, 'nginx');
  return { ws, wss, vite };
}

/** A Vite dev server over an app of VITE_MODULES small modules (a chain of imports from main.js). */
async function startVite(tmp, env, stops) {
  const app = path.join(tmp, 'vite-app');
  fs.mkdirSync(app);
  fs.writeFileSync(
    path.join(app, 'index.html'),
    '<!doctype html><div id="app"></div><script type="module" src="/main.js"></script>\n',
  );
  const imports = Array.from(
    { length: VITE_MODULES },
    (_, i) => `import { v${i} } from './m${i}.js';`,
  ).join('\n');
  fs.writeFileSync(
    path.join(app, 'main.js'),
    `${imports}\ndocument.querySelector('#app').textContent = [${Array.from({ length: VITE_MODULES }, (_, i) => `v${i}`).join(',')}].join(' ');\n`,
  );
  for (let i = 0; i < VITE_MODULES; i++)
    fs.writeFileSync(
      path.join(app, `m${i}.js`),
      `export const v${i} = ${JSON.stringify('module ' + i + ' '.repeat(2000))};\n`,
    );
  fs.writeFileSync(
    path.join(app, 'vite.config.mjs'),
    "export default { logLevel: 'error', clearScreen: false, server: { allowedHosts: true } };\n",
  );
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'),
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--strictPort',
    ],
    { cwd: app, env, stdio: 'ignore' },
  );
  stops.push(() => child.kill('SIGTERM'));
  await waitPort(port, 'vite');
  await pageLoad(port); // warm Vite's transform cache: both paths then measure serving, not compiling
  return { port };
}

/** GET / then every module the page imports (breadth first, 6 at a time, keep-alive): total ms. */
async function pageLoad(port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 6 });
  const get = (p) =>
    new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: p, agent, headers: { Accept: '*/*' } }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
  const t0 = performance.now();
  const html = await get('/');
  const seen = new Set();
  let queue = [...html.matchAll(/src="(\/[^"]+)"/g)].map((m) => m[1]);
  let requests = 1;
  while (queue.length) {
    const batch = queue.filter((p) => !seen.has(p));
    batch.forEach((p) => seen.add(p));
    const bodies = await Promise.all(batch.map(get));
    requests += batch.length;
    queue = bodies.flatMap((b) =>
      [...b.matchAll(/(?:from|import)\s*["'](\/[^"']+)["']/g)].map((m) => m[1]),
    );
  }
  const ms = performance.now() - t0;
  agent.destroy();
  return { ms, requests };
}
