// NSS store against real certutil (libnss3-tools) and databases in a temp HOME: Chromium's
// ~/.pki/nssdb, a Firefox profile named in profiles.ini and one found by folder scan.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dbArg,
  findNssDbs,
  nssNickname,
  nssStore,
  parseCertutilList,
  parseProfilesIni,
  sslCaTrusted,
} from './nss';
import { foreignCa, makeFixture, requireTool, tempContext, type Fixture } from './testing';
import type { TrustCa, TrustContext } from './types';
import { defaultRunner, pemContains } from './util';

let fx: Fixture;
let old: Fixture;
let other: TrustCa;
let ctx: TrustContext;
let home: string;
const dbs: Record<string, string> = {};

function certutil(args: string[], input?: string): string {
  return execFileSync('certutil', args, { encoding: 'utf8', input: input ?? '', stdio: 'pipe' });
}

function newDb(dir: string): void {
  mkdirSync(dir, { recursive: true });
  certutil(['-N', '-d', `sql:${dir}`, '--empty-password']);
}

beforeAll(async () => {
  requireTool('certutil', ['--help'], 'apt install libnss3-tools');
  fx = await makeFixture();
  // An older WSS Studio CA of the same user: same subject, different key. It must survive our uninstall.
  old = await makeFixture();
  ctx = tempContext(fx.tmp);
  home = ctx.home;
  dbs.chromium = path.join(home, '.pki/nssdb');
  dbs.ffIni = path.join(home, '.mozilla/firefox/abcd1234.default-esr');
  dbs.ffScan = path.join(home, '.config/mozilla/firefox/zz99.scan');
  for (const d of Object.values(dbs)) newDb(d);
  writeFileSync(
    path.join(home, '.mozilla/firefox/profiles.ini'),
    '[General]\nStartWithLastProfile=1\n\n[Profile0]\nName=default-esr\nIsRelative=1\nPath=abcd1234.default-esr\nDefault=1\n',
  );
  other = foreignCa(fx.tmp);
  certutil(
    ['-A', '-d', `sql:${dbs.chromium}`, '-t', 'C,,', '-n', 'Someone Else', '-a'],
    other.certPem,
  );
});

afterAll(() => {
  fx?.cleanup();
  old?.cleanup();
});

describe('NSS discovery and parsing', () => {
  it('finds Chromium, profiles.ini and scanned Firefox databases under the injected HOME', () => {
    const found = findNssDbs(ctx);
    expect(found.map((d) => d.dir).sort()).toEqual(Object.values(dbs).sort());
    expect(found.find((d) => d.dir === dbs.ffIni)?.label).toContain('Firefox profile default-esr');
    expect(found.every((d) => d.kind === 'sql')).toBe(true);
  });

  it('finds snap and Flatpak Chromium databases and labels them', () => {
    const h = path.join(fx.tmp, 'sandboxed-home');
    const snap = path.join(h, 'snap/chromium/current/.pki/nssdb');
    const flat = path.join(h, '.var/app/org.chromium.Chromium/.pki/nssdb');
    newDb(snap);
    newDb(flat);
    const found = findNssDbs({ home: h, platform: 'linux' });
    expect(found.map((d) => [d.label, d.browser])).toEqual([
      ['Chromium snap (~/snap/chromium/current/.pki/nssdb)', 'chromium'],
      ['Flatpak org.chromium.Chromium (~/.var/app/org.chromium.Chromium/.pki/nssdb)', 'chromium'],
    ]);
    expect(findNssDbs({ home: h, platform: 'darwin' })).toEqual([]);
  });

  it('parses profiles.ini (relative and absolute paths, non-profile sections ignored)', () => {
    const ini =
      '[Install4F96D1932A9F858E]\nDefault=x.default\n\n[Profile1]\nName=work\nIsRelative=0\nPath=/data/ff/work\n\n[Profile0]\nName=default\nIsRelative=1\nPath=x.default\n';
    expect(parseProfilesIni(ini, '/h/.mozilla/firefox')).toEqual([
      { name: 'work', dir: '/data/ff/work' },
      { name: 'default', dir: '/h/.mozilla/firefox/x.default' },
    ]);
  });

  it('parses certutil -L listings, nicknames with spaces included', () => {
    const text = certutil(['-L', '-d', `sql:${dbs.chromium}`]);
    expect(parseCertutilList(text)).toEqual([{ nickname: 'Someone Else', trust: 'C,,' }]);
    expect(
      parseCertutilList(
        '\nCertificate Nickname      Trust Attributes\n    SSL,S/MIME,JAR/XPI\n\nDigiCert Global G2 TLS RSA SHA256 2020 CA1 - DigiCert Inc   ,,   \nmy ca   CT,C,C\n',
      ),
    ).toEqual([
      { nickname: 'DigiCert Global G2 TLS RSA SHA256 2020 CA1 - DigiCert Inc', trust: ',,' },
      { nickname: 'my ca', trust: 'CT,C,C' },
    ]);
    expect(sslCaTrusted('CT,C,C')).toBe(true);
    expect(sslCaTrusted(',C,')).toBe(false);
    expect(sslCaTrusted('u,u,u')).toBe(false);
  });
});

describe('NSS install / status / uninstall with real certutil', () => {
  it('reads not trusted, then trusted in every database, then not trusted; others stay', async () => {
    // The old CA (same subject) is installed first, like after "ca init --force".
    expect((await nssStore.install(old.ca, ctx)).state).toBe('trusted');

    const s0 = await nssStore.status(fx.ca, ctx);
    expect(s0.state).toBe('not-trusted');
    expect(s0.detail).toContain('missing from 3 of 3 NSS databases');
    expect(s0.fix).toBe('wss-studio trust install --stores nss');

    const inst = await nssStore.install(fx.ca, ctx);
    expect(inst.state, inst.detail).toBe('trusted');
    expect(inst.changed).toBe(true);
    for (const d of Object.values(dbs)) {
      const list = parseCertutilList(certutil(['-L', '-d', `sql:${d}`]));
      expect(list).toContainEqual({ nickname: nssNickname(fx.ca), trust: 'C,,' });
      expect(
        pemContains(certutil(['-L', '-d', `sql:${d}`, '-n', nssNickname(fx.ca), '-a']), fx.ca),
      ).toBe(true);
    }
    expect(await nssStore.install(fx.ca, ctx)).toMatchObject({ state: 'trusted', changed: false });

    const un = await nssStore.uninstall(fx.ca, ctx);
    expect(un.state, un.detail).toBe('not-trusted');
    expect(un.changed).toBe(true);
    expect(un.detail).toBe('removed from 3 of 3 NSS databases');
    expect((await nssStore.status(fx.ca, ctx)).state).toBe('not-trusted');
    // Run twice: it says there was nothing to remove, not "removed from".
    expect(await nssStore.uninstall(fx.ca, ctx)).toMatchObject({
      state: 'not-trusted',
      changed: false,
      detail: 'not in any of 3 NSS databases: nothing to remove',
    });

    // The foreign CA and the old CA with the same subject are untouched.
    const chromium = parseCertutilList(certutil(['-L', '-d', `sql:${dbs.chromium}`]));
    expect(chromium).toContainEqual({ nickname: 'Someone Else', trust: 'C,,' });
    expect(chromium).toContainEqual({ nickname: nssNickname(old.ca), trust: 'C,,' });
    expect(chromium.map((e) => e.nickname)).not.toContain(nssNickname(fx.ca));
    expect((await nssStore.status(old.ca, ctx)).state).toBe('trusted');
    expect((await nssStore.uninstall(old.ca, ctx)).state).toBe('not-trusted');
    expect(parseCertutilList(certutil(['-L', '-d', `sql:${dbs.chromium}`]))).toEqual([
      { nickname: 'Someone Else', trust: 'C,,' },
    ]);
  });

  it('a Firefox profile trusted by the policy Certificates.Install reads trusted, as the doctor says', async () => {
    // The db lacks the CA; /etc/firefox/policies/policies.json (under the temp root) installs it.
    const policyFile = path.join(ctx.root, 'etc/firefox/policies/policies.json');
    const caFile = path.join(fx.tmp, 'policy-ca.pem');
    writeFileSync(caFile, fx.ca.certPem);
    mkdirSync(path.dirname(policyFile), { recursive: true });
    const policy = (file: string) =>
      writeFileSync(
        policyFile,
        JSON.stringify({ policies: { Certificates: { Install: [file] } } }),
      );
    try {
      policy(caFile);
      const s = await nssStore.status(fx.ca, ctx);
      const targets = new Map(s.targets?.map((t) => [t.path, t]));
      for (const d of [dbs.ffIni, dbs.ffScan] as string[]) {
        expect(targets.get(d)).toMatchObject({
          state: 'trusted',
          detail: `added at every start by the Firefox policy Certificates.Install: ${caFile}, listed in ${policyFile}`,
        });
      }
      // Chromium does not read Firefox policies: still missing there, and the store says so.
      expect(targets.get(dbs.chromium as string)?.state).toBe('not-trusted');
      expect(s.state).toBe('not-trusted');
      expect(s.detail).toBe(
        `missing from 1 of 3 NSS databases: ${targets.get(dbs.chromium as string)?.label}`,
      );

      // A policy naming another CA's file changes nothing (the file is read, not its name).
      const otherFile = path.join(fx.tmp, 'policy-other.pem');
      writeFileSync(otherFile, other.certPem);
      policy(otherFile);
      const s2 = await nssStore.status(fx.ca, ctx);
      expect(s2.targets?.filter((t) => t.state === 'trusted')).toEqual([]);
      expect(s2.detail).toContain('missing from 3 of 3 NSS databases');
    } finally {
      rmSync(path.join(ctx.root, 'etc/firefox'), { recursive: true, force: true });
    }
  });

  it('repairs a copy present without TLS trust instead of adding a second one', async () => {
    const d = dbs.ffScan as string;
    certutil(['-A', '-d', `sql:${d}`, '-t', ',,', '-n', nssNickname(fx.ca), '-a'], fx.ca.certPem);
    const s = await nssStore.status(fx.ca, ctx);
    const t = s.targets?.find((x) => x.path === d);
    expect(t?.state).toBe('not-trusted');
    expect(t?.detail).toContain('without TLS trust');
    expect((await nssStore.install(fx.ca, ctx)).state).toBe('trusted');
    const entries = parseCertutilList(certutil(['-L', '-d', dbArg({ dir: d, kind: 'sql' })]));
    expect(entries.filter((e) => e.nickname === nssNickname(fx.ca))).toEqual([
      { nickname: nssNickname(fx.ca), trust: 'C,,' },
    ]);
    expect((await nssStore.uninstall(fx.ca, ctx)).state).toBe('not-trusted');
  });

  it('a database with a primary password fails with the reason and the way out', async () => {
    // certutil's real output when it cannot authenticate (no terminal to ask on), through the runner.
    const run: TrustContext['run'] = async (file, args, opts) =>
      args[0] === '-A'
        ? {
            code: 255,
            stdout: '',
            stderr:
              'Error opening input terminal for read\ncertutil: could not authenticate to token NSS Certificate DB.: SEC_ERROR_BAD_PASSWORD: The security password entered is incorrect.\n',
          }
        : defaultRunner(file, args, opts);
    const r = await nssStore.install(fx.ca, { ...ctx, run });
    expect(r.state).toBe('error');
    expect(r.detail).toContain('has a primary password; run the install from a terminal');
    expect(r.changed).toBe(false);
  });

  it('warns that a running Firefox must be restarted', async () => {
    const lock = path.join(dbs.ffIni as string, 'lock');
    symlinkSync(`127.0.1.1:+${process.pid}`, lock);
    try {
      const r = await nssStore.install(fx.ca, ctx);
      expect(r.warnings?.join('\n')).toMatch(
        /Firefox is running with Firefox profile default-esr.*restart Firefox/,
      );
    } finally {
      rmSync(lock);
      await nssStore.uninstall(fx.ca, ctx);
    }
  });

  it('says "tool missing" with the distro install command when certutil is absent', async () => {
    const root = path.join(fx.tmp, 'root');
    mkdirSync(path.join(root, 'etc'), { recursive: true });
    writeFileSync(path.join(root, 'etc/os-release'), 'ID=ubuntu\nID_LIKE=debian\n');
    const emptyBin = mkdtempSync(path.join(os.tmpdir(), 'wss-nopath-'));
    try {
      const c = { ...ctx, env: { ...ctx.env, PATH: emptyBin } };
      const s = await nssStore.status(fx.ca, c);
      expect(s.state).toBe('tool-missing');
      expect(s.fix).toBe('sudo apt install libnss3-tools');
      expect(s.detail).toContain('"certutil" not found');
      expect((await nssStore.install(fx.ca, c)).state).toBe('tool-missing');
      writeFileSync(path.join(root, 'etc/os-release'), 'ID=fedora\n');
      expect((await nssStore.status(fx.ca, c)).fix).toBe('sudo dnf install nss-tools');
    } finally {
      rmSync(emptyBin, { recursive: true, force: true });
    }
  });

  it('with Chromium installed but never started, install creates ~/.pki/nssdb (needs certutil first)', async () => {
    const h = path.join(fx.tmp, 'fresh-home');
    mkdirSync(h);
    const fakeBin = path.join(fx.tmp, 'fake-bin');
    mkdirSync(fakeBin);
    writeFileSync(path.join(fakeBin, 'chromium'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const certutilDir = path.join(fx.tmp, 'certutil-bin');
    mkdirSync(certutilDir);
    symlinkSync(
      execFileSync('sh', ['-c', 'command -v certutil'], { encoding: 'utf8' }).trim(),
      path.join(certutilDir, 'certutil'),
    );

    const without = { ...ctx, home: h, env: { PATH: fakeBin } };
    expect(await nssStore.detect(without)).toBe(true);
    expect((await nssStore.status(fx.ca, without)).state).toBe('tool-missing');
    expect((await nssStore.install(fx.ca, without)).state).toBe('tool-missing');

    const withTool = { ...ctx, home: h, env: { PATH: `${fakeBin}:${certutilDir}` } };
    const s = await nssStore.status(fx.ca, withTool);
    expect(s.state).toBe('not-trusted');
    expect(s.detail).toContain('install creates ~/.pki/nssdb');
    const r = await nssStore.install(fx.ca, withTool);
    expect(r).toMatchObject({ state: 'trusted', changed: true });
    const db = path.join(h, '.pki/nssdb');
    expect(parseCertutilList(certutil(['-L', '-d', `sql:${db}`]))).toEqual([
      { nickname: nssNickname(fx.ca), trust: 'C,,' },
    ]);
    expect((await nssStore.uninstall(fx.ca, withTool)).state).toBe('not-trusted');
  });

  it('is not present without any database or Chromium-family browser', async () => {
    const emptyHome = path.join(fx.tmp, 'empty-home');
    mkdirSync(emptyHome);
    const binDir = path.dirname(
      execFileSync('sh', ['-c', 'command -v certutil'], { encoding: 'utf8' }).trim(),
    );
    const c = {
      ...ctx,
      home: emptyHome,
      env: { PATH: binDir === '/usr/bin' ? '/nonexistent' : binDir },
    };
    const s = await nssStore.status(fx.ca, c);
    expect(s.state).toBe('not-present');
    expect(await nssStore.detect(c)).toBe(false);
  });
});
