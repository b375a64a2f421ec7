#!/usr/bin/env node
// bench/rules: the cost of rules on an echo server, in one run.
//   1. throughput (closed loop, 32 B JSON text messages) of the same engine with: no rules (plain echo);
//      100 rules none of which match (text/contains/hex/opcode tests); 100 non-matching rules that include
//      30 JSON-pointer and 10 RE2 regex tests (the message is then parsed once); one matching rule that
//      answers with a templated JSON reply ({{json.id}}, {{now.iso}}, {{counter}}).
//   2. a periodic push at the minimum interval (10 ms) to N connections: gaps seen by sampled clients.
//   node bench/rules.mjs [--rounds R] [--seconds S] [--clients C] [--conns N] [--push-seconds P]
//   defaults: 5 rounds x 0.6 s, 16 clients, 1000 push connections for 3 s. Smoke: --rounds 1 --seconds 0.2
//   --conns 50 --push-seconds 0.5
// The server runs in a child process (one core), the clients here (the other core). Frame log on, with a
// live subscriber, as in the app. NODE_EXTRA_CA_CERTS is unset for the child.
import { build } from 'esbuild';
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const self = fileURLToPath(import.meta.url);
const require = createRequire(import.meta.url);
const { WebSocket } = require('ws');

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const ROUNDS = arg('rounds', 5);
const SECONDS = arg('seconds', 0.6);
const CLIENTS = arg('clients', 16);
const CONNS = arg('conns', 1000);
const PUSH_SECONDS = arg('push-seconds', 3);
const EVERY = 10;
const KINDS = ['plain', 'rules100', 'rules100regex', 'templated'];

/**
 * 100 rules, none matching the bench message {"id":N,"m":"bench","c":K}. routing: the shapes real rules
 * files have (40 exact texts, 30 "type" routes by JSON Pointer, 20 contains, 10 binary-only);
 * regex: the same with 10 of the contains replaced by RE2 regular expressions.
 */
function nonMatching(kind) {
  const rules = [];
  for (let i = 0; i < 100; i++) {
    const k = i % 10;
    let match;
    if (k < 4) match = { text: `never matching text number ${i}` };
    else if (k < 7) match = { pointer: '/type', value: `never-${i}` };
    else if (k === 7)
      match = kind === 'regex' ? { regex: `^never-${i}-[a-z]+$` } : { contains: `absent-${i}` };
    else if (k === 8) match = { contains: `absent-${i}` };
    else match = i % 20 === 9 ? { hexPrefix: 'deadbeef' } : { opcode: 'binary' };
    rules.push({ match, reply: { text: 'x' } });
  }
  return { rules };
}

const TEMPLATED = {
  rules: [
    {
      match: { pointer: '/m', value: 'bench' },
      reply: { json: { id: '{{json.id}}', at: '{{now.iso}}', n: '{{counter}}' } },
    },
  ],
};

// --- child: the servers ---------------------------------------------------------------------------------
if (process.argv[2] === '--child') {
  const { bundle } = JSON.parse(process.argv[3]);
  const echo = require(bundle);
  const manager = new echo.ServerManager({ logOptions: { capacity: 10_000 } });
  let seen = 0;
  manager.log.subscribe((b) => (seen += b.events.length));
  const ports = {};
  for (const kind of [...KINDS, 'push']) {
    manager.add({ id: kind, scheme: 'ws', mode: kind === 'push' ? 'silent' : 'echo' });
    if (kind === 'rules100') manager.behaviours.set(kind, nonMatching('routing'));
    if (kind === 'rules100regex') manager.behaviours.set(kind, nonMatching('regex'));
    if (kind === 'templated') manager.behaviours.set(kind, TEMPLATED);
    ports[kind] = (await manager.start(kind)).port;
  }
  process.send({ ports });
  process.on('message', (m) => {
    if (m === 'exit') process.exit(0);
    if (m?.push === 'start') {
      const st = manager.behaviours.get('push').startPush({
        id: 'bench',
        everyMs: EVERY,
        to: m.to,
        message: { text: 'tick {{counter}}' },
      });
      process.send({ started: st.id });
    }
    if (m?.push === 'stop')
      process.send({ stopped: manager.behaviours.get('push').stopPush('bench') });
  });
} else {
  await main();
}

async function closedLoop(url, clients, seconds) {
  const sockets = await Promise.all(
    Array.from({ length: clients }, () => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      return new Promise((res, rej) => {
        ws.once('open', () => res(ws));
        ws.once('error', rej);
      });
    }),
  );
  let count = 0;
  let running = true;
  const loops = sockets.map(
    (ws, i) =>
      new Promise((resolve) => {
        let id = 0;
        const send = () => ws.send(`{"id":${++id},"m":"bench","c":${i}}`);
        ws.on('message', () => {
          count++;
          if (running) send();
          else resolve();
        });
        send();
      }),
  );
  await new Promise((r) => setTimeout(r, 150)); // warm-up
  const c0 = count;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const rate = ((count - c0) * 1000) / (performance.now() - t0);
  running = false;
  await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 1000))]);
  for (const ws of sockets) ws.terminate();
  return rate;
}

async function pushJitter(child, url, conns, to) {
  const sockets = [];
  for (let i = 0; i < conns; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, conns - i) }, () => {
        const ws = new WebSocket(url, { perMessageDeflate: false });
        return new Promise((res, rej) => {
          ws.once('open', () => res(ws));
          ws.once('error', rej);
        });
      }),
    );
    sockets.push(...batch);
  }
  const sampled = sockets.filter((_, i) => i % Math.max(1, Math.floor(conns / 10)) === 0);
  const times = sampled.map(() => []);
  let received = 0;
  sockets.forEach((ws) => ws.on('message', () => received++));
  sampled.forEach((ws, i) => ws.on('message', () => times[i].push(performance.now())));
  child.send({ push: 'start', to });
  await new Promise((r) => setTimeout(r, PUSH_SECONDS * 1000));
  child.send({ push: 'stop' });
  const stopped = await new Promise((r) => child.on('message', (m) => m.stopped && r(m.stopped)));
  for (const ws of sockets) ws.terminate();
  const gaps = times.flatMap((t) => t.slice(1).map((x, i) => x - t[i]));
  const dev = gaps.map((g) => Math.abs(g - EVERY)).sort((a, b) => a - b);
  const q = (p) => dev[Math.min(dev.length - 1, Math.floor(dev.length * p))] ?? NaN;
  const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  return {
    mean,
    p50: q(0.5),
    p99: q(0.99),
    ticks: stopped.ticks,
    skipped: stopped.skipped,
    sent: stopped.sent,
    received,
  };
}

/**
 * CPU time per message of the rules engine alone (process.cpuUsage over 100,000 messages, in this
 * process): robust on a busy machine where the throughput table above is noisy.
 */
function cpuPerMessage(engine) {
  const manager = new engine.ServerManager();
  const peer = {
    conn: 1,
    index: 1,
    path: '/',
    query: new URLSearchParams(),
    headers: {},
    protocol: '',
    open: true,
    send: () => true,
    close: () => {},
  };
  const data = Buffer.from('{"id":123,"m":"bench","c":3}');
  console.log('rules engine CPU per message (100,000 messages, in-process):');
  console.log('| rules | us CPU / message |');
  console.log('| --- | ---: |');
  const sets = {
    none: {},
    '100 non-matching (routing)': nonMatching('routing'),
    '100 non-matching incl. 10 RE2 regex': nonMatching('regex'),
    '1 matching, templated JSON reply (render only)': TEMPLATED,
  };
  for (const [label, rules] of Object.entries(sets)) {
    const id = `cpu${Object.keys(sets).indexOf(label)}`;
    manager.add({ id, scheme: 'ws' });
    manager.behaviours.set(id, rules);
    const b = manager.behaviours.get(id);
    b.connected(peer);
    for (let i = 0; i < 20_000; i++) b.message(peer, data, false);
    const c = process.cpuUsage();
    for (let i = 0; i < 100_000; i++) b.message(peer, data, false);
    const u = process.cpuUsage(c);
    console.log(`| ${label} | ${((u.user + u.system) / 100_000).toFixed(2)} |`);
  }
  console.log('');
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wss-bench-rules-'));
  let child;
  try {
    const bundle = path.join(tmp, 'echo.cjs');
    await build({
      entryPoints: [path.join(root, 'bench', 'echo-entry.ts')],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      outfile: bundle,
      logLevel: 'warning',
    });
    cpuPerMessage(require(bundle));
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    child = fork(self, ['--child', JSON.stringify({ bundle })], {
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const { ports } = await new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (c) => reject(new Error(`server exited with ${c}`)));
    });
    console.log(
      `bench/rules: ${ROUNDS} rounds x ${SECONDS} s, ${CLIENTS} clients, closed loop, 32 B JSON text, loopback; node ${process.version}, ${os.cpus().length} CPUs`,
    );
    const rates = Object.fromEntries(KINDS.map((k) => [k, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < KINDS.length; k++) {
        const kind = KINDS[(k + r) % KINDS.length];
        rates[kind].push(await closedLoop(`ws://127.0.0.1:${ports[kind]}/`, CLIENTS, SECONDS));
      }
      process.stderr.write('.');
    }
    process.stderr.write('\n');
    const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const ratio = (kind) => median(rates[kind].map((x, i) => x / rates.plain[i]));
    console.log('\n| server | msg/s (median) | vs plain echo (paired median) |');
    console.log('| --- | ---: | ---: |');
    const label = {
      plain: 'plain echo, no rules',
      rules100:
        '100 non-matching rules (40 text, 30 JSON-pointer routes, 20 contains, 10 binary-only)',
      rules100regex: 'the same with 10 contains replaced by RE2 regexes',
      templated: '1 matching rule, templated JSON reply',
    };
    for (const k of KINDS) {
      console.log(
        `| ${label[k]} | ${Math.round(median(rates[k]))} | ${(ratio(k) * 100).toFixed(1)}% |`,
      );
    }
    const worst = ratio('rules100');
    console.log(
      `\ntarget: 100 non-matching rules >= 90% of plain echo: ${(worst * 100).toFixed(1)}% -> ${worst >= 0.9 ? 'met' : 'NOT met'}`,
    );
    console.log(
      `10 RE2 regexes among them: ${(ratio('rules100regex') * 100).toFixed(1)}% of plain echo (RE2JS is pure JavaScript: ~0.5 us per test)`,
    );
    console.log(
      `templated JSON reply costs ${((1 - ratio('templated')) * 100).toFixed(1)}% of plain echo throughput`,
    );

    console.log(
      `\npush every ${EVERY} ms (the minimum) to ${CONNS} connections for ${PUSH_SECONDS} s, gaps seen by ${Math.min(CONNS, 10)} sampled clients:`,
    );
    console.log(
      '| mode | mean gap ms | p50 abs(gap-10) ms | p99 abs(gap-10) ms | ticks | skipped | sent | received |',
    );
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const to of ['broadcast', 'each']) {
      const j = await pushJitter(child, `ws://127.0.0.1:${ports.push}/`, CONNS, to);
      console.log(
        `| ${to} | ${j.mean.toFixed(2)} | ${j.p50.toFixed(2)} | ${j.p99.toFixed(2)} | ${j.ticks} | ${j.skipped} | ${j.sent} | ${j.received} |`,
      );
    }
    child.send('exit');
  } finally {
    child?.kill();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
