#!/usr/bin/env node
// Over 400 lines: one runnable benchmark: every shell is measured in the same run against the same bare ws server.
// bench/shells: the shells users actually run, against a bare `ws` echo server, in one run on the same
// client (1 KiB binary messages, 64 clients, closed loop): messages per second and round-trip p50/p99.
//   node bench/shells.mjs [--seconds S] [--rounds R] [--wss] [--only NAME,...] [--cpu-prof DIR]
// Rows (each server in its own process, the clients in this one):
//   bare ws        a `ws` echo server, no logging
//   serve          `wss-studio serve` (dist/, the real CLI), stdout a pipe drained like a terminal
//   serve --json   the same with --json, stdout a file
//   web mode       `wss-studio ui` with headless Chromium (playwright-core) on the Frame log screen, live
//   electron IPC   the engine with the desktop bridge's event forwarding (main/app/ipc.ts), each push
//                  structured-cloned with v8.serialize (what webContents.send does; no Electron binary here)
//   engine alone   the same engine with no subscriber: the engine's own cost, apart from any shell's
// Targets in every row: throughput >= 0.9x bare ws, p99 <= 2x bare ws. Rounds rotate the order of the rows
// so that machine load hits all alike; throughput ratios are taken within a round, then the median.
// NODE_EXTRA_CA_CERTS is unset for every child: it is not our cost.
import { fork, spawn, spawnSync } from 'node:child_process';
import { treeCpuMs } from './proc.mjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { bundleEngine } from './engine-bundle.mjs';
import { fmt, measure, median, sleep, summarize } from './client.mjs';
import { launchChromium, requireChromium } from './chromium.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const self = fileURLToPath(import.meta.url);
const require = createRequire(import.meta.url);
const bin = path.join(root, 'bin', 'wss-studio.cjs');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const SECONDS = Number(arg('--seconds', '1'));
const ROUNDS = Number(arg('--rounds', '5'));
const SIZE = 1024;
const CLIENTS = 64;
const SCHEMES = process.argv.includes('--wss') ? ['ws', 'wss'] : ['ws'];
const ONLY = arg('--only', '').split(',').filter(Boolean);
/** --cpu-prof DIR: every server process writes a V8 CPU profile there when it stops. */
const PROF = arg('--cpu-prof', '');
const NODE_FLAGS = PROF ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(PROF)] : [];
/** Targets: every shell within these of bare ws. */
const MIN_RATE_RATIO = 0.9;
const MAX_P99_RATIO = 2;

if (process.argv[2] === '--child') {
  await child(process.argv[3], JSON.parse(process.argv[4]));
} else {
  await main();
}

// --- children: the bare server, the engine with the Electron bridge ------------------------------------------
async function child(kind, o) {
  const ports = {};
  if (kind === 'bare') {
    const { WebSocketServer } = require('ws');
    const http = require('node:http');
    const https = require('node:https');
    for (const scheme of o.schemes) {
      const server =
        scheme === 'wss'
          ? https.createServer({ cert: o.certPem, key: o.keyPem, minVersion: 'TLSv1.2' })
          : http.createServer();
      const wss = new WebSocketServer({ server, perMessageDeflate: false });
      wss.on('connection', (ws) =>
        ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })),
      );
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      ports[scheme] = server.address().port;
    }
  } else {
    // The desktop app's event path without Electron: forwardEvents() is what main/app/main.ts binds to
    // webContents.send, which structured-clones every argument (v8.serialize is that serializer).
    const { createEngine, forwardEvents } = require(o.bundle);
    const engine = createEngine({ home: o.home, shell: 'electron', env: { ...process.env } });
    let bytes = 0;
    // Without forwarding ("engine alone"): the engine's own cost, to tell it from the bridge's.
    if (o.forward) {
      forwardEvents(engine, (channel, stream, data) => {
        bytes += v8.serialize([channel, stream, data]).length;
      });
    }
    for (const scheme of o.schemes) {
      const add = await engine.call('server.add', {
        name: `bench ${scheme}`,
        scheme,
        port: 0,
        ...(scheme === 'wss' ? { certId: o.certId } : {}),
      });
      if (!add.ok) throw new Error(JSON.stringify(add.error));
      const started = await engine.call('server.start', { id: add.result.id });
      if (!started.ok) throw new Error(JSON.stringify(started.error));
      ports[scheme] = started.result.port;
    }
    process.on('message', (m) => m === 'bytes' && process.send({ bytes }));
  }
  process.send({ ports });
  process.on('message', (m) => m === 'exit' && process.exit(0));
}

// --- parent ------------------------------------------------------------------------------------------------
async function main() {
  for (const f of ['dist/cli.cjs', 'dist/renderer/index.html']) {
    if (!fs.existsSync(path.join(root, f))) {
      console.error(
        `error: failed to run benchmark: ${f} is missing\nhint: run "npm run build" first`,
      );
      process.exit(1);
    }
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wss-bench-shells-'));
  const env = {
    ...process.env,
    WSS_STUDIO_HOME: path.join(tmp, 'state'),
    HOME: path.join(tmp, 'home'),
    WSS_STUDIO_TRUST_ROOT: path.join(tmp, 'trust-root'),
    XDG_DATA_HOME: path.join(tmp, 'home', '.local', 'share'),
    XDG_CONFIG_HOME: path.join(tmp, 'home', '.config'),
  };
  delete env.NODE_EXTRA_CA_CERTS;
  for (const d of [env.HOME, env.WSS_STUDIO_TRUST_ROOT]) fs.mkdirSync(d, { recursive: true });
  const stops = [];
  try {
    // A CA and a localhost leaf for the wss rows, made by the CLI in the bench's own state folder.
    const cli = (...args) => {
      const r = spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`wss-studio ${args.join(' ')} failed: ${r.stderr}`);
      return r.stdout;
    };
    let tls = {};
    if (SCHEMES.includes('wss')) {
      const certDir = path.join(tmp, 'cert');
      fs.mkdirSync(certDir);
      cli('ca', 'init');
      // cert.issue's result ({ leaf, warnings }) plus the files written.
      const issued = JSON.parse(
        cli('cert', 'issue', 'localhost', '127.0.0.1', '--out-dir', certDir, '--json'),
      );
      tls = {
        certId: issued.leaf.id,
        certPem: fs.readFileSync(issued.files.cert, 'utf8'),
        keyPem: fs.readFileSync(issued.files.key, 'utf8'),
        caPem: fs.readFileSync(path.join(env.WSS_STUDIO_HOME, 'ca', 'ca.pem'), 'utf8'),
      };
    }

    const rows = [
      { name: 'bare ws', start: () => startChild('bare', { schemes: SCHEMES, ...tls }, env) },
      { name: 'serve', start: () => startServe(env, tmp, false) },
      { name: 'serve --json > file', start: () => startServe(env, tmp, true) },
      { name: 'web mode + Chromium on Frame log', start: () => startWeb(env, tmp, tls) },
      { name: 'engine + Electron IPC clone', start: () => startElectron(env, tmp, tls, true) },
      { name: 'engine alone (no subscriber)', start: () => startElectron(env, tmp, tls, false) },
    ].filter(
      (r) =>
        r.name === 'bare ws' ||
        !ONLY.length ||
        ONLY.some((o) => r.name.toLowerCase().includes(o.toLowerCase())),
    );
    for (const r of rows) {
      process.stderr.write(`starting ${r.name}\n`);
      r.server = await r.start();
      stops.push(r.server.stop);
    }

    console.log(
      `\nbench/shells: ${ROUNDS} rounds x ${SECONDS} s per row and scheme, ${SIZE} B messages, ${CLIENTS} clients, closed loop, loopback; node ${process.version}, ${os.cpus().length} CPUs, load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}\n`,
    );
    const acc = {};
    for (const scheme of SCHEMES)
      for (const r of rows) acc[`${scheme}/${r.name}`] = { rates: [], rtts: [], cpu: [], page: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const scheme of SCHEMES) {
        for (let k = 0; k < rows.length; k++) {
          const r = rows[(k + round) % rows.length];
          const host = scheme === 'wss' ? 'localhost' : '127.0.0.1';
          let cpu0 = 0;
          let cpu = 0;
          let page0 = 0;
          let page = 0;
          const pagePid = r.server.pagePid?.();
          const m = await measure(
            `${scheme}://${host}:${r.server.ports[scheme]}/`,
            SIZE,
            CLIENTS,
            tls.caPem,
            SECONDS,
            {
              start: () => {
                cpu0 = treeCpuMs(r.server.pid); // ui runs in a child of its launcher (heap flags)
                if (pagePid) page0 = treeCpuMs(pagePid);
              },
              end: () => {
                cpu = treeCpuMs(r.server.pid) - cpu0;
                if (pagePid) page = treeCpuMs(pagePid) - page0;
              },
            },
          );
          acc[`${scheme}/${r.name}`].rates.push(m.rate);
          // Server CPU per message in the measured window: what the shell costs, much less disturbed by
          // machine load than time.
          acc[`${scheme}/${r.name}`].cpu.push((cpu * 1000) / m.count);
          // The browser's CPU (every Chromium process) per message: taken from the same 2 cores.
          if (pagePid) acc[`${scheme}/${r.name}`].page.push((page * 1000) / m.count);
          for (const x of m.rtts) acc[`${scheme}/${r.name}`].rtts.push(x);
          // The page reads the engine's ring again once the flood is over: let it finish before the next
          // row is measured, so that its catch-up is not billed to another shell.
          await r.server.settle?.();
        }
      }
      process.stderr.write('.');
    }
    process.stderr.write('\n');

    console.log(
      '| scheme | shell | msg/s | vs bare (paired median) | p50 ms | p99 ms | p99 vs bare | server CPU µs/msg | browser CPU µs/msg | targets (>= 0.9x, p99 <= 2x) |',
    );
    console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    let allMet = true;
    for (const scheme of SCHEMES) {
      const bare = acc[`${scheme}/bare ws`];
      const b = summarize(bare);
      for (const r of rows) {
        const a = acc[`${scheme}/${r.name}`];
        const s = summarize(a);
        const ratio = median(a.rates.map((x, i) => x / bare.rates[i]));
        const p99r = s.p99 / b.p99;
        const met = r.name === 'bare ws' || (ratio >= MIN_RATE_RATIO && p99r <= MAX_P99_RATIO);
        if (!met) allMet = false;
        console.log(
          `| ${scheme} | ${r.name} | ${fmt(s.rate)} | ${ratio.toFixed(2)}x | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${p99r.toFixed(2)}x | ${median(a.cpu).toFixed(1)} | ${a.page.length ? median(a.page).toFixed(1) : ''} | ${r.name === 'bare ws' ? '(reference)' : met ? 'met' : 'NOT met'} |`,
        );
      }
    }
    const notes = [];
    for (const r of rows) if (r.server.note) notes.push(`${r.name}: ${await r.server.note()}`);
    if (notes.length) console.log(`\n${notes.join('\n')}`);
    console.log(
      `\ntargets: throughput >= ${MIN_RATE_RATIO}x bare ws and p99 <= ${MAX_P99_RATIO}x bare ws in every row -> ${allMet ? 'met' : 'NOT met'}`,
    );
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function startChild(kind, o, env) {
  const c = fork(self, ['--child', kind, JSON.stringify(o)], {
    env,
    execArgv: NODE_FLAGS,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    c.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
    c.once('message', ({ ports }) =>
      resolve({
        ports,
        pid: c.pid,
        child: c,
        stop: async () => {
          if (c.exitCode !== null) return;
          const gone = new Promise((r) => c.once('exit', r));
          c.send('exit');
          await gone;
        },
      }),
    );
  });
}

/** Wait until `read()` matches `re` (the process printed its address); fail with its output after 30 s. */
async function waitFor(read, re, what) {
  const t0 = Date.now();
  for (;;) {
    const m = re.exec(read());
    if (m) return m;
    if (Date.now() - t0 > 30_000) throw new Error(`${what} printed no address in 30 s:\n${read()}`);
    await sleep(50);
  }
}

/** SIGINT, as Ctrl-C would, then wait for the exit (SIGKILL after 10 s). */
async function stopProcess(p) {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGINT');
  const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(t);
}

async function startServe(env, tmp, json) {
  const flags = SCHEMES.flatMap((s) => [`--${s}`, '0']);
  let text = '';
  let bytes = 0;
  let p;
  let read;
  if (json) {
    const file = path.join(tmp, 'serve.jsonl');
    const fd = fs.openSync(file, 'w');
    p = spawn(process.execPath, [...NODE_FLAGS, bin, 'serve', ...flags, '--json'], {
      env,
      stdio: ['ignore', fd, 'inherit'],
    });
    fs.closeSync(fd);
    read = () => {
      // Only the start of the file holds the addresses; the rest is the log.
      const fd2 = fs.openSync(file, 'r');
      const buf = Buffer.alloc(4096);
      const n = fs.readSync(fd2, buf, 0, buf.length, 0);
      fs.closeSync(fd2);
      return buf.subarray(0, n).toString();
    };
  } else {
    p = spawn(process.execPath, [...NODE_FLAGS, bin, 'serve', ...flags], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // Drained as fast as a terminal would take it: read and thrown away (kept only until the addresses).
    p.stdout.on('data', (d) => {
      bytes += d.length;
      if (text.length < 4096) text += d.toString();
    });
    read = () => text;
  }
  const ports = {};
  for (const s of SCHEMES) {
    const m = await waitFor(read, new RegExp(`${s}://[^\\s]*?:(\\d+)`), 'wss-studio serve');
    ports[s] = Number(m[1]);
  }
  return {
    ports,
    pid: p.pid,
    stop: () => stopProcess(p),
    note: json
      ? async () => `${fmt(fs.statSync(path.join(tmp, 'serve.jsonl')).size / 1e6)} MB written`
      : async () => `${fmt(bytes / 1e6)} MB read from stdout`,
  };
}

async function startWeb(env, tmp, tls) {
  requireChromium(); // fail before the set-up when it is missing
  const p = spawn(process.execPath, [...NODE_FLAGS, bin, 'ui', '--no-open', '--port', '0'], {
    env: { ...env, WSS_STUDIO_RENDERER_DIR: path.join(root, 'dist', 'renderer') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  p.stdout.on('data', (d) => (out += d.toString()));
  p.stderr.on('data', (d) => (out += d.toString()));
  let browser;
  try {
    const [url] = await waitFor(
      () => out,
      /http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/,
      'wss-studio ui',
    );
    const u = new URL(url);
    const ports = {};
    // The echo servers, added and started over the page's own RPC (as the Servers screen would).
    const { WebSocket } = require('ws');
    const rpc = new WebSocket(`ws://127.0.0.1:${u.port}/rpc?token=${u.searchParams.get('token')}`, {
      origin: u.origin,
    });
    await new Promise((r, j) => (rpc.once('open', r), rpc.once('error', j)));
    let id = 0;
    const call = (name, input) =>
      new Promise((resolve, reject) => {
        const my = ++id;
        const on = (raw) => {
          const m = JSON.parse(raw.toString());
          if (m.t !== 'result' || m.id !== my) return;
          rpc.off('message', on);
          if (m.ok) resolve(m.result);
          else reject(new Error(`${name}: ${JSON.stringify(m.error)}`));
        };
        rpc.on('message', on);
        rpc.send(JSON.stringify({ t: 'call', id: my, name, input }));
      });
    for (const scheme of SCHEMES) {
      const s = await call('server.add', {
        name: `bench ${scheme}`,
        scheme,
        port: 0,
        ...(scheme === 'wss' ? { certId: tls.certId } : {}),
      });
      ports[scheme] = (await call('server.start', { id: s.id })).port;
    }
    rpc.close();
    browser = await launchChromium({ ...env });
    const page = await browser.newPage({ viewport: { width: 1100, height: 720 } });
    await page.goto(`${url}#/log`);
    await page.getByRole('heading', { level: 1, name: 'Frame log' }).waitFor({ timeout: 60_000 });
    return {
      ports,
      pid: p.pid,
      // playwright-core's launch() hides the process: the browser is our child named chromium.
      settle: () =>
        page
          .locator('[data-count="not-live"]')
          .waitFor({ state: 'detached', timeout: 10_000 })
          .catch(() => {}),
      pagePid: () => {
        for (const d of fs.readdirSync('/proc')) {
          if (!/^\d+$/.test(d) || d === String(process.pid)) continue;
          try {
            const st = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
            if (/^\d+ \(chrom/.test(st) && Number(st.split(') ')[1].split(' ')[1]) === process.pid)
              return Number(d);
          } catch {
            // gone meanwhile
          }
        }
        return undefined;
      },
      note: async () => {
        const shown = await page
          .locator('[data-count="received"]')
          .innerText({ timeout: 5000 })
          .catch(() => '?');
        return `the page counted ${shown} events received`;
      },
      stop: async () => {
        await browser.close().catch(() => {});
        await stopProcess(p);
      },
    };
  } catch (e) {
    await browser?.close().catch(() => {});
    await stopProcess(p);
    throw e;
  }
}

async function startElectron(env, tmp, tls, forward) {
  const bundle = path.join(tmp, 'engine.cjs');
  if (!fs.existsSync(bundle))
    await bundleEngine(
      {
        stdin: {
          contents:
            "export { createEngine } from './main/engine/index';\nexport { forwardEvents } from './main/app/ipc';\n",
        },
      },
      bundle,
    );
  // Its own copy of the state (the CA and leaf for wss): two engines never share one settings file.
  const home = path.join(tmp, forward ? 'state-electron' : 'state-engine');
  // The control endpoint's socket (control/) belongs to the instance that made it: not copied.
  if (fs.existsSync(env.WSS_STUDIO_HOME)) {
    fs.cpSync(env.WSS_STUDIO_HOME, home, {
      recursive: true,
      filter: (src) => path.basename(src) !== 'control',
    });
  }
  const c = await startChild(
    'electron',
    { bundle, home, schemes: SCHEMES, certId: tls.certId, forward },
    env,
  );
  return {
    ...c,
    note: async () => {
      if (!forward) return 'no subscriber';
      c.child.send('bytes');
      const { bytes } = await new Promise((r) => c.child.once('message', r));
      return `${fmt(bytes / 1e6)} MB structured-cloned`;
    },
  };
}
