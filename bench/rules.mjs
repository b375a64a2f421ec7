#!/usr/bin/env node
// bench/rules: the cost of rules on an echo server, in one run.
//   0. the rules engine's CPU per message in this process (load-insensitive).
//   1. throughput (closed loop, 32 B JSON text messages) of the same engine with: no rules (plain echo);
//      100 rules none of which match (a mix of every kind, see nonMatching); the same with 5 RE2 regexes;
//      one matching rule that answers with a templated JSON reply ({{json.id}}, {{now.iso}}, {{counter}}).
//      Besides msg/s, the server process's CPU per message (process.cpuUsage in the child): on this
//      one-core-bound server the ratio of CPU per message is the throughput ratio without the noise of
//      other processes competing for the cores.
//   2. a periodic push at the minimum interval (10 ms) to N connections: gaps seen by sampled clients.
//   node bench/rules.mjs [--rounds R] [--seconds S] [--clients C] [--conns N] [--push-seconds P] [--only cpu|echo|push]
//   defaults: 5 rounds x 0.6 s, 16 clients, 1000 push connections for 3 s. Smoke: --rounds 1 --seconds 0.2
//   --conns 50 --push-seconds 0.5
// The server runs in a child process (one core), the clients here (the other core). Frame log on, with a
// live subscriber, as in the app. NODE_EXTRA_CA_CERTS is unset for the child.
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { bundleEngine } from './engine-bundle.mjs';

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
const ONLY = (() => {
  const i = process.argv.indexOf('--only');
  return i > 0 ? process.argv[i + 1] : undefined;
})();
const KINDS = ['plain', 'rules100', 'rules100regex', 'templated'];

/**
 * 100 rules, none matching the bench message {"id":N,"m":"bench","c":K} sent to path "/": the shapes real
 * rules files have. routing: 30 exact texts, 20 "type" routes and 10 "method" routes by JSON Pointer value,
 * 5 "field exists" pointers, 15 contains, 5 on another path (connection condition), 5 on the first message
 * only (messageNumber), 10 binary-only (hex prefix / opcode). regex: the same with the 15 contains
 * replaced by 10 contains and 5 RE2 regular expressions.
 */
const MIX =
  '30 exact texts, 30 JSON-pointer value routes, 5 pointer exists, 15 contains, 5 path, 5 messageNumber, 10 binary-only';
function nonMatching(kind) {
  const rules = [];
  for (let i = 0; i < 100; i++) {
    let match;
    if (i < 30) match = { text: `never matching text number ${i}` };
    else if (i < 50) match = { pointer: '/type', value: `never-${i}` };
    else if (i < 60) match = { pointer: '/method', value: `never.${i}` };
    else if (i < 65) match = { pointer: `/error${i}` };
    else if (i < 80)
      match =
        kind === 'regex' && i >= 75
          ? { regex: `^never-${i}-[a-z]+$` }
          : { contains: `absent-${i}` };
    else if (i < 85) match = { path: `/admin${i}`, contains: 'bench' };
    else if (i < 90) match = { messageNumber: 1, text: `hello ${i}` };
    else match = i % 2 ? { hexPrefix: 'deadbeef' } : { opcode: 'binary' };
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
  let pushCpu;
  process.on('message', (m) => {
    if (m === 'exit') process.exit(0);
    if (m === 'cpu') process.send({ cpu: process.cpuUsage() });
    if (m?.push === 'start') {
      pushCpu = process.cpuUsage();
      const st = manager.behaviours.get('push').startPush({
        id: 'bench',
        everyMs: EVERY,
        to: m.to,
        message: m.message,
      });
      process.send({ started: st.id });
    }
    if (m?.push === 'stop') {
      const stopped = manager.behaviours.get('push').stopPush('bench');
      const u = process.cpuUsage(pushCpu);
      process.send({ stopped: { ...stopped, cpuMs: (u.user + u.system) / 1000 } });
    }
  });
} else {
  await main();
}

/** Send `msg` to the child and resolve with the `key` field of its first answer that has one. */
function ask(child, msg, key) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m && typeof m === 'object' && key in m) {
        child.off('message', on);
        resolve(m[key]);
      }
    };
    child.on('message', on);
    child.send(msg);
  });
}

function cpuUs(a, b) {
  return b.user - a.user + (b.system - a.system);
}

/** msg/s seen by the clients, and the server process's CPU us per message over the same window. */
async function closedLoop(child, url, clients, seconds) {
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
  const cpu0 = await ask(child, 'cpu', 'cpu');
  const c0 = count;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const c1 = count;
  const rate = ((c1 - c0) * 1000) / (performance.now() - t0);
  const cpu1 = await ask(child, 'cpu', 'cpu');
  // Messages answered while the server's CPU was counted (up to its answer to the second query).
  const cpuPerMsg = cpuUs(cpu0, cpu1) / Math.max(1, count - c0);
  running = false;
  await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 1000))]);
  for (const ws of sockets) ws.terminate();
  return { rate, cpuPerMsg };
}

async function pushJitter(child, url, conns, to, message) {
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
  await ask(child, { push: 'start', to, message }, 'started');
  await new Promise((r) => setTimeout(r, PUSH_SECONDS * 1000));
  const stopped = await ask(child, { push: 'stop' }, 'stopped');
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
    cpuPerTick: stopped.cpuMs / Math.max(1, stopped.ticks),
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
  const out = [];
  const sets = {
    none: {},
    [`100 non-matching (${MIX})`]: nonMatching('routing'),
    '100 non-matching incl. 5 RE2 regex': nonMatching('regex'),
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
    const us = (u.user + u.system) / 100_000;
    out.push(us);
    console.log(`| ${label} | ${us.toFixed(2)} |`);
  }
  console.log('');
  /** none, 100 non-matching, with regexes, templated: us per message. */
  return { none: out[0], rules100: out[1], templated: out[3] };
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wss-bench-rules-'));
  let child;
  try {
    const bundle = await bundleEngine('echo-entry.ts', path.join(tmp, 'echo.cjs'));
    const engine = !ONLY || ONLY === 'cpu' ? cpuPerMessage(require(bundle)) : undefined;
    if (ONLY === 'cpu') return;
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    child = fork(self, ['--child', JSON.stringify({ bundle })], {
      env,
      ...(process.env.BENCH_CHILD_PROF
        ? { execArgv: ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CHILD_PROF}`] }
        : {}),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const { ports } = await new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (c) => reject(new Error(`server exited with ${c}`)));
    });
    if (!ONLY || ONLY === 'echo') await echoTable(child, ports, engine);
    if (!ONLY || ONLY === 'push') await pushTable(child, ports);
    child.send('exit');
    await new Promise((r) => {
      child.once('exit', r);
      setTimeout(r, 5000).unref();
    });
  } finally {
    child?.kill();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function echoTable(child, ports, engine) {
  console.log(
    `bench/rules: ${ROUNDS} rounds x ${SECONDS} s, ${CLIENTS} clients, closed loop, 32 B JSON text, loopback; node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}`,
  );
  // One unmeasured pass over every server first: the server's code is compiled (JIT) before any round counts.
  for (const kind of KINDS)
    await closedLoop(child, `ws://127.0.0.1:${ports[kind]}/`, CLIENTS, Math.min(SECONDS, 0.3));
  const runs = Object.fromEntries(KINDS.map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < KINDS.length; k++) {
      const kind = KINDS[(k + r) % KINDS.length];
      runs[kind].push(await closedLoop(child, `ws://127.0.0.1:${ports[kind]}/`, CLIENTS, SECONDS));
    }
    process.stderr.write('.');
  }
  process.stderr.write('\n');
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const ratio = (kind) => median(runs[kind].map((x, i) => x.rate / runs.plain[i].rate));
  const cpu = (kind) => median(runs[kind].map((x) => x.cpuPerMsg));
  // Throughput-equivalent ratio from CPU: plain's CPU per message over this one's.
  const cpuRatio = (kind) => cpu('plain') / cpu(kind);
  console.log(
    '\n| server | msg/s (median) | vs plain echo (paired median) | server CPU us/msg (median) | vs plain echo by CPU |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: |');
  const label = {
    plain: 'plain echo, no rules',
    rules100: `100 non-matching rules (${MIX})`,
    rules100regex: 'the same with 5 of the contains replaced by RE2 regexes',
    templated: '1 matching rule, templated JSON reply',
  };
  for (const k of KINDS) {
    console.log(
      `| ${label[k]} | ${Math.round(median(runs[k].map((x) => x.rate)))} | ${(ratio(k) * 100).toFixed(1)}% | ${cpu(k).toFixed(2)} | ${(cpuRatio(k) * 100).toFixed(1)}% |`,
    );
  }
  const verdict = (x) => `${(x * 100).toFixed(1)}% -> ${x >= 0.9 ? 'met' : 'NOT met'}`;
  console.log(
    `\ntarget: 100 non-matching rules >= 90% of plain echo: by msg/s ${verdict(ratio('rules100'))}; by server CPU per message ${verdict(cpuRatio('rules100'))}`,
  );
  if (engine) {
    // The load-insensitive figure: the rules engine's own in-process CPU for the 100 rules (over no
    // rules), against the whole server's CPU per plain echo (socket writes included).
    const share = 1 - (engine.rules100 - engine.none) / cpu('plain');
    console.log(
      `in-process: the 100 rules cost ${(engine.rules100 - engine.none).toFixed(2)} us per message on top of ${cpu('plain').toFixed(2)} us of server CPU per plain echo -> ${verdict(share)}`,
    );
  }
  console.log(
    `5 RE2 regexes among them: ${(ratio('rules100regex') * 100).toFixed(1)}% of plain echo by msg/s, ${(cpuRatio('rules100regex') * 100).toFixed(1)}% by CPU (RE2JS is pure JavaScript)`,
  );
  console.log(
    `templated JSON reply: ${(cpu('templated') - cpu('plain')).toFixed(2)} us more server CPU per message than plain echo; ${(ratio('templated') * 100).toFixed(1)}% of its msg/s`,
  );
}

async function pushTable(child, ports) {
  console.log(
    `\npush every ${EVERY} ms (the minimum) to ${CONNS} connections for ${PUSH_SECONDS} s, gaps seen by ${Math.min(CONNS, 10)} sampled clients:`,
  );
  console.log(
    '| mode | mean gap ms | p50 abs(gap-10) ms | p99 abs(gap-10) ms | ticks | skipped | sent | received | server CPU ms per tick |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const modes = [
    ['broadcast', 'broadcast', { text: 'tick {{counter}}' }],
    ['each, per-connection template (tick {{counter}})', 'each', { text: 'tick {{counter}}' }],
    [
      'each, same for every connection ({"type":"tick","at":"{{now.iso}}"})',
      'each',
      { json: { type: 'tick', at: '{{now.iso}}' } },
    ],
  ];
  for (const [label, to, message] of modes) {
    const j = await pushJitter(child, `ws://127.0.0.1:${ports.push}/`, CONNS, to, message);
    console.log(
      `| ${label} | ${j.mean.toFixed(2)} | ${j.p50.toFixed(2)} | ${j.p99.toFixed(2)} | ${j.ticks} | ${j.skipped} | ${j.sent} | ${j.received} | ${j.cpuPerTick.toFixed(2)} |`,
    );
  }
}
