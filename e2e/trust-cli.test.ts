// `wss-studio trust status|install|uninstall` end to end, every store this machine has, all in temp
// folders: WSS_STUDIO_HOME (the CA), HOME (an NSS database holding someone else's CA),
// WSS_STUDIO_TRUST_ROOT (a Debian-shaped root for update-ca-certificates) and JAVA_HOME (a temp JDK
// whose cacerts is a copy). In-process through run(), and through the real built binary.
import { execFile } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
  readFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../main/cli/index';
import type { Io } from '../main/cli/command';
import { createCa, type CaInfo } from '../main/pki';
import { openStore } from '../main/store';
import type { StoreChange, StoreStatus } from '../main/trust';
import { requireTool, runCli, runTool, snapshotTree, tempDir } from './helpers/tools';

const repo = path.resolve(__dirname, '..');
let tmp: ReturnType<typeof tempDir>;
let env: NodeJS.ProcessEnv;
let ca: CaInfo;
let nssdb: string;
let root: string;
let cacerts: string;

function io(e: NodeJS.ProcessEnv) {
  const out: string[] = [];
  const err: string[] = [];
  const o: Io = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: e,
    cwd: tmp.dir,
    interrupted: new Promise<void>(() => {}),
  };
  return { o, out, err };
}

async function cli(argv: string[], e: NodeJS.ProcessEnv = env) {
  const x = io(e);
  const code = await run(argv, x.o);
  return { code, stdout: x.out.join('\n'), stderr: x.err.join('\n') };
}

/** The real binary, asynchronously (nothing in this process may block while it runs). */
function bin(argv: string[], e: NodeJS.ProcessEnv = env) {
  return runCli(argv, { env: e, cwd: tmp.dir });
}

function nicknames(): string[] {
  return runTool('certutil', ['-L', '-d', `sql:${nssdb}`])
    .stdout.split('\n')
    .slice(4)
    .map((l) => l.replace(/\s+\S*,\S*,\S*\s*$/, ''))
    .filter(Boolean);
}

beforeAll(async () => {
  requireTool('certutil');
  requireTool('keytool');
  requireTool('openssl');
  requireTool('update-ca-certificates');
  tmp = tempDir('wss-trust-cli-');
  const wssHome = path.join(tmp.dir, 'studio');
  ca = await createCa(openStore(wssHome), { keyType: 'ecdsa' });

  const home = path.join(tmp.dir, 'home');
  nssdb = path.join(home, '.pki/nssdb');
  mkdirSync(nssdb, { recursive: true });
  runTool('certutil', ['-N', '-d', `sql:${nssdb}`, '--empty-password']);
  const other = path.join(tmp.dir, 'other.pem');
  runTool('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    path.join(tmp.dir, 'other.key'),
    '-out',
    other,
    '-subj',
    '/CN=Other Root',
    '-days',
    '30',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
  ]);
  expect(
    runTool('certutil', ['-A', '-d', `sql:${nssdb}`, '-t', 'C,,', '-n', 'Other Root', '-i', other])
      .status,
  ).toBe(0);

  root = path.join(tmp.dir, 'root');
  for (const d of [
    'usr/local/share/ca-certificates',
    'usr/share/ca-certificates',
    'etc/ssl/certs',
  ]) {
    mkdirSync(path.join(root, d), { recursive: true });
  }
  writeFileSync(path.join(root, 'etc/ca-certificates.conf'), '');
  copyFileSync(other, path.join(root, 'usr/local/share/ca-certificates/other.crt'));

  const realKeytool = realpathSync(requireTool('keytool'));
  const jdk = path.join(tmp.dir, 'jdk');
  mkdirSync(path.join(jdk, 'bin'), { recursive: true });
  mkdirSync(path.join(jdk, 'lib/security'), { recursive: true });
  symlinkSync(realKeytool, path.join(jdk, 'bin/keytool'));
  cacerts = path.join(jdk, 'lib/security/cacerts');
  copyFileSync(path.join(path.dirname(path.dirname(realKeytool)), 'lib/security/cacerts'), cacerts);

  env = {
    PATH: process.env.PATH,
    HOME: home,
    WSS_STUDIO_HOME: wssHome,
    WSS_STUDIO_TRUST_ROOT: root,
    JAVA_HOME: jdk,
  };
});

afterAll(() => tmp?.cleanup());

describe('wss-studio trust', () => {
  it('status -> install -> status -> uninstall -> status across system, nss and java', async () => {
    const s0 = await cli(['trust', 'status', '--json']);
    expect(s0.code, s0.stderr).toBe(0);
    // --json: trust.status's TrustStoreStatus[] and trust.replaced's list (the API's shapes); the CA they
    // are about is the one "ca show --json" prints.
    const j0 = JSON.parse(s0.stdout) as { stores: StoreStatus[]; replaced: unknown[] };
    const shown = JSON.parse((await cli(['ca', 'show', '--json'])).stdout);
    expect([shown.commonName, shown.fingerprint256, shown.certPath]).toEqual([
      ca.commonName,
      ca.fingerprint256,
      ca.certPath,
    ]);
    expect(j0.replaced).toEqual([]);
    expect(j0.stores.map((s) => [s.store, s.state])).toEqual([
      ['system', 'not-trusted'],
      ['nss', 'not-trusted'],
      ['java', 'not-trusted'],
    ]);

    const inst = await cli(['trust', 'install', '--json']);
    expect(inst.code, inst.stdout + inst.stderr).toBe(0);
    // --json: trust.install's TrustResult.
    const ji = JSON.parse(inst.stdout) as { stores: StoreChange[] };
    expect(ji.stores.map((r) => [r.store, r.state, r.changed])).toEqual([
      ['system', 'trusted', true],
      ['nss', 'trusted', true],
      ['java', 'trusted', true],
    ]);
    expect(readFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), 'utf8')).toContain(
      ca.certPem.split('\n')[1],
    );
    expect(nicknames()).toContain(`WSS Studio CA ${ca.serialHex.toLowerCase()}`);

    const text = await cli(['trust', 'status']);
    expect(text.stdout).toMatch(/^system {2}trusted {10}in .*ca-certificates\.crt/m);
    expect(text.stdout).toMatch(/^nss {5}trusted {10}trusted in 1 NSS database/m);
    expect(text.stdout).toMatch(/^java {4}trusted {10}in .*cacerts as "wss-studio-ca-/m);

    const again = await cli(['trust', 'install']);
    expect(again.code).toBe(0);
    expect(again.stdout.split('\n').every((l) => /unchanged|warning/.test(l))).toBe(true);

    const un = await cli(['trust', 'uninstall', '--stores', 'system,nss', '--stores', 'java']);
    expect(un.code, un.stdout + un.stderr).toBe(0);
    expect(un.stdout).toMatch(/^system {2}not trusted {6}removed: /m);
    const s2 = JSON.parse((await cli(['trust', 'status', '--json'])).stdout) as {
      stores: StoreStatus[];
    };
    expect(s2.stores.map((s) => s.state)).toEqual(['not-trusted', 'not-trusted', 'not-trusted']);
    // Someone else's CA is still trusted everywhere we touched.
    expect(nicknames()).toEqual(['Other Root']);
    expect(readFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), 'utf8')).toContain(
      'BEGIN CERTIFICATE',
    );
  });

  it('the built binary prints the same status and installs one store', async () => {
    const s = await bin(['trust', 'status', '--stores', 'java', '--json']);
    expect(s.code, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout).stores).toMatchObject([{ store: 'java', state: 'not-trusted' }]);
    const i = await bin(['trust', 'install', '--stores', 'java']);
    expect(i.code, i.stderr).toBe(0);
    expect(i.stdout).toMatch(/^java {4}trusted {10}installed: /m);
    const list = runTool('keytool', ['-list', '-keystore', cacerts, '-storepass', 'changeit']);
    expect(list.stdout).toContain(ca.fingerprint256);
    const u = await bin(['trust', 'uninstall', '--stores', 'java']);
    expect(u.code, u.stderr).toBe(0);
    expect(
      runTool('keytool', ['-list', '-keystore', cacerts, '-storepass', 'changeit']).stdout,
    ).not.toContain(ca.fingerprint256);
  });

  it('as a non-root user the system store needs permission and the exact sudo line is printed', async () => {
    const before = snapshotTree(root);
    const cacertsBefore = readFileSync(cacerts);
    const argv = [
      path.join(repo, 'bin/wss-studio.cjs'),
      'trust',
      'install',
      '--stores',
      'system,java',
    ];
    let file = process.execPath;
    const undo: (() => void)[] = [];
    if (process.getuid?.() === 0) {
      // Root writes anywhere: run as "nobody" instead (setpriv, util-linux). The temp CA must be
      // readable by it (the key is not needed and stays 0600).
      requireTool('setpriv');
      for (const d of [tmp.dir, path.join(tmp.dir, 'studio'), path.dirname(ca.certPath)])
        chmodSync(d, 0o755);
      chmodSync(ca.certPath, 0o644);
      for (const f of ['store.json', 'ca/ca.json'])
        chmodSync(path.join(tmp.dir, 'studio', f), 0o644);
      argv.unshift('--reuid=65534', '--regid=65534', '--clear-groups', process.execPath);
      file = 'setpriv';
    } else {
      // Already a normal user (CI): make the temp root and keystore read-only, as /etc is for us.
      const anchors = path.join(root, 'usr/local/share/ca-certificates');
      chmodSync(anchors, 0o555);
      chmodSync(cacerts, 0o444);
      undo.push(
        () => chmodSync(anchors, 0o755),
        () => chmodSync(cacerts, 0o644),
      );
    }
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        file,
        argv,
        { env, cwd: '/', encoding: 'utf8', timeout: 120_000 },
        (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    for (const u of undo) u();
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout, r.stderr).toMatch(
      /^system {2}needs permission {1}unchanged: .*ca-certificates is writable only by root/m,
    );
    const anchor = path.join(
      root,
      'usr/local/share/ca-certificates',
      `wss-studio-ca-${ca.serialHex.toLowerCase()}.crt`,
    );
    expect(r.stderr).toContain(
      `hint: run: sudo install -m 0644 ${ca.certPath} ${anchor} && sudo update-ca-certificates --certsconf ${root}/etc/ca-certificates.conf`,
    );
    expect(snapshotTree(root)).toEqual(before);
    // Java's cacerts belongs to root too: the exact sudo keytool line, and the keystore is untouched.
    expect(r.stdout).toMatch(
      /^java {4}needs permission {1}unchanged: .*cacerts is writable only by root/m,
    );
    expect(r.stderr).toContain(
      `hint: run: sudo ${path.join(tmp.dir, 'jdk/bin/keytool')} -importcert -noprompt -alias wss-studio-ca-${ca.serialHex.toLowerCase()} -keystore ${cacerts} -storepass changeit -file ${ca.certPath}`,
    );
    expect(readFileSync(cacerts).equals(cacertsBefore)).toBe(true);
  });

  it('an unknown store is a usage error (exit 2) that changes nothing on disk', async () => {
    const before = snapshotTree(tmp.dir);
    const r = await bin(['trust', 'install', '--stores', 'system,firefox']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: failed to select trust stores: unknown store "firefox"');
    expect(r.stderr).toContain(
      'hint: use a comma-separated list of: system, nss, java, macos, windows',
    );
    expect(snapshotTree(tmp.dir)).toEqual(before);
  });

  it('a store that is not on this machine fails the install with its reason (exit 1)', async () => {
    const r = await cli(['trust', 'install', '--stores', 'macos']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'error: failed to install the CA in macOS keychain: not present: not macOS (linux)',
    );
  });

  it('without a CA it says how to make one', async () => {
    const r = await cli(['trust', 'status'], {
      ...env,
      WSS_STUDIO_HOME: path.join(tmp.dir, 'empty'),
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no CA yet/);
    expect(r.stderr).toContain('hint: create one with "wss-studio ca init"');
  });

  it('a broken Java never blocks the other stores', async () => {
    const broken = path.join(tmp.dir, 'broken-jdk');
    mkdirSync(path.join(broken, 'bin'), { recursive: true });
    mkdirSync(path.join(broken, 'lib/security'), { recursive: true });
    copyFileSync(cacerts, path.join(broken, 'lib/security/cacerts'));
    writeFileSync(
      path.join(broken, 'bin/keytool'),
      '#!/bin/sh\necho "Error: dl failure" >&2\nexit 1\n',
      { mode: 0o755 },
    );
    const e = {
      ...env,
      JAVA_HOME: broken,
      PATH: path.dirname(requireTool('certutil')) + ':/usr/sbin:/sbin:/usr/bin:/bin',
    };
    const r = await cli(['trust', 'install', '--stores', 'nss,java', '--json'], e);
    const res = JSON.parse(r.stdout).stores as StoreChange[];
    expect(res.find((x) => x.store === 'nss')?.state).toBe('trusted');
    const java = res.find((x) => x.store === 'java');
    expect(java?.state).toBe('error');
    expect(java?.detail).toContain('Error: dl failure');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'error: failed to install the CA in Java (cacerts): error: keytool -importcert failed: Error: dl failure',
    );
    expect((await cli(['trust', 'uninstall', '--stores', 'nss'], e)).code).toBe(0);
  });
});
