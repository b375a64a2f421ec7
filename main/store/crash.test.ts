// Crash safety, proven with real kills: every store-changing command runs under strace, which SIGKILLs
// it at the Nth rename (then unlink, fsync) for N = 1, 2, ... until the command completes. Every file
// write in the store is followed by its fsync, so a kill at each fsync is a kill right after each write
// (strace counts `write` per thread, and libuv's worker threads write to an eventfd, so N there would not
// step through the store's writes). After each
// kill the start-up recovery runs (openStore) and the store must be consistent: exactly one CA or none
// (never none when there was one), each certificate's key matches it, no temp folder (they hold keys),
// no lock left behind. Runs the built CLI (vitest's global setup builds dist/).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import crypto, { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { requireTool, runTool, tempDir } from '../../e2e/helpers/tools';
import { loadCa, scanLeaves } from '../pki';
import { openStore } from './index';

const root = path.resolve(__dirname, '..', '..');
const bin = path.join(root, 'bin', 'wss-studio.cjs');

// Only the syscalls Node's fs uses here (checked with strace: rename(2) for renameSync on x86_64;
// renameat/renameat2 listed so another libc or arch is covered too).
const KILL_POINTS = [
  'rename,renameat,renameat2',
  'unlink,unlinkat,rmdir',
  'fsync,fdatasync',
] as const;

// No trust-store probes (no certutil/keytool on PATH, temp HOME): only the store is exercised.
function envFor(home: string, base: string): NodeJS.ProcessEnv {
  return {
    WSS_STUDIO_HOME: home,
    HOME: path.join(base, 'user'),
    WSS_STUDIO_TRUST_ROOT: path.join(base, 'trust-root'),
    PATH: '/nonexistent',
  };
}

function cli(args: string[], home: string, base: string) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    env: envFor(home, base),
    cwd: base,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function fingerprint(home: string): string | null {
  const f = path.join(home, 'ca', 'ca.pem');
  return fs.existsSync(f) ? new X509Certificate(fs.readFileSync(f)).fingerprint256 : null;
}

/** The store after recovery: its CA fingerprint and leaf ids, or a description of what is wrong. */
function inspect(home: string): { ca: string | null; leaves: string[] } {
  const store = openStore(home); // runs the recovery step
  const ca = loadCa(store); // schema + key-matches-certificate checks
  const tops = fs.readdirSync(home).filter((n) => n.startsWith('.') || n.startsWith('store.lock'));
  expect(tops, `temp entries left in ${home}`).toEqual([]);
  expect(
    fs.readdirSync(home).filter((n) => n.startsWith('ca-old')),
    'old CA folders',
  ).toEqual([]);
  if (ca) {
    const key = crypto.createPrivateKey(fs.readFileSync(path.join(home, 'ca', 'ca-key.pem')));
    expect(new X509Certificate(ca.certPem).checkPrivateKey(key)).toBe(true);
  }
  const certs = path.join(home, 'certs');
  if (fs.existsSync(certs)) {
    expect(
      fs.readdirSync(certs).filter((n) => n.startsWith('.')),
      'temp folders in certs/',
    ).toEqual([]);
  }
  const history = path.join(home, 'trusted-cas');
  if (fs.existsSync(history)) {
    expect(fs.readdirSync(history).filter((n) => !/^[0-9a-f]{64}\.pem$/.test(n))).toEqual([]);
  }
  const { leaves, damaged } = scanLeaves(store);
  expect(damaged).toEqual([]);
  for (const l of leaves) {
    const key = crypto.createPrivateKey(fs.readFileSync(l.keyPath));
    expect(
      new X509Certificate(l.certPem).checkPrivateKey(key),
      `key of ${l.id} matches its certificate`,
    ).toBe(true);
  }
  return { ca: ca?.fingerprint256 ?? null, leaves: leaves.map((l) => l.id).sort() };
}

describe('crash safety: kill at every rename, unlink and fsync, then recover', () => {
  let tmp: ReturnType<typeof tempDir>;
  let strace: string;
  const templates: Record<string, string> = {};
  let leafId = '';
  let caroot = '';
  let caA = '';

  beforeAll(() => {
    strace = requireTool('strace');
    tmp = tempDir('wss-crash-');
    const base = tmp.dir;
    templates.empty = path.join(base, 'tpl-empty');
    fs.mkdirSync(templates.empty);
    templates.withCa = path.join(base, 'tpl-ca');
    cli(['ca', 'init'], templates.withCa, base);
    templates.withLeaf = path.join(base, 'tpl-leaf');
    fs.cpSync(templates.withCa, templates.withLeaf, { recursive: true });
    leafId = JSON.parse(
      cli(['cert', 'issue', 'app.test', '--out-dir', base, '--json'], templates.withLeaf, base),
    ).leaf.id;
    caA = fingerprint(templates.withCa) as string;
    caroot = path.join(base, 'caroot');
    fs.mkdirSync(caroot);
    const m = runTool('mkcert', ['-cert-file', 'm.pem', '-key-file', 'm-key.pem', 'localhost'], {
      env: { ...process.env, CAROOT: caroot, HOME: base, TRUST_STORES: 'none' },
      cwd: base,
    });
    expect(m.status, m.stderr).toBe(0);
  });
  const killsBy: string[] = [];
  afterAll(() => {
    tmp.cleanup();
    console.log(`crash safety: kills survived per command: ${killsBy.join(', ')}`);
  });

  /**
   * Kill `args` at the Nth call of each kill point until it completes; after every kill, recover and
   * check with `expectAfter`. Returns the number of kills.
   */
  function killEverywhere(
    template: string,
    args: () => string[],
    expectAfter: (s: { ca: string | null; leaves: string[] }, home: string) => void,
  ): number {
    let kills = 0;
    for (const point of KILL_POINTS) {
      for (let n = 1; ; n++) {
        expect(n, `"${args().join(' ')}" never completed under ${point}`).toBeLessThan(60);
        const home = path.join(tmp.dir, `run-${crypto.randomBytes(4).toString('hex')}`);
        fs.cpSync(template, home, { recursive: true });
        const r = spawnSync(
          strace,
          [
            '-f',
            '-qq',
            '-o',
            '/dev/null',
            '-e',
            `trace=${point}`,
            '-e',
            `inject=${point}:signal=KILL:when=${n}`,
            process.execPath,
            bin,
            ...args(),
          ],
          { env: envFor(home, tmp.dir), cwd: tmp.dir, encoding: 'utf8', timeout: 60_000 },
        );
        const killed = r.signal === 'SIGKILL' || r.status === 137;
        if (!killed) expect(r.status, `${args().join(' ')}: ${r.stderr}`).toBe(0);
        expectAfter(inspect(home), home);
        fs.rmSync(home, { recursive: true, force: true });
        if (!killed) break;
        kills++;
      }
    }
    killsBy.push(
      `${args()[0]} ${args()[1]}${args().includes('--force') ? ' --force' : ''}: ${kills}`,
    );
    return kills;
  }

  it('ca init: no CA or one whole CA', () => {
    const kills = killEverywhere(
      templates.empty!,
      () => ['ca', 'init'],
      (s) => {
        expect(s.leaves).toEqual([]);
      },
    );
    expect(kills).toBeGreaterThanOrEqual(2);
  });

  it('ca init --force: always exactly one CA, the old or the new', () => {
    let sawNew = false;
    const kills = killEverywhere(
      templates.withLeaf!,
      () => ['ca', 'init', '--force'],
      (s) => {
        expect(s.ca, 'a CA after a killed replacement').not.toBeNull();
        if (s.ca !== caA) sawNew = true;
        expect(s.leaves).toEqual([leafId]);
      },
    );
    expect(kills).toBeGreaterThanOrEqual(3);
    expect(sawNew).toBe(true);
  });

  it('ca import-mkcert --force: the old CA or the mkcert one, never none', () => {
    const mk = new X509Certificate(fs.readFileSync(path.join(caroot, 'rootCA.pem'))).fingerprint256;
    const kills = killEverywhere(
      templates.withCa!,
      () => ['ca', 'import-mkcert', caroot, '--force'],
      (s) => expect([caA, mk]).toContain(s.ca),
    );
    expect(kills).toBeGreaterThanOrEqual(3);
  });

  it('cert issue: no certificate or one whole one', () => {
    const out = path.join(tmp.dir, 'out');
    fs.mkdirSync(out, { recursive: true });
    const kills = killEverywhere(
      templates.withCa!,
      () => ['cert', 'issue', 'localhost', '127.0.0.1', '--out-dir', out],
      (s) => {
        expect(s.ca).toBe(caA);
        expect(s.leaves.length).toBeLessThanOrEqual(1);
      },
    );
    expect(kills).toBeGreaterThanOrEqual(2);
  });

  it('cert renew: the certificate stays, its key always matches', () => {
    const before = fs.readFileSync(path.join(templates.withLeaf!, 'certs', leafId, 'cert.pem'));
    let renewed = false;
    const kills = killEverywhere(
      templates.withLeaf!,
      () => ['cert', 'renew', leafId],
      (s, home) => {
        expect(s.leaves).toEqual([leafId]);
        if (!fs.readFileSync(path.join(home, 'certs', leafId, 'cert.pem')).equals(before))
          renewed = true;
      },
    );
    expect(kills).toBeGreaterThanOrEqual(3);
    expect(renewed).toBe(true);
  });

  it('cert delete: the whole certificate or nothing', () => {
    const kills = killEverywhere(
      templates.withLeaf!,
      () => ['cert', 'delete', leafId],
      (s) => expect([[], [leafId]]).toContainEqual(s.leaves),
    );
    expect(kills).toBeGreaterThanOrEqual(2);
  });
});
