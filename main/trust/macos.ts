// macOS keychains, through Apple's `security` tool (mkcert's truststore_darwin.go uses the same calls):
//   install   security add-trusted-cert [-d] -r trustRoot -p ssl -k <keychain> <cert>
//   uninstall security delete-certificate -Z <SHA-1> -t <keychain>   (-t: drop its trust settings too)
//   status    security find-certificate -a -Z -c <CN> <keychain>    (matched by SHA-256/SHA-1 hash)
//             security trust-settings-export [-d] <file>            (trust settings keyed by SHA-1)
// The login keychain (user trust domain) needs no root; the System keychain (-d, admin domain) does.
// This machine cannot run `security`: the command lines and the parsing are unit-tested with samples.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {
  StoreChange,
  StoreStatus,
  TrustCa,
  TrustContext,
  TrustStore,
  TrustTarget,
} from './types';
import { firstLine, normHex, sha1Hex, sha256Hex, shLine } from './util';

export type MacKeychain = 'login' | 'system';

export const SYSTEM_KEYCHAIN = '/Library/Keychains/System.keychain';

export function keychainPath(which: MacKeychain, home: string): string {
  return which === 'system'
    ? SYSTEM_KEYCHAIN
    : path.join(home, 'Library/Keychains/login.keychain-db');
}

/** Which keychain `install` targets: login by default, System with WSS_STUDIO_MACOS_KEYCHAIN=system. */
export function targetKeychain(ctx: TrustContext): MacKeychain {
  return ctx.env.WSS_STUDIO_MACOS_KEYCHAIN === 'system' ? 'system' : 'login';
}

export function macInstallArgv(ca: TrustCa, which: MacKeychain, home: string): string[] {
  return [
    'security',
    'add-trusted-cert',
    ...(which === 'system' ? ['-d'] : []),
    '-r',
    'trustRoot',
    '-p',
    'ssl',
    '-k',
    keychainPath(which, home),
    ca.certPath,
  ];
}

export function macUninstallArgv(ca: TrustCa, which: MacKeychain, home: string): string[] {
  return ['security', 'delete-certificate', '-Z', sha1Hex(ca), '-t', keychainPath(which, home)];
}

export function macFindArgv(ca: TrustCa, which: MacKeychain, home: string): string[] {
  return [
    'security',
    'find-certificate',
    '-a',
    '-Z',
    '-c',
    ca.commonName,
    keychainPath(which, home),
  ];
}

/** Hashes of every certificate in `security find-certificate -a -Z` output (SHA-256 on 10.15+, SHA-1 always). */
export function parseFindCertificate(text: string): { sha1?: string; sha256?: string }[] {
  const out: { sha1?: string; sha256?: string }[] = [];
  let cur: { sha1?: string; sha256?: string } | null = null;
  for (const line of text.split(/\r?\n/)) {
    const m256 = /^SHA-256 hash:\s*([0-9A-Fa-f]+)/.exec(line);
    const m1 = /^SHA-1 hash:\s*([0-9A-Fa-f]+)/.exec(line);
    if (m256) {
      cur = { sha256: normHex(m256[1] as string) };
      out.push(cur);
    } else if (m1) {
      // SHA-1 follows SHA-256 for the same certificate; on old macOS it comes alone.
      if (cur && !cur.sha1) cur.sha1 = normHex(m1[1] as string);
      else {
        cur = { sha1: normHex(m1[1] as string) };
        out.push(cur);
      }
    }
  }
  return out;
}

/**
 * Trust settings from `security trust-settings-export` (an XML plist: trustList keyed by upper-case
 * SHA-1). Returns whether our certificate has a setting that makes it a trusted root: either an empty
 * trustSettings array (trust for everything) or a kSecTrustSettingsResult of 1 (TrustRoot) that is not
 * limited to a non-SSL policy.
 */
export function trustSettingsTrustRoot(plist: string, sha1: string): boolean {
  const key = `<key>${sha1.toUpperCase()}</key>`;
  const at = plist.toUpperCase().indexOf(key.toUpperCase());
  if (at === -1) return false;
  const rest = plist.slice(at + key.length);
  // The entry is the <dict> right after the key; trustSettings is inside it, before the next SHA-1 key.
  const nextKey = rest.search(/<key>[0-9A-Fa-f]{40}<\/key>/);
  const entry = nextKey === -1 ? rest : rest.slice(0, nextKey);
  const ts = /<key>trustSettings<\/key>\s*(<array\/>|<array>([\s\S]*?)<\/array>)/.exec(entry);
  if (!ts) return false;
  if (ts[1] === '<array/>' || !(ts[2] ?? '').trim()) return true;
  const dicts = (ts[2] as string).split(/<dict>/).slice(1);
  return dicts.some((d) => {
    const result = /<key>kSecTrustSettingsResult<\/key>\s*<integer>(\d+)<\/integer>/.exec(d);
    const policy = /<key>kSecTrustSettingsPolicyName<\/key>\s*<string>([^<]*)<\/string>/.exec(d);
    const isRoot = !result || result[1] === '1';
    const sslish = !policy || /^ssl/i.test(policy[1] as string);
    return isRoot && sslish;
  });
}

async function exportTrust(ctx: TrustContext, admin: boolean): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wss-trust-'));
  const file = path.join(dir, 'trust.plist');
  try {
    const r = await ctx.run('security', ['trust-settings-export', ...(admin ? ['-d'] : []), file]);
    // "No Trust Settings were found" exits non-zero: that simply means nothing is trusted there.
    if (r.code !== 0) return '';
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const LABEL = 'macOS keychain';

async function measure(ca: TrustCa, ctx: TrustContext): Promise<StoreStatus> {
  if (ctx.platform !== 'darwin') {
    return {
      store: 'macos',
      label: LABEL,
      state: 'not-present',
      detail: `not macOS (${ctx.platform})`,
    };
  }
  const sha1 = sha1Hex(ca);
  const sha256 = sha256Hex(ca);
  const which: MacKeychain[] = ['login', 'system'];
  const [finds, userTrust, adminTrust] = await Promise.all([
    Promise.all(
      which.map(async (k) => {
        const [cmd, ...args] = macFindArgv(ca, k, ctx.home);
        return ctx.run(cmd as string, args);
      }),
    ),
    exportTrust(ctx, false),
    exportTrust(ctx, true),
  ]);
  if (finds.some((r) => r.spawnError === 'ENOENT')) {
    return { store: 'macos', label: LABEL, state: 'tool-missing', detail: '"security" not found' };
  }
  const targets: TrustTarget[] = which.map((k, i) => {
    const r = finds[i];
    const found =
      r?.code === 0 &&
      parseFindCertificate(r.stdout).some((h) => h.sha256 === sha256 || h.sha1 === sha1);
    // Trust settings belong to the certificate, not the keychain: either domain counts.
    const trusted =
      found &&
      (trustSettingsTrustRoot(userTrust, sha1) || trustSettingsTrustRoot(adminTrust, sha1));
    return {
      label: `${k} keychain`,
      path: keychainPath(k, ctx.home),
      state: trusted ? 'trusted' : 'not-trusted',
      detail: trusted
        ? 'present, trusted for SSL'
        : found
          ? 'present, no SSL trust setting'
          : 'missing',
    };
  });
  const hit = targets.find((t) => t.state === 'trusted');
  return {
    store: 'macos',
    label: LABEL,
    state: hit ? 'trusted' : 'not-trusted',
    detail: hit
      ? `trusted in the ${hit.label}`
      : targets.map((t) => `${t.label}: ${t.detail}`).join('; '),
    ...(hit ? {} : { fix: `${ctx.cliName} trust install --stores macos` }),
    targets,
  };
}

export const macosStore: TrustStore = {
  id: 'macos',
  label: LABEL,

  async detect(ctx) {
    return ctx.platform === 'darwin';
  },

  status: measure,

  async install(ca, ctx) {
    const before = await measure(ca, ctx);
    if (before.state !== 'not-trusted') return { ...before, changed: false };
    const which = targetKeychain(ctx);
    const argv = macInstallArgv(ca, which, ctx.home);
    if (which === 'system' && ctx.uid !== 0) {
      return {
        ...before,
        state: 'needs-permission',
        detail: 'the System keychain needs an administrator',
        fix: `sudo ${shLine(argv)}`,
        changed: false,
      };
    }
    const r = await ctx.run(argv[0] as string, argv.slice(1), { timeoutMs: 120_000 });
    const after = await measure(ca, ctx);
    if (r.code !== 0) {
      return {
        ...after,
        state: 'error',
        detail: `${shLine(argv)} failed: ${firstLine(r.stderr, r.stdout)}`,
        changed: false,
      };
    }
    return { ...after, changed: true };
  },

  async uninstall(ca, ctx) {
    const before = await measure(ca, ctx);
    const present = (before.targets ?? []).filter((t) => t.detail !== 'missing');
    if (!present.length) {
      const res: StoreChange = { ...before, changed: false };
      delete res.fix;
      return res;
    }
    let changed = false;
    const failures: string[] = [];
    for (const t of present) {
      const which: MacKeychain = t.path === SYSTEM_KEYCHAIN ? 'system' : 'login';
      const argv = macUninstallArgv(ca, which, ctx.home);
      if (which === 'system' && ctx.uid !== 0) {
        return {
          ...before,
          state: 'needs-permission',
          detail: 'the System keychain needs an administrator',
          fix: `sudo ${shLine(argv)}`,
          changed,
        };
      }
      const r = await ctx.run(argv[0] as string, argv.slice(1), { timeoutMs: 120_000 });
      if (r.code !== 0) failures.push(`${shLine(argv)}: ${firstLine(r.stderr, r.stdout)}`);
      else changed = true;
    }
    const after = await measure(ca, ctx);
    delete after.fix;
    if (failures.length) return { ...after, state: 'error', detail: failures.join('; '), changed };
    return { ...after, changed };
  },
};
