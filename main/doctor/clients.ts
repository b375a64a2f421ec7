// Over 400 lines: one verdict per client family, each a short function over the same trust-store status.
// Per-client trust: "will *my* client accept this certificate?". Each client family reads its own trust
// store, so each gets its own verdict, measured with the trust engine's per-store status (main/trust) for
// the CA the chain ends at, never inferred from our own CA:
//   Chrome/Chromium on Linux   the NSS database(s) ~/.pki/nssdb (+ snap/flatpak copies)
//   each Firefox profile       its own NSS database (cert9.db)
//   curl, openssl, Python, Go  the system bundle (/etc/ssl/certs/ca-certificates.crt ...)
//   Node                       its bundled roots + the file in NODE_EXTRA_CA_CERTS (read at start-up)
//   Java                       cacerts of the detected JDK
//   Windows (also from WSL)    the user Root store; macOS: the keychains
// A root in Node's bundled list (Mozilla's root program, which browsers also ship) is a public root: the
// browsers trust it without any database entry.
import type { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import {
  DOCTOR_CLIENTS,
  type DoctorClient,
  type DoctorClientVerdict,
  type TrustStoreId,
} from '../../shared/api';
import { detectStores, defaultContext, trustStatusAll } from '../trust';
import { findNssDbs } from '../trust/nss';
import type { StoreStatus, TrustCa, TrustContext, TrustTarget } from '../trust/types';
import { enterpriseRoots, findFirefoxPolicy, policyInstalls } from '../trust/firefox-policy';
import { cnOf, findAnchor, parsePemBundle } from './tls';

export { DOCTOR_CLIENTS, type DoctorClient, type DoctorClientVerdict };

export interface ClientOptions {
  /** Judge only these families (`doctor --client`). Default: every family found on this machine. */
  only?: DoctorClient[];
  /** Trust context overrides: tests pass a temp HOME, root and env (NODE_EXTRA_CA_CERTS comes from env). */
  context?: Partial<TrustContext>;
  /** The WSS Studio CA certificate file, for the Node fix (NODE_EXTRA_CA_CERTS=...). */
  caPath?: string;
  /** The trust-state cache to refresh with what is measured here (main/trust/cache.ts). */
  cacheFile?: string;
}

export interface ClientInputs {
  chain: X509Certificate[];
  ourCa: X509Certificate | null;
  /** A problem every client refuses whatever it trusts (name mismatch, expired): short code + text. */
  universal: string | null;
  opts: ClientOptions;
}

let nodeRoots: X509Certificate[] | undefined;
function bundledRoots(): X509Certificate[] {
  nodeRoots ??= parsePemBundle(tls.rootCertificates.join('\n'));
  return nodeRoots;
}

interface Anchor {
  cert: X509Certificate;
  ours: boolean;
  /** In Mozilla's root program (Node's bundled list): browsers trust it built in. */
  public: boolean;
}

/** The CA the chain ends at: ours, the self-signed top of the chain, or a known root that signed it. */
export function pickAnchor(chain: X509Certificate[], ourCa: X509Certificate | null): Anchor | null {
  const roots = bundledRoots();
  const isPublic = (c: X509Certificate) => roots.some((r) => r.fingerprint256 === c.fingerprint256);
  if (ourCa && findAnchor(chain, [ourCa])) return { cert: ourCa, ours: true, public: false };
  const top = chain[chain.length - 1];
  if (!top) return null;
  if (top.subject === top.issuer && safeSelfSigned(top)) {
    return { cert: top, ours: false, public: isPublic(top) };
  }
  const known = findAnchor(chain, roots);
  return known ? { cert: known, ours: false, public: true } : null;
}

function safeSelfSigned(c: X509Certificate): boolean {
  try {
    return c.verify(c.publicKey);
  } catch {
    return false;
  }
}

function trustCaOf(cert: X509Certificate, certPath: string): TrustCa {
  return {
    certPem: cert.toString(),
    certDer: cert.raw,
    fingerprint256: cert.fingerprint256,
    serialHex: cert.serialNumber,
    commonName: cnOf(cert.subject),
    certPath,
  };
}

/** Which families live in which store on this platform. */
function storesFor(platform: NodeJS.Platform): Partial<Record<TrustStoreId, DoctorClient[]>> {
  // macOS/Windows: Chrome, Edge, Safari and curl read the OS store (one verdict, named for them).
  if (platform === 'darwin') return { macos: ['macos'], nss: ['firefox'], java: ['java'] };
  if (platform === 'win32') return { windows: ['windows'], java: ['java'] };
  // Linux; `windows` is the Windows side of WSL (Windows browsers), detected through interop.
  return { nss: ['chrome', 'firefox'], system: ['system'], java: ['java'], windows: ['windows'] };
}

const STORE_NAMES: Record<TrustStoreId, string> = {
  system: 'the system bundle',
  nss: 'the NSS database',
  java: 'Java cacerts',
  macos: 'the macOS keychain',
  windows: 'the Windows user Root store',
};

/**
 * One verdict per client family present (or asked for with `only`). Never throws: a store that cannot be
 * read gives an "unknown" verdict with the reason.
 */
export async function judgeClients(inp: ClientInputs): Promise<DoctorClientVerdict[]> {
  const ctx = defaultContext(inp.opts.context);
  // On macOS and Windows, Chrome reads the OS store: --client chrome means that row there.
  const osStore: DoctorClient | null =
    ctx.platform === 'darwin' ? 'macos' : ctx.platform === 'win32' ? 'windows' : null;
  const only = inp.opts.only?.map((c) => (c === 'chrome' && osStore ? osStore : c));
  const wanted = (c: DoctorClient) => !only?.length || only.includes(c);
  const anchor = pickAnchor(inp.chain, inp.ourCa);
  const caPath = inp.opts.caPath ?? 'ca.pem';
  const map = storesFor(ctx.platform);
  const detected = await detectStores(ctx);
  const ids = (Object.keys(map) as TrustStoreId[]).filter(
    (id) =>
      detected.includes(id) &&
      ((map[id] ?? []).some(wanted) ||
        // Firefox on macOS also trusts the keychain (enterprise roots): its verdict needs that status.
        (id === 'macos' && wanted('firefox'))),
  );
  const statuses: StoreStatus[] =
    anchor && ids.length
      ? await trustStatusAll(trustCaOf(anchor.cert, anchor.ours ? caPath : '(the issuing CA)'), {
          stores: ids,
          context: ctx,
          ...(inp.opts.cacheFile ? { cacheFile: inp.opts.cacheFile } : {}),
        })
      : [];
  const out: DoctorClientVerdict[] = [];
  const osTrusted = statuses.some((s) => s.store === 'macos' && s.state === 'trusted');
  for (const s of statuses)
    out.push(
      ...fromStore(s, anchor as Anchor, ctx)
        .map((v) =>
          v.client === 'firefox' ? beyondProfileDb(v, anchor as Anchor, ctx, osTrusted) : v,
        )
        .filter((v) => wanted(v.client)),
    );
  if (wanted('node')) out.push(nodeVerdict(inp.chain, anchor, ctx.env, caPath));
  if (!anchor) {
    // No CA to trust at all: every client refuses, and no store can be asked about it.
    for (const id of ids)
      for (const c of map[id] ?? [])
        if (wanted(c))
          out.push({
            client: c,
            name: familyName(c),
            label: familyName(c),
            verdict: 'fails',
            reason: 'no known CA issued this certificate, so there is nothing it could trust',
          });
  }
  // Asked for by name (--client java) but absent here: say so instead of judging nobody.
  for (const c of only ?? []) {
    if (!out.some((v) => v.client === c)) {
      out.push({
        client: c,
        name: familyName(c),
        label: familyName(c),
        verdict: 'unknown',
        reason: `no ${familyName(c)} trust store found on this machine`,
      });
    }
  }
  const order = (c: DoctorClient) => DOCTOR_CLIENTS.indexOf(c);
  out.sort((a, b) => order(a.client) - order(b.client));
  if (inp.universal && anchor) {
    for (const v of out) {
      if (v.verdict === 'works') {
        v.verdict = 'fails';
        v.reason = `${inp.universal} (its CA is trusted here)`;
      } else v.reason = `${inp.universal}; also ${v.reason}`;
    }
  }
  return out;
}

function familyName(c: DoctorClient): string {
  return {
    chrome: 'Chrome/Chromium',
    firefox: 'Firefox',
    system: 'curl/openssl/Python/Go',
    node: 'Node',
    java: 'Java',
    windows: 'Windows browsers',
    macos: 'Safari and macOS apps',
  }[c];
}

function fromStore(s: StoreStatus, anchor: Anchor, ctx: TrustContext): DoctorClientVerdict[] {
  const cn = JSON.stringify(cnOf(anchor.cert.subject));
  const verdictOf = (state: TrustTarget['state']): DoctorClientVerdict['verdict'] =>
    state === 'trusted'
      ? 'works'
      : state === 'not-trusted' || state === 'not-present' || state === 'needs-permission'
        ? 'fails'
        : 'unknown';
  const one = (
    client: DoctorClient,
    name: string,
    label: string,
    state: TrustTarget['state'],
    detail: string,
    path?: string,
  ): DoctorClientVerdict => {
    const v = verdictOf(state);
    const browserBuiltIn = anchor.public && (client === 'chrome' || client === 'firefox');
    if (browserBuiltIn) {
      return {
        client,
        name,
        label,
        verdict: 'works',
        reason: `${cn} is a public root built into the browser`,
        ...(path ? { path } : {}),
      };
    }
    const base = { client, name, label, ...(path ? { path } : {}) };
    if (v === 'works') return { ...base, verdict: v, reason: `CA ${cn} trusted (${detail})` };
    if (v === 'unknown') {
      return {
        ...base,
        verdict: v,
        reason: `cannot tell: ${detail}`,
        ...(s.fix
          ? {
              fix:
                s.state === 'tool-missing'
                  ? `Install the tool that reads ${STORE_NAMES[s.store]}, then diagnose again`
                  : `Repair ${STORE_NAMES[s.store]}, then diagnose again`,
              command: s.fix,
            }
          : {}),
      };
    }
    return {
      ...base,
      verdict: v,
      reason: `CA ${cn} not installed${detail && detail !== 'missing' ? ` (${detail})` : ''}`,
      ...(anchor.ours
        ? {
            fix: `Install the WSS Studio CA into ${STORE_NAMES[s.store]}`,
            ...(s.fix ? { command: s.fix } : {}),
            install: [s.store],
          }
        : {
            fix: `Trust the CA ${cn} in ${STORE_NAMES[s.store]}, or serve a certificate issued by the WSS Studio CA`,
          }),
    };
  };
  if (s.store === 'nss') {
    const browserOf = new Map(findNssDbs(ctx).map((d) => [d.dir, d.browser]));
    const targets = s.targets ?? [];
    if (!targets.length) {
      // Chromium installed, no database yet: install creates ~/.pki/nssdb.
      return [
        one('chrome', 'Chrome/Chromium', 'Chrome/Chromium (~/.pki/nssdb)', s.state, s.detail),
      ];
    }
    return targets.map((t) => {
      const ff = browserOf.get(t.path) === 'firefox';
      const name = ff ? t.label.replace(/\s*\(.*\)$/, '') : 'Chrome/Chromium';
      return one(ff ? 'firefox' : 'chrome', name, t.label, t.state, t.detail ?? s.detail, t.path);
    });
  }
  const path = s.targets?.[0]?.path;
  if (s.store === 'system')
    return [
      one(
        'system',
        'curl/openssl/Python/Go',
        `curl, openssl, Python, Go (${s.label})`,
        s.state,
        s.detail,
        path,
      ),
    ];
  if (s.store === 'java')
    return [one('java', 'Java', `Java (${path ?? 'cacerts'})`, s.state, s.detail, path)];
  if (s.store === 'macos') {
    return [
      one(
        'macos',
        'Safari and macOS apps',
        'Safari, Chrome, curl (macOS keychains)',
        s.state,
        s.detail,
        path,
      ),
    ];
  }
  if (s.store === 'windows') {
    const wsl = ctx.platform === 'linux';
    return [
      one(
        'windows',
        wsl ? 'Windows browsers' : 'Chrome/Edge',
        wsl
          ? 'Windows browsers: Chrome, Edge (Windows user Root store, through WSL)'
          : 'Chrome, Edge, curl (Windows user Root store)',
        s.state,
        s.detail,
        path,
      ),
    ];
  }
  return [];
}

/**
 * A Firefox profile also trusts what a policies.json installs at every start and, on macOS, the keychain
 * (enterprise roots, on by default there); on Linux enterprise roots add nothing (see main/trust/firefox-policy.ts).
 */
export function beyondProfileDb(
  v: DoctorClientVerdict,
  anchor: Anchor,
  ctx: TrustContext,
  osTrusted: boolean,
): DoctorClientVerdict {
  if (v.verdict === 'works') return v;
  const cn = JSON.stringify(cnOf(anchor.cert.subject));
  const base = {
    client: v.client,
    name: v.name,
    label: v.label,
    ...(v.path ? { path: v.path } : {}),
  };
  const policy = findFirefoxPolicy(ctx);
  const installed = policy && policyInstalls(policy, anchor.cert, ctx);
  if (policy && installed) {
    return {
      ...base,
      verdict: 'works',
      reason: `CA ${cn} added at every start by the Firefox policy Certificates.Install (${installed}, listed in ${policy.file})`,
    };
  }
  const er = v.path ? enterpriseRoots(v.path, policy) : undefined;
  if (ctx.platform === 'darwin' && osTrusted) {
    if (er?.value !== false) {
      return {
        ...base,
        verdict: 'works',
        reason: `CA ${cn} trusted in the macOS keychain, which this profile reads (security.enterprise_roots.enabled ${er ? `in ${er.source}` : 'by default'})`,
      };
    }
    return {
      ...v,
      reason: `${v.reason}; the macOS keychain trusts it, but ${er.source} turns security.enterprise_roots.enabled off`,
    };
  }
  if (ctx.platform === 'linux' && er?.value) {
    return {
      ...v,
      reason: `${v.reason}; security.enterprise_roots.enabled is set (${er.source}), but Firefox on Linux reads no OS store with it`,
    };
  }
  return v;
}

/** Node: its bundled roots, plus NODE_EXTRA_CA_CERTS (one file, read once at start-up), plus the system
 * store when told to use it (--use-openssl-ca / --use-system-ca / NODE_USE_SYSTEM_CA=1). */
export function nodeVerdict(
  chain: X509Certificate[],
  anchor: Anchor | null,
  env: NodeJS.ProcessEnv,
  caPath: string,
): DoctorClientVerdict {
  const extra = env.NODE_EXTRA_CA_CERTS;
  const useSystem =
    /--use-openssl-ca|--use-system-ca/.test(env.NODE_OPTIONS ?? '') ||
    env.NODE_USE_SYSTEM_CA === '1';
  const label = `Node (bundled roots${extra ? ` + NODE_EXTRA_CA_CERTS=${extra}` : ''}${useSystem ? ' + system store' : ''})`;
  const anchors = [...bundledRoots()];
  let unreadable = '';
  if (extra) {
    try {
      anchors.push(...parsePemBundle(readFileSync(extra, 'utf8')));
    } catch (e) {
      unreadable = `NODE_EXTRA_CA_CERTS=${extra} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}); Node ignores it with a warning`;
    }
  }
  if (useSystem) {
    for (const f of ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt']) {
      try {
        anchors.push(...parsePemBundle(readFileSync(f, 'utf8')));
      } catch {
        // each distribution has one of them
      }
    }
  }
  const found = findAnchor(chain, anchors);
  const base = { client: 'node' as const, name: 'Node', label, ...(extra ? { path: extra } : {}) };
  if (found) {
    const where = bundledRoots().includes(found)
      ? 'a bundled root'
      : extra && !unreadable
        ? `in ${extra}`
        : 'in the system store';
    return {
      ...base,
      verdict: 'works',
      reason: `CA ${JSON.stringify(cnOf(found.subject))} is ${where}`,
    };
  }
  const cn = anchor ? JSON.stringify(cnOf(anchor.cert.subject)) : 'of this certificate';
  const reason =
    unreadable ||
    (extra
      ? `CA ${cn} is not in ${extra} nor among the bundled roots`
      : `CA ${cn} is not among the bundled roots and NODE_EXTRA_CA_CERTS is not set`);
  if (!anchor?.ours) return { ...base, verdict: 'fails', reason };
  return {
    ...base,
    verdict: 'fails',
    reason,
    fix:
      extra && !unreadable
        ? `Start Node with NODE_EXTRA_CA_CERTS pointing at a file that holds the WSS Studio CA (${caPath}); it takes one file, so append the CA to ${extra} or point it at ${caPath}`
        : `Start Node with NODE_EXTRA_CA_CERTS=${caPath}`,
    command: `export NODE_EXTRA_CA_CERTS=${caPath}`,
  };
}

/**
 * The overall sentence: "works in Chrome/Chromium and curl/openssl/Python/Go; fails in Firefox profile
 * default-esr (CA not installed: wss-studio trust install --stores nss) and in Node (set
 * NODE_EXTRA_CA_CERTS=/x/ca.pem)". `commands`: put the terminal command in (CLI) or the fix in words (UI).
 */
export function clientSummary(clients: DoctorClientVerdict[], commands = true): string {
  const works = clients.filter((c) => c.verdict === 'works').map((c) => c.name);
  const fails = clients.filter((c) => c.verdict === 'fails');
  const unknown = clients.filter((c) => c.verdict === 'unknown').map((c) => c.name);
  const failText = fails.map((c) => {
    const fix = commands ? c.command?.replace(/^export /, 'set ') : c.fix;
    // Node's fix says it all ("set NODE_EXTRA_CA_CERTS=..."); others say why, then the fix.
    if (c.client === 'node' && fix) return `${c.name} (${fix})`;
    const what = /not installed/.test(c.reason) ? 'CA not installed' : c.reason.split(' (')[0];
    return `${c.name} (${what}${fix ? `: ${fix}` : ''})`;
  });
  const parts: string[] = [];
  if (works.length) parts.push(`works in ${andList(works)}`);
  if (fails.length) parts.push(`fails in ${andList(failText, ', in ', ' and in ')}`);
  if (unknown.length) parts.push(`cannot tell for ${andList(unknown)}`);
  return parts.join('; ') || 'no client found to judge';
}

/** "a", "a and b", "a, b and c" (or with other separators). */
export function andList(xs: string[], sep = ', ', last = ' and '): string {
  return xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(sep)}${last}${xs[xs.length - 1]}`;
}
