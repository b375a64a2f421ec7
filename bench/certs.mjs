#!/usr/bin/env node
// bench/certs: whole-process medians, wss-studio against mkcert doing the same job, and against `node -e 0`
// (the floor for any Node CLI on this machine).
//   node bench/certs.mjs [--runs N] [--job NAME]
// Target: issuing an ECDSA leaf with an existing CA takes at most 1.5x `node -e 0`.
// Prints a Markdown table. Needs the CLI bundle (npm install builds it) and Debian's mkcert.
// NODE_EXTRA_CA_CERTS is unset for every child: it adds ~0.1 s to each Node start and is not our cost.
// Runs of the three (ours, mkcert, node -e 0) are interleaved so that machine load hits all alike.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bin = path.join(root, 'bin', 'wss-studio.cjs');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 15;
const MAX_FLOOR_RATIO = 1.5;
const jobArg = process.argv.indexOf('--job');
const JOB = jobArg > 0 ? process.argv[jobArg + 1].toLowerCase() : ''; // e.g. --job ecdsa

if (!fs.existsSync(path.join(root, 'dist', 'cli.cjs'))) {
  console.error(
    'error: failed to run benchmark: dist/cli.cjs is missing\nhint: run "npm run build:node"',
  );
  process.exit(1);
}
if (spawnSync('sh', ['-c', 'command -v mkcert']).status !== 0) {
  console.error(
    'error: failed to run benchmark: mkcert is not installed\nhint: apt-get install mkcert',
  );
  process.exit(1);
}

const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wss-bench-'));

function time(cmd, args, extraEnv, cwd) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {
    env: { ...env, ...extraEnv },
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

let n = 0;
const fresh = () => path.join(tmp, `d${n++}`);
const out = path.join(tmp, 'out');
fs.mkdirSync(out);

// A CA for each tool, for the leaf jobs.
const home = fresh();
time(process.execPath, [bin, 'ca', 'init', '--key', 'rsa'], { WSS_STUDIO_HOME: home });
const caroot = fresh();
fs.mkdirSync(caroot);
time('mkcert', ['localhost'], { CAROOT: caroot }, out);

// The CLI runs as process.execPath: it needs nothing from PATH.
const noTrustStores = {
  HOME: fresh(),
  WSS_STUDIO_TRUST_ROOT: fresh(),
  PATH: fresh(),
  JAVA_HOME: '',
};
for (const d of [noTrustStores.HOME, noTrustStores.WSS_STUDIO_TRUST_ROOT, noTrustStores.PATH]) {
  fs.mkdirSync(d);
}

/** `wss-studio cert issue localhost` with an existing CA (`key`: rsa or ecdsa), under `env`. */
const ourLeaf = (key, env = {}) =>
  time(process.execPath, [bin, 'cert', 'issue', 'localhost', '--key', key, '--out-dir', out], {
    WSS_STUDIO_HOME: home,
    ...env,
  });

/** mkcert's leaf for localhost with its existing CA (`ecdsa`: its -ecdsa flag), under `env`. */
const mkcertLeaf = (ecdsa, env = {}) =>
  time(
    'mkcert',
    [
      ...(ecdsa ? ['-ecdsa'] : []),
      '-cert-file',
      path.join(out, 'm.pem'),
      '-key-file',
      path.join(out, 'm-key.pem'),
      'localhost',
    ],
    { CAROOT: caroot, ...env },
    out,
  );

/** mkcert in an empty CAROOT: creates its CA, then issues one RSA leaf. */
function mkcertFirstRun() {
  const d = fresh();
  fs.mkdirSync(d);
  return mkcertLeaf(false, { CAROOT: d });
}

const jobs = [
  {
    name: 'CA creation (RSA-3072)',
    ours: () =>
      time(process.execPath, [bin, 'ca', 'init', '--key', 'rsa'], { WSS_STUDIO_HOME: fresh() }),
    // mkcert has no "create the CA only" command: its first run in an empty CAROOT creates the CA and
    // issues one leaf. We run the same pair (ca init, then cert issue) in one timed sequence.
    theirs: mkcertFirstRun,
    ours2: () => {
      const h = fresh();
      return (
        time(process.execPath, [bin, 'ca', 'init', '--key', 'rsa'], { WSS_STUDIO_HOME: h }) +
        ourLeaf('rsa', { WSS_STUDIO_HOME: h })
      );
    },
  },
  {
    // Not the same job: what a user who keeps our default gets, against mkcert's only choice.
    name: 'CA creation, our default ECDSA P-256 vs mkcert RSA-3072 (first run)',
    ours: () => time(process.execPath, [bin, 'ca', 'init'], { WSS_STUDIO_HOME: fresh() }),
    theirs: mkcertFirstRun,
  },
  { name: 'RSA-2048 leaf', ours: () => ourLeaf('rsa'), theirs: () => mkcertLeaf(false) },
  {
    name: 'ECDSA P-256 leaf',
    target: true,
    ours: () => ourLeaf('ecdsa'),
    theirs: () => mkcertLeaf(true),
  },
  {
    // Not a target: the row above answers the "not trusted by" warning from the trust-state cache
    // (trust-cache.json, filled by the first run); here it is removed before each run, so every run
    // measures the stores for real (reads the system bundle, runs `certutil -L`) and rewrites it.
    name: 'ECDSA P-256 leaf, trust cache cold',
    ours: () => {
      fs.rmSync(path.join(home, 'trust-cache.json'), { force: true });
      return ourLeaf('ecdsa');
    },
    theirs: () => mkcertLeaf(true),
  },
  {
    // Not a target: the same issuance where no trust store is detected (temp HOME, an empty trust root,
    // PATH without certutil/keytool), so the share of the trust-store probes ("not trusted by ..."
    // warning: reading the system bundle, one `certutil -L`) shows against the row above.
    name: 'ECDSA P-256 leaf, no trust store detected',
    ours: () => ourLeaf('ecdsa', noTrustStores),
    theirs: () => mkcertLeaf(true, { TRUST_STORES: 'none' }),
  },
];

const nodeFloor = () => time(process.execPath, ['-e', '0'], {});
// The target row also times bench/issue-floor.cjs: the crypto and file work of "cert issue" in plain Node.
const issueFloor = () =>
  time(process.execPath, [path.join(root, 'bench', 'issue-floor.cjs'), out], {
    WSS_STUDIO_HOME: home,
  });
const rows = [];
for (const job of jobs.filter((j) => j.name.toLowerCase().includes(JOB))) {
  const a = [];
  const b = [];
  const c = [];
  const f = [];
  const g = [];
  for (let i = 0; i < RUNS + 2; i++) {
    const x = job.ours();
    const y = job.theirs();
    const z = job.ours2 ? job.ours2() : undefined;
    const w = nodeFloor();
    const v = job.target ? issueFloor() : undefined;
    if (i < 2) continue; // warm-up: page cache, first exec
    a.push(x);
    b.push(y);
    f.push(w);
    if (z !== undefined) c.push(z);
    if (v !== undefined) g.push(v);
  }
  rows.push({
    name: job.name,
    ours: median(a),
    theirs: median(b),
    floor: median(f),
    target: job.target,
    issueFloor: g.length ? median(g) : undefined,
  });
  if (c.length)
    rows.push({
      name: `CA creation + first RSA leaf (mkcert's first run)`,
      ours: median(c),
      theirs: median(b),
      floor: median(f),
    });
}

const load = os.loadavg()[0].toFixed(2);
console.log(
  `\nbench/certs: medians of ${RUNS} runs each (whole processes, interleaved), ${os.cpus().length} cores, load ${load}\n`,
);
console.log('| job | wss-studio (ms) | mkcert (ms) | vs mkcert | node -e 0 (ms) | vs node -e 0 |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  console.log(
    `| ${r.name} | ${r.ours.toFixed(1)} | ${r.theirs.toFixed(1)} | ${(r.ours / r.theirs).toFixed(2)} | ${r.floor.toFixed(1)} | ${(r.ours / r.floor).toFixed(2)} |`,
  );
}
console.log(
  '\nvs mkcert = wss-studio / mkcert; vs node -e 0 = wss-studio / an empty Node process (same run).',
);
for (const r of rows.filter((x) => x.target)) {
  const ratio = r.ours / r.floor;
  console.log(
    `target: "cert issue" (${r.name}, existing CA) <= ${MAX_FLOOR_RATIO}x "node -e 0": ${r.ours.toFixed(1)} / ${r.floor.toFixed(1)} ms = ${ratio.toFixed(2)}x -> ${ratio <= MAX_FLOOR_RATIO ? 'met' : 'NOT met'}`,
  );
  console.log(
    `floor: the same crypto and file work in plain Node (bench/issue-floor.cjs: key, CA parse, signature, four fsynced files; no CLI) took ${r.issueFloor.toFixed(1)} ms = ${(r.issueFloor / r.floor).toFixed(2)}x "node -e 0"; wss-studio is ${(r.ours / r.issueFloor).toFixed(2)}x that floor`,
  );
}
console.log(
  "mkcert's CA-creation figure is its first run in an empty CAROOT (CA + one RSA leaf): it has no CA-only command.",
);
fs.rmSync(tmp, { recursive: true, force: true });
