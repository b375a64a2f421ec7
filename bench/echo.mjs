#!/usr/bin/env node
// bench/echo: our echo server (frame log on, with a subscriber draining it like the UI does) against a bare
// `ws` echo server with no logging, run the same way. For ws and wss, 32 B / 1 KiB / 64 KiB messages, 1 and
// 64 concurrent clients, closed loop (each client sends, waits for its echo, sends again):
// messages per second and round-trip p50/p99.
//   node bench/echo.mjs [--seconds S] [--rounds R]   (default 5 rounds of 0.6 s per cell and server: ~2.5 min)
// Each server runs in its own child process (one core), the clients in this process (the other core).
// The two servers are measured alternately per cell so that machine load hits both alike.
// NODE_EXTRA_CA_CERTS is unset for the children: it is not our cost.
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { benchTls, bundleEngine } from './engine-bundle.mjs';
import { fmt, fmtSize, measure as measureOnce, median, summarize } from './client.mjs';

const self = fileURLToPath(import.meta.url);
const require = createRequire(import.meta.url);
const { WebSocketServer } = require('ws');

const secArg = process.argv.indexOf('--seconds');
const SECONDS = secArg > 0 ? Number(process.argv[secArg + 1]) : 0.6;
const measure = (url, size, clients, ca) => measureOnce(url, size, clients, ca, SECONDS);
const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 5;
const SIZES = [32, 1024, 64 * 1024];
const CLIENTS = [1, 64];
const SCHEMES = ['ws', 'wss'];
const onlyArg = process.argv.indexOf('--only');
const ONLY = onlyArg > 0 ? process.argv[onlyArg + 1] : undefined; // e.g. ws:32:1

// --- child: one server ---------------------------------------------------------------------------------------
if (process.argv[2] === '--child') {
  const kind = process.argv[3];
  const { bundle, certPem, keyPem, caPem } = JSON.parse(process.argv[4]);
  const ports = {};
  if (kind === 'ours') {
    const echo = require(bundle);
    const manager = new echo.ServerManager({ resolveCert: () => ({ certPem, keyPem, caPem }) });
    let seen = 0;
    manager.log.subscribe((b) => (seen += b.events.length)); // a live viewer, as in the app
    manager.add({ id: 'ws', scheme: 'ws' });
    manager.add({ id: 'wss', scheme: 'wss', certId: 'bench' });
    ports.ws = (await manager.start('ws')).port;
    ports.wss = (await manager.start('wss')).port;
  } else {
    const http = require('node:http');
    const https = require('node:https');
    for (const scheme of SCHEMES) {
      const server =
        scheme === 'wss'
          ? https.createServer({
              cert: `${certPem.trim()}\n${caPem.trim()}\n`,
              key: keyPem,
              minVersion: 'TLSv1.2',
            })
          : http.createServer();
      const wss = new WebSocketServer({
        server,
        maxPayload: 16 * 1024 * 1024,
        perMessageDeflate: false,
      });
      wss.on('connection', (ws) =>
        ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })),
      );
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      ports[scheme] = server.address().port;
    }
  }
  process.send({ ports });
  process.on('message', (m) => m === 'exit' && process.exit(0));
} else {
  await main();
}

// --- parent: clients and the table ------------------------------------------------------------------------
async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wss-bench-echo-'));
  try {
    const bundle = await bundleEngine('echo-entry.ts', path.join(tmp, 'echo.cjs'));
    const engine = require(bundle);
    const material = { bundle, ...(await benchTls(engine, path.join(tmp, 'home'))) };

    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const servers = {};
    for (const kind of ['ours', 'bare']) {
      const child = fork(self, ['--child', kind, JSON.stringify(material)], {
        env,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const { ports } = await new Promise((resolve, reject) => {
        child.once('message', resolve);
        child.once('exit', (c) => reject(new Error(`${kind} server exited with ${c}`)));
      });
      servers[kind] = { child, ports };
    }

    console.log(
      `bench/echo: ${ROUNDS} rounds x ${SECONDS} s per cell and server (median rate), closed loop, loopback; node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`,
    );
    console.log(
      'ours = WSS Studio echo server, frame log on (10,000-event ring, live subscriber); bare = ws echo, no logging\n',
    );
    console.log(
      '| scheme | size | clients | ours msg/s | bare msg/s | ours vs bare (paired median) | ours p50 / p99 ms | bare p50 / p99 ms |',
    );
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    const results = [];
    for (const size of SIZES) {
      for (const clients of CLIENTS) {
        const runs = SCHEMES.flatMap((scheme) =>
          ['ours', 'bare'].map((kind) => ({ scheme, kind })),
        );
        if (ONLY && !SCHEMES.some((sc) => ONLY === `${sc}:${size}:${clients}`)) continue;
        // Each round measures all four (ours/bare x ws/wss) back to back, rotating the order, so that
        // machine load and drift hit all alike; ratios are taken within a round, then the median.
        const acc = {};
        for (const r of runs) acc[`${r.scheme}/${r.kind}`] = { rates: [], rtts: [] };
        for (let round = 0; round < ROUNDS; round++) {
          for (let k = 0; k < runs.length; k++) {
            const { scheme, kind } = runs[(k + round) % runs.length];
            const host = scheme === 'wss' ? 'localhost' : '127.0.0.1';
            const m = await measure(
              `${scheme}://${host}:${servers[kind].ports[scheme]}/`,
              size,
              clients,
              material.caPem,
            );
            acc[`${scheme}/${kind}`].rates.push(m.rate);
            for (const x of m.rtts) acc[`${scheme}/${kind}`].rtts.push(x);
          }
          process.stderr.write('.');
        }
        for (const scheme of SCHEMES) {
          const ours = acc[`${scheme}/ours`];
          const bare = acc[`${scheme}/bare`];
          results.push({
            scheme,
            size,
            clients,
            ours: summarize(ours),
            bare: summarize(bare),
            ratio: median(ours.rates.map((r, i) => r / bare.rates[i])),
            // ours wss against ours ws, same round
            tlsRatio: median(acc[`wss/ours`].rates.map((r, i) => r / acc[`ws/ours`].rates[i])),
          });
        }
      }
    }
    process.stderr.write('\n');
    results.sort(
      (a, b) =>
        SCHEMES.indexOf(a.scheme) - SCHEMES.indexOf(b.scheme) ||
        a.size - b.size ||
        a.clients - b.clients,
    );
    for (const r of results) {
      const rel = ((r.ratio - 1) * 100).toFixed(1);
      console.log(
        `| ${r.scheme} | ${fmtSize(r.size)} | ${r.clients} | ${fmt(r.ours.rate)} | ${fmt(r.bare.rate)} | ${rel > 0 ? '+' : ''}${rel}% | ${r.ours.p50.toFixed(3)} / ${r.ours.p99.toFixed(3)} | ${r.bare.p50.toFixed(3)} / ${r.bare.p99.toFixed(3)} |`,
      );
    }
    console.log('');
    const worst = results.reduce((w, r) => Math.min(w, r.ratio), Infinity);
    console.log(
      `target: overhead over bare ws <= 10%: worst cell ours/bare = ${(worst * 100).toFixed(1)}% -> ${worst >= 0.9 ? 'met' : 'NOT met'}`,
    );
    for (const r of results.filter((x) => x.scheme === 'wss' && x.size === 65536)) {
      console.log(
        `target: wss >= 80% of ws throughput at 64 KiB, ${r.clients} client(s), ours: ${(r.tlsRatio * 100).toFixed(1)}% -> ${r.tlsRatio >= 0.8 ? 'met' : 'NOT met'}`,
      );
    }
    for (const { child } of Object.values(servers)) child.send('exit');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
