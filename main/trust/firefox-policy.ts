// What a Firefox profile trusts beyond its own NSS database (cert9.db). Measured with Firefox ESR 153 on
// Debian (e2e/doctor-firefox-policy.test.ts), and read from its own code (browser/omni.ja,
// modules/policies/Policies.sys.mjs and EnterprisePoliciesParent.sys.mjs):
// - policies.json `Certificates.Install`: Firefox adds the listed certificate files as trusted CAs at every
//   start. On Linux it reads /etc/firefox/policies/policies.json when that exists (SysConfD is /etc/firefox
//   for firefox-esr too; /etc/firefox-esr/policies is NOT read), else <install dir>/distribution/
//   policies.json. A bare file name is looked up in distribution/certificates, ~/.mozilla/certificates and
//   /usr/lib/mozilla/certificates. (The profile's db then holds the CA with empty trust flags: the policy,
//   not the db, makes it trusted, so the db alone says "not trusted".)
// - `security.enterprise_roots.enabled` (user.js, prefs.js, or the policy `Certificates.ImportEnterpriseRoots`):
//   on Linux Firefox gathers no OS roots with it (a CA only in /etc/ssl/certs stays refused with the pref
//   set, measured); on macOS and Windows it trusts the roots users added to the OS store, and it is on by
//   default there since Firefox 120 ("Firefox now imports TLS trust anchors from the operating system root
//   store", release notes).
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { TrustContext } from './types';
import { pemBodies } from './util';

export interface FirefoxPolicy {
  /** The policies.json Firefox reads. */
  file: string;
  /** Certificates.Install entries as written. */
  install: string[];
  /** Certificates.ImportEnterpriseRoots when set (it locks the pref). */
  importEnterpriseRoots?: boolean;
}

/** Read at most this much of a policies.json or prefs file (they are small; a huge one is not ours to parse). */
const MAX_FILE = 4 * 1024 * 1024;

function readSmall(file: string): string | null {
  try {
    const st = statSync(file);
    if (!st.isFile() || st.size > MAX_FILE) return null;
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** Install folders whose distribution/policies.json a Linux Firefox may read (distribution packages, tarball). */
const LINUX_INSTALL_DIRS = [
  '/usr/lib/firefox-esr',
  '/usr/lib/firefox',
  '/usr/lib64/firefox',
  '/opt/firefox',
  '/opt/firefox-esr',
];

/** Every policies.json a Linux Firefox may read, in the order Firefox looks (the first that exists wins). */
export function firefoxPolicyCandidates(ctx: Pick<TrustContext, 'root'>): string[] {
  return [
    '/etc/firefox/policies/policies.json',
    ...LINUX_INSTALL_DIRS.map((d) => `${d}/distribution/policies.json`),
  ].map((c) => path.join(ctx.root, c));
}

/** The policies.json Firefox on Linux reads: /etc/firefox/policies wins when it exists. */
export function findFirefoxPolicy(
  ctx: Pick<TrustContext, 'root' | 'platform'>,
): FirefoxPolicy | null {
  if (ctx.platform !== 'linux') return null;
  for (const file of firefoxPolicyCandidates(ctx)) {
    const text = readSmall(file);
    if (text === null) continue;
    let certs: unknown;
    try {
      certs = (JSON.parse(text) as { policies?: { Certificates?: unknown } }).policies
        ?.Certificates;
    } catch {
      return { file, install: [] }; // Firefox ignores a policies.json it cannot parse
    }
    const c2 = (certs && typeof certs === 'object' ? certs : {}) as Record<string, unknown>;
    const install = Array.isArray(c2.Install)
      ? c2.Install.filter((x): x is string => typeof x === 'string')
      : [];
    const imp = c2.ImportEnterpriseRoots;
    return { file, install, ...(typeof imp === 'boolean' ? { importEnterpriseRoots: imp } : {}) };
  }
  return null;
}

/** The certificate file a policy's Install entry names, found as Firefox finds it. */
export function installFiles(
  entry: string,
  policy: FirefoxPolicy,
  ctx: Pick<TrustContext, 'root' | 'home'>,
): string[] {
  if (path.isAbsolute(entry)) return [entry];
  const dist = path.dirname(policy.file).endsWith(`${path.sep}distribution`)
    ? path.dirname(policy.file)
    : null;
  return [
    ...(dist ? [path.join(dist, 'certificates', entry)] : []),
    path.join(ctx.home, '.mozilla', 'certificates', entry),
    path.join(ctx.root, 'usr/lib/mozilla/certificates', entry),
    path.join(ctx.root, 'usr/lib64/mozilla/certificates', entry),
  ];
}

/** The Install entry's file that holds `ca` (PEM or DER), or null. */
export function policyInstalls(
  policy: FirefoxPolicy,
  ca: X509Certificate,
  ctx: Pick<TrustContext, 'root' | 'home'>,
): string | null {
  for (const entry of policy.install) {
    for (const file of installFiles(entry, policy, ctx)) {
      let bytes: Buffer;
      try {
        const st = statSync(file);
        if (!st.isFile() || st.size > MAX_FILE) continue;
        bytes = readFileSync(file);
      } catch {
        continue;
      }
      // Firefox reads the first certificate of the file, DER or PEM.
      const pem = pemBodies(bytes.toString('latin1'))[0];
      const first = derCert(pem === undefined ? bytes : Buffer.from(pem, 'base64'));
      if (first?.fingerprint256 === ca.fingerprint256) return file;
      break; // the first existing file is the one Firefox uses
    }
  }
  return null;
}

function derCert(bytes: Buffer): X509Certificate | null {
  try {
    return new X509Certificate(bytes);
  } catch {
    return null;
  }
}

/**
 * The profile's `security.enterprise_roots.enabled`: the policy's lock wins, then user.js (applied at every
 * start), then prefs.js; undefined when none sets it (the platform default applies).
 */
export function enterpriseRoots(
  profileDir: string,
  policy: FirefoxPolicy | null,
): { value: boolean; source: string } | undefined {
  if (policy?.importEnterpriseRoots !== undefined)
    return { value: policy.importEnterpriseRoots, source: policy.file };
  for (const f of ['user.js', 'prefs.js']) {
    const file = path.join(profileDir, f);
    const text = readSmall(file);
    if (text === null) continue;
    let value: boolean | undefined;
    const re =
      /^\s*user_pref\(\s*["']security\.enterprise_roots\.enabled["']\s*,\s*(true|false)\s*\)/gm;
    for (const m of text.matchAll(re)) value = m[1] === 'true'; // the last one wins, as in Firefox
    if (value !== undefined) return { value, source: file };
  }
  return undefined;
}
