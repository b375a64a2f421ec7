// Over 400 lines: one trust store, like mkcert's truststore_nss.go: database discovery, status and certutil commands together.
// NSS databases: Chrome/Chromium/Edge/Brave on Linux read ~/.pki/nssdb (snap Chromium its own copy),
// Firefox keeps one database per profile everywhere. We change them with NSS's `certutil` (libnss3-tools),
// like mkcert's truststore_nss.go, and measure status per database: a certificate with our exact DER
// and the SSL trust flag "C". Matching is by certificate bytes, never by nickname alone, so another
// certificate is never touched.
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { certutilInstallHint } from './distro';
import { findFirefoxPolicy, policyInstalls } from './firefox-policy';
import type {
  StoreChange,
  StoreStatus,
  TrustCa,
  TrustContext,
  TrustState,
  TrustStore,
  TrustTarget,
} from './types';
import {
  findOnPath,
  firstLine,
  isDir,
  isFile,
  pemContains,
  pemCount,
  serialTag,
  tildify,
} from './util';

export interface NssDb {
  /** "Chromium (~/.pki/nssdb)", "Firefox profile default-esr (~/.mozilla/firefox/x.default-esr)" */
  label: string;
  dir: string;
  /** sql: for cert9.db (and new databases), dbm: for a legacy cert8.db-only profile. */
  kind: 'sql' | 'dbm';
  browser: 'chromium' | 'firefox';
}

/** Folders holding Firefox profiles (profiles.ini + profile folders), relative to $HOME. */
export function firefoxRoots(ctx: Pick<TrustContext, 'home' | 'platform'>): string[] {
  const h = ctx.home;
  if (ctx.platform === 'darwin') return [path.join(h, 'Library/Application Support/Firefox')];
  return [
    path.join(h, '.mozilla/firefox'),
    path.join(h, '.config/mozilla/firefox'),
    path.join(h, 'snap/firefox/common/.mozilla/firefox'),
    path.join(h, '.var/app/org.mozilla.firefox/.mozilla/firefox'),
  ];
}

export function chromiumDbDirs(ctx: Pick<TrustContext, 'home' | 'platform'>): string[] {
  if (ctx.platform !== 'linux') return [];
  return [
    path.join(ctx.home, '.pki/nssdb'),
    path.join(ctx.home, 'snap/chromium/current/.pki/nssdb'),
    // Flatpak browsers keep their own HOME under ~/.var/app/<id>.
    path.join(ctx.home, '.var/app/org.chromium.Chromium/.pki/nssdb'),
    path.join(ctx.home, '.var/app/com.google.Chrome/.pki/nssdb'),
    path.join(ctx.home, '.var/app/com.brave.Browser/.pki/nssdb'),
  ];
}

/** Profile folders named in a profiles.ini text (Path=, IsRelative=), resolved against its folder. */
export function parseProfilesIni(text: string, iniDir: string): { name: string; dir: string }[] {
  const out: { name: string; dir: string }[] = [];
  let cur: Record<string, string> | null = null;
  const flush = () => {
    if (cur && cur.Path) {
      const rel = cur.IsRelative !== '0';
      out.push({
        name: cur.Name || path.basename(cur.Path),
        dir: rel ? path.join(iniDir, cur.Path) : cur.Path,
      });
    }
  };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith(';') || line.startsWith('#')) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      flush();
      cur = /^Profile\d+$/i.test(sec[1] as string) ? {} : null;
      continue;
    }
    const eq = line.indexOf('=');
    if (cur && eq > 0) cur[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  flush();
  return out;
}

function dbKind(dir: string): 'sql' | 'dbm' {
  if (isFile(path.join(dir, 'cert9.db'))) return 'sql';
  if (isFile(path.join(dir, 'cert8.db'))) return 'dbm';
  return 'sql';
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** Every NSS database of this user: Chromium's, and each Firefox profile (profiles.ini and folder scan). */
export function findNssDbs(ctx: Pick<TrustContext, 'home' | 'platform'>): NssDb[] {
  const seen = new Set<string>();
  const out: NssDb[] = [];
  const add = (db: NssDb) => {
    const key = real(db.dir);
    if (seen.has(key)) return;
    seen.add(key);
    out.push(db);
  };
  for (const dir of chromiumDbDirs(ctx)) {
    if (isDir(dir)) {
      const kind = dir.includes(`${path.sep}snap${path.sep}`)
        ? 'Chromium snap'
        : dir.includes(`${path.sep}.var${path.sep}app${path.sep}`)
          ? `Flatpak ${dir.split(path.sep).at(-3)}`
          : 'Chrome/Chromium';
      add({
        label: `${kind} (${tildify(dir, ctx.home)})`,
        dir,
        kind: dbKind(dir),
        browser: 'chromium',
      });
    }
  }
  for (const root of firefoxRoots(ctx)) {
    if (!isDir(root)) continue;
    const profiles: { name: string; dir: string }[] = [];
    try {
      profiles.push(
        ...parseProfilesIni(readFileSync(path.join(root, 'profiles.ini'), 'utf8'), root),
      );
    } catch {
      // no profiles.ini: the folder scan below still finds profiles
    }
    for (const base of [root, path.join(root, 'Profiles')]) {
      let names: string[] = [];
      try {
        names = readdirSync(base);
      } catch {
        continue;
      }
      for (const n of names) {
        const d = path.join(base, n);
        if (isFile(path.join(d, 'cert9.db')) || isFile(path.join(d, 'cert8.db'))) {
          profiles.push({ name: n, dir: d });
        }
      }
    }
    for (const p of profiles) {
      if (!isDir(p.dir)) continue;
      add({
        label: `Firefox profile ${p.name} (${tildify(p.dir, ctx.home)})`,
        dir: p.dir,
        kind: dbKind(p.dir),
        browser: 'firefox',
      });
    }
  }
  return out;
}

/** Chromium-family browsers whose presence means ~/.pki/nssdb is worth creating on install. */
const CHROMIUM_BINARIES = [
  'chromium',
  'chromium-browser',
  'google-chrome',
  'google-chrome-stable',
  'brave-browser',
  'microsoft-edge',
  'microsoft-edge-stable',
];

export function chromiumInstalled(ctx: TrustContext): boolean {
  return ctx.platform === 'linux' && CHROMIUM_BINARIES.some((b) => findOnPath(b, ctx) !== null);
}

/** The nickname we add our CA under: the serial makes it unique per CA (mkcert does the same). */
export function nssNickname(ca: TrustCa): string {
  return `WSS Studio CA ${serialTag(ca)}`;
}

export function dbArg(db: Pick<NssDb, 'dir' | 'kind'>): string {
  return `${db.kind}:${db.dir}`;
}

/** `certutil -L` listing: nickname and its trust flags ("C,,", "CT,C,C", "u,u,u"). */
export function parseCertutilList(text: string): { nickname: string; trust: string }[] {
  const out: { nickname: string; trust: string }[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^(.*\S)\s+([a-zA-Z]*,[a-zA-Z]*,[a-zA-Z]*)\s*$/.exec(line);
    if (!m) continue;
    if (/^Certificate Nickname/.test(line) || /^SSL,S\/MIME/.test(line.trim())) continue;
    out.push({ nickname: m[1] as string, trust: m[2] as string });
  }
  return out;
}

/** Whether NSS trust flags make a certificate a trusted CA for TLS servers (first field has C). */
export function sslCaTrusted(trust: string): boolean {
  return (trust.split(',')[0] ?? '').includes('C');
}

interface DbProbe {
  db: NssDb;
  state: TrustState;
  detail?: string;
  /** Nicknames whose certificate is exactly ours, with their trust flags. */
  ours: { nickname: string; trust: string }[];
}

async function probeDb(
  ca: TrustCa,
  db: NssDb,
  certutil: string,
  ctx: TrustContext,
): Promise<DbProbe> {
  const d = dbArg(db);
  const hasDb = isFile(path.join(db.dir, 'cert9.db')) || isFile(path.join(db.dir, 'cert8.db'));
  if (!hasDb) return { db, state: 'not-trusted', detail: 'no certificate database yet', ours: [] };
  const list = await ctx.run(certutil, ['-L', '-d', d]);
  if (list.code !== 0) {
    return {
      db,
      state: 'error',
      detail: `certutil -L failed: ${firstLine(list.stderr, list.stdout) || list.spawnError || ''}`,
      ours: [],
    };
  }
  const entries = parseCertutilList(list.stdout);
  const nick = nssNickname(ca);
  // Only our nickname and CAs trusted for TLS can be "our CA trusted": export just those (usually few),
  // so a Firefox profile with hundreds of cached intermediates stays fast.
  const candidates = entries.filter((e) => e.nickname === nick || sslCaTrusted(e.trust));
  const exported = await Promise.all(
    candidates.map(async (e) => ({
      e,
      r: await ctx.run(certutil, ['-L', '-d', d, '-n', e.nickname, '-a']),
    })),
  );
  // `certutil -L -n NICK -a` prints every certificate with that nickname's subject, so a CA re-created
  // with the same subject shows up under both nicknames. A nickname is ours when it is our serial-based
  // nickname and its group holds our DER, or when it names exactly one certificate and that is ours.
  // (Deleting by nickname removes exactly the certificate with that label: checked with NSS 3.87.)
  const ours = exported
    .filter(
      ({ e, r }) =>
        r.code === 0 &&
        pemContains(r.stdout, ca) &&
        (e.nickname === nick || pemCount(r.stdout) === 1),
    )
    .map(({ e }) => ({ nickname: e.nickname, trust: e.trust }));
  const trusted = ours.some((o) => sslCaTrusted(o.trust));
  return {
    db,
    state: trusted ? 'trusted' : 'not-trusted',
    detail: trusted
      ? `as "${ours.find((o) => sslCaTrusted(o.trust))?.nickname}"`
      : ours.length
        ? `present as "${ours[0]?.nickname}" without TLS trust (flags ${ours[0]?.trust})`
        : 'missing',
    ours,
  };
}

/**
 * certutil's failure in one line. A database protected by a primary password (Firefox: Settings >
 * Privacy & Security > Use a Primary Password) cannot be changed without it: say so and how.
 */
export function certutilError(r: { stdout: string; stderr: string; spawnError?: string }): string {
  const all = `${r.stderr}\n${r.stdout}`;
  if (/SEC_ERROR_BAD_PASSWORD|could not authenticate to token/i.test(all)) {
    return 'the database has a primary password; run the install from a terminal and type it when certutil asks, or remove the primary password in the browser settings';
  }
  return firstLine(r.stderr, r.stdout) || r.spawnError || 'certutil failed';
}

/** Whether a Firefox is running on this profile: its "lock" symlink points to "host:+PID" of a live process. */
export function firefoxRunning(db: NssDb): boolean {
  if (db.browser !== 'firefox') return false;
  try {
    const target = readlinkSync(path.join(db.dir, 'lock'));
    const pid = Number(/\+(\d+)$/.exec(target)?.[1]);
    if (!pid) return false;
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function summarise(
  ctx: TrustContext,
  probes: DbProbe[],
  extra: Partial<StoreStatus> = {},
): StoreStatus {
  const targets: TrustTarget[] = probes.map((p) => ({
    label: p.db.label,
    path: p.db.dir,
    state: p.state,
    ...(p.detail ? { detail: p.detail } : {}),
  }));
  const missing = probes.filter((p) => p.state !== 'trusted');
  const errors = probes.filter((p) => p.state === 'error');
  const base = { store: 'nss' as const, label: nssStore.label, targets };
  const warnings = probes
    .filter((p) => firefoxRunning(p.db))
    .map((p) => `Firefox is running with ${p.db.label}: restart Firefox to pick up the change`);
  const w = warnings.length ? { warnings } : {};
  if (!missing.length) {
    return {
      ...base,
      state: 'trusted',
      detail: `trusted in ${describeCount(probes.length)}`,
      ...w,
      ...extra,
    };
  }
  const fix = `${ctx.cliName} trust install --stores nss`;
  const names = missing.map((p) => p.db.label).join('; ');
  if (errors.length === probes.length) {
    return {
      ...base,
      state: 'error',
      detail: errors.map((p) => `${p.db.label}: ${p.detail}`).join('; '),
      ...w,
      ...extra,
    };
  }
  return {
    ...base,
    state: 'not-trusted',
    detail: `missing from ${missing.length} of ${describeCount(probes.length)}: ${names}`,
    fix,
    ...w,
    ...extra,
  };
}

function describeCount(n: number): string {
  return n === 1 ? '1 NSS database' : `${n} NSS databases`;
}

function noDbStatus(ctx: TrustContext): StoreStatus {
  if (chromiumInstalled(ctx)) {
    return {
      store: 'nss',
      label: nssStore.label,
      state: 'not-trusted',
      detail: `no NSS database yet under ${tildify(ctx.home, ctx.home)}; install creates ~/.pki/nssdb, which Chromium reads`,
      fix: `${ctx.cliName} trust install --stores nss`,
      targets: [],
    };
  }
  return {
    store: 'nss',
    label: nssStore.label,
    state: 'not-present',
    detail:
      'no NSS database found (no ~/.pki/nssdb, no Firefox profile): start the browser once, then re-run',
    targets: [],
  };
}

function certutilMissing(ctx: TrustContext, dbs: NssDb[]): StoreStatus {
  return {
    store: 'nss',
    label: nssStore.label,
    state: 'tool-missing',
    detail: `"certutil" not found; it is needed for ${dbs.length ? dbs.map((d) => d.label).join('; ') : 'Chromium/Firefox'}`,
    fix: certutilInstallHint(ctx.platform, ctx.root),
    targets: dbs.map((d) => ({ label: d.label, path: d.dir, state: 'tool-missing' })),
  };
}

async function measure(ca: TrustCa, ctx: TrustContext): Promise<StoreStatus> {
  const dbs = findNssDbs(ctx);
  const certutil = findOnPath('certutil', ctx);
  // Order matters: a Chromium without a database yet still needs certutil before install can help.
  if (!dbs.length && !chromiumInstalled(ctx)) return noDbStatus(ctx);
  if (!certutil) return certutilMissing(ctx, dbs);
  if (!dbs.length) return noDbStatus(ctx);
  const probes = await Promise.all(dbs.map((db) => probeDb(ca, db, certutil, ctx)));
  return summarise(ctx, withFirefoxPolicy(ca, probes, ctx));
}

/**
 * A Firefox profile whose db lacks our CA still trusts it when the Firefox policy Certificates.Install
 * adds it at every start (the db then holds it with empty trust flags): what Firefox does, not what the db
 * says, is the profile's state. The doctor gives the same verdict (main/doctor/clients.ts).
 */
function withFirefoxPolicy(ca: TrustCa, probes: DbProbe[], ctx: TrustContext): DbProbe[] {
  if (!probes.some((p) => p.db.browser === 'firefox' && p.state === 'not-trusted')) return probes;
  const policy = findFirefoxPolicy(ctx);
  if (!policy) return probes;
  const file = policyInstalls(policy, new X509Certificate(ca.certDer), ctx);
  if (!file) return probes;
  return probes.map((p) =>
    p.db.browser === 'firefox' && p.state === 'not-trusted'
      ? {
          ...p,
          state: 'trusted',
          detail: `added at every start by the Firefox policy Certificates.Install: ${file}, listed in ${policy.file}`,
        }
      : p,
  );
}

async function ensureChromiumDb(ctx: TrustContext, certutil: string): Promise<string | null> {
  const dir = path.join(ctx.home, '.pki/nssdb');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    return `cannot create ${dir}: ${(e as Error).message}`;
  }
  const r = await ctx.run(certutil, ['-N', '-d', `sql:${dir}`, '--empty-password']);
  if (r.code !== 0) return `certutil -N failed: ${firstLine(r.stderr, r.stdout)}`;
  return null;
}

export const nssStore: TrustStore = {
  id: 'nss',
  label: 'NSS (Chrome/Chromium, Firefox)',

  async detect(ctx) {
    if (ctx.platform === 'win32') return false;
    return findNssDbs(ctx).length > 0 || chromiumInstalled(ctx);
  },

  async status(ca, ctx) {
    return measure(ca, ctx);
  },

  async install(ca, ctx) {
    let dbs = findNssDbs(ctx);
    const certutil = findOnPath('certutil', ctx);
    if (!dbs.length && !chromiumInstalled(ctx)) return { ...noDbStatus(ctx), changed: false };
    if (!certutil) return { ...certutilMissing(ctx, dbs), changed: false };
    let changed = false;
    if (!dbs.length) {
      const err = await ensureChromiumDb(ctx, certutil);
      if (err) return { ...noDbStatus(ctx), state: 'error', detail: err, changed: false };
      changed = true;
      dbs = findNssDbs(ctx);
    }
    const nick = nssNickname(ca);
    const failures: string[] = [];
    const probes = await Promise.all(dbs.map((db) => probeDb(ca, db, certutil, ctx)));
    await Promise.all(
      probes.map(async (p) => {
        if (p.state === 'trusted' || p.state === 'error') return;
        const d = dbArg(p.db);
        // Present without TLS trust: fix its flags instead of adding a second copy.
        const r = p.ours.length
          ? await ctx.run(certutil, [
              '-M',
              '-d',
              d,
              '-n',
              p.ours[0]?.nickname as string,
              '-t',
              'C,,',
            ])
          : await ctx.run(certutil, ['-A', '-d', d, '-t', 'C,,', '-n', nick, '-a'], {
              input: ca.certPem,
            });
        if (r.code !== 0) failures.push(`${p.db.label}: ${certutilError(r)}`);
        else changed = true;
      }),
    );
    const after = await measure(ca, ctx);
    if (failures.length) {
      return {
        ...after,
        state: 'error',
        detail: `certutil failed for ${failures.join('; ')}`,
        changed,
      };
    }
    return { ...after, changed };
  },

  async uninstall(ca, ctx) {
    const dbs = findNssDbs(ctx);
    if (!dbs.length) return { ...noDbStatus(ctx), state: 'not-present', changed: false };
    const certutil = findOnPath('certutil', ctx);
    if (!certutil) return { ...certutilMissing(ctx, dbs), changed: false };
    const probes = await Promise.all(dbs.map((db) => probeDb(ca, db, certutil, ctx)));
    let changed = false;
    const failures: string[] = [];
    const removedFrom = new Set<string>();
    await Promise.all(
      probes.map(async (p) => {
        for (const o of p.ours) {
          const r = await ctx.run(certutil, ['-D', '-d', dbArg(p.db), '-n', o.nickname]);
          if (r.code !== 0) failures.push(`${p.db.label}: ${certutilError(r)}`);
          else {
            changed = true;
            removedFrom.add(p.db.dir);
          }
        }
      }),
    );
    const after = await measure(ca, ctx);
    const targets = after.targets ?? [];
    const stillThere = targets.filter((t) => t.state === 'trusted');
    const result: StoreChange = {
      ...after,
      state: stillThere.length ? 'trusted' : after.state === 'error' ? 'error' : 'not-trusted',
      // Say what this call did: "removed from 1 of 2 NSS databases", or, run again, that it was in none.
      detail: stillThere.length
        ? `still trusted in ${stillThere.map((t) => t.label).join('; ')}`
        : removedFrom.size
          ? `removed from ${removedFrom.size} of ${describeCount(targets.length)}`
          : `not in any of ${describeCount(targets.length).replace(/^1 NSS database$/, 'the 1 NSS database')}: nothing to remove`,
      changed,
    };
    delete result.fix;
    if (failures.length)
      return { ...result, state: 'error', detail: `certutil failed for ${failures.join('; ')}` };
    return result;
  },
};
