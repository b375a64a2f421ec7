import type { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DoctorClientVerdict } from '../../shared/api';
import type { TrustContext } from '../trust/types';
import { beyondProfileDb } from './clients';
import { enterpriseRoots, findFirefoxPolicy, policyInstalls } from '../trust/firefox-policy';
import { parsePemBundle } from './tls';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wss-fftrust-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(rel: string, text: string | Buffer): string {
  const f = path.join(dir, rel);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, text);
  return f;
}

const bundle = parsePemBundle(fs.readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8'));
const [caA, caB] = bundle as [X509Certificate, X509Certificate];

describe('findFirefoxPolicy', () => {
  it('reads /etc/firefox/policies first, else a distribution folder; nothing on macOS/Windows', () => {
    const ctx = { root: dir, platform: 'linux' as const };
    expect(findFirefoxPolicy(ctx)).toBeNull();
    const dist = write(
      'usr/lib/firefox-esr/distribution/policies.json',
      JSON.stringify({
        policies: { Certificates: { Install: ['a.pem', 7], ImportEnterpriseRoots: true } },
      }),
    );
    expect(findFirefoxPolicy(ctx)).toEqual({
      file: dist,
      install: ['a.pem'],
      importEnterpriseRoots: true,
    });
    const etc = write('etc/firefox/policies/policies.json', '{"policies":{}}');
    expect(findFirefoxPolicy(ctx)).toEqual({ file: etc, install: [] });
    expect(findFirefoxPolicy({ root: dir, platform: 'darwin' })).toBeNull();
  });

  it('a policies.json that is not JSON installs nothing', () => {
    const f = write('etc/firefox/policies/policies.json', '{"policies": {"Certificates": ');
    expect(findFirefoxPolicy({ root: dir, platform: 'linux' })).toEqual({ file: f, install: [] });
  });
});

describe('policyInstalls', () => {
  it('finds the CA by content: absolute path, PEM or DER, a bare name in ~/.mozilla/certificates', () => {
    const home = path.join(dir, 'home');
    const ctx = { root: dir, home };
    const pem = write('x/a.pem', caA.toString());
    const der = write('x/a.der', caA.raw);
    const other = write('x/b.pem', caB.toString());
    const policy = (install: string[]) => ({
      file: path.join(dir, 'etc/firefox/policies/policies.json'),
      install,
    });
    expect(policyInstalls(policy([pem]), caA, ctx)).toBe(pem);
    expect(policyInstalls(policy([der]), caA, ctx)).toBe(der);
    expect(policyInstalls(policy([other]), caA, ctx)).toBeNull();
    expect(policyInstalls(policy(['mine.crt']), caA, ctx)).toBeNull();
    const mine = write('home/.mozilla/certificates/mine.crt', caA.toString());
    expect(policyInstalls(policy(['mine.crt']), caA, ctx)).toBe(mine);
    // A distribution policy looks in its own certificates folder first.
    const distCert = write('usr/lib/firefox/distribution/certificates/mine.crt', caB.toString());
    const dist = {
      file: path.join(dir, 'usr/lib/firefox/distribution/policies.json'),
      install: ['mine.crt'],
    };
    expect(policyInstalls(dist, caA, ctx)).toBeNull();
    expect(policyInstalls(dist, caB, ctx)).toBe(distCert);
  });
});

describe('enterpriseRoots', () => {
  it('the policy lock wins, then user.js, then prefs.js; the last line of a file wins', () => {
    const prof = path.join(dir, 'prof');
    expect(enterpriseRoots(prof, null)).toBeUndefined();
    const prefs = write(
      'prof/prefs.js',
      'user_pref("security.enterprise_roots.enabled", false);\n',
    );
    expect(enterpriseRoots(prof, null)).toEqual({ value: false, source: prefs });
    const user = write(
      'prof/user.js',
      'user_pref("security.enterprise_roots.enabled", false);\nuser_pref("security.enterprise_roots.enabled", true);\n// user_pref("security.enterprise_roots.enabled", false);\n',
    );
    expect(enterpriseRoots(prof, null)).toEqual({ value: true, source: user });
    const pol = { file: '/p.json', install: [], importEnterpriseRoots: false };
    expect(enterpriseRoots(prof, pol)).toEqual({ value: false, source: '/p.json' });
  });
});

describe('beyondProfileDb (the Firefox row)', () => {
  const failing = (profile: string): DoctorClientVerdict => ({
    client: 'firefox',
    name: 'Firefox profile p',
    label: 'Firefox profile p (…)',
    verdict: 'fails',
    reason: 'CA "A" not installed',
    fix: 'Install the WSS Studio CA into the NSS database',
    install: ['nss'],
    path: profile,
  });
  const ctxOf = (platform: NodeJS.Platform) =>
    ({ platform, root: dir, home: path.join(dir, 'home') }) as TrustContext;
  const anchor = () => ({ cert: caA, ours: true, public: false });

  it('macOS: the keychain counts unless the profile turns enterprise roots off', () => {
    const prof = path.join(dir, 'prof');
    fs.mkdirSync(prof);
    const on = beyondProfileDb(failing(prof), anchor(), ctxOf('darwin'), true);
    expect(on.verdict).toBe('works');
    expect(on.reason).toContain('security.enterprise_roots.enabled by default');
    expect(on.fix).toBeUndefined();
    // Not trusted in the keychain either: still fails, fix kept.
    expect(beyondProfileDb(failing(prof), anchor(), ctxOf('darwin'), false)).toEqual(failing(prof));
    const user = write('prof/user.js', 'user_pref("security.enterprise_roots.enabled", false);\n');
    const off = beyondProfileDb(failing(prof), anchor(), ctxOf('darwin'), true);
    expect(off.verdict).toBe('fails');
    expect(off.reason).toContain(`the macOS keychain trusts it, but ${user} turns`);
    expect(off.install).toEqual(['nss']);
  });

  it('Linux: enterprise roots are named as ignored; the OS store never makes it work', () => {
    const prof = path.join(dir, 'prof');
    write('prof/prefs.js', 'user_pref("security.enterprise_roots.enabled", true);\n');
    const v = beyondProfileDb(failing(prof), anchor(), ctxOf('linux'), true);
    expect(v.verdict).toBe('fails');
    expect(v.reason).toMatch(
      /is set \(.*prefs\.js\), but Firefox on Linux reads no OS store with it$/,
    );
  });
});
