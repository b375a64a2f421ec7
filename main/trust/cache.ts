// The trust-state cache behind `cert issue`'s "the CA is not trusted by ..." warning (trust-cache.json in
// the state folder). Measuring the stores reads the system bundle and runs `certutil -L` (and -L -a per
// candidate) on every NSS database: most of the warning's cost. An entry holds one store's last measured
// state, keyed by a SHA-256 over the CA fingerprint and a cheap fingerprint of every input the measurement
// reads (path, device, inode, mode, size, mtime and ctime in ns of each database, bundle, anchor, keystore,
// policies.json, profiles.ini and tool; the folders whose listing it scans; the databases and tools found;
// PATH, JAVA_HOME, the roots). Any change, or a missing/damaged file, means: measure as before and rewrite.
// Stores whose state lives behind a process rather than in files (macOS keychain, Windows store) are never
// cached. The key is computed before measuring, so a change during a measurement leaves a stale key behind,
// never a wrong state under a fresh one.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import * as v from 'valibot';
import { TrustCacheSchema, writeFileAtomic, type TrustCache } from '../store';
export { TRUST_CACHE_FILE } from '../store';
import { firefoxPolicyCandidates, findFirefoxPolicy, installFiles } from './firefox-policy';
import { findJava } from './java';
import { chromiumDbDirs, chromiumInstalled, findNssDbs, firefoxRoots } from './nss';
import { LINUX_FLAVOURS } from './system-linux';
import type { StoreId, TrustCa, TrustContext, TrustState } from './types';
import { findOnPath } from './util';

export type TrustCacheEntry = TrustCache['entries'][number];

/** One file or folder as "path dev ino mode size mtimeNs ctimeNs" ("path -" when absent). */
function stamp(p: string): string {
  try {
    const s = statSync(p, { bigint: true, throwIfNoEntry: false });
    if (!s) return `${p} -`;
    return `${p} ${s.dev} ${s.ino} ${s.mode} ${s.size} ${s.mtimeNs} ${s.ctimeNs}`;
  } catch (e) {
    return `${p} ! ${(e as NodeJS.ErrnoException).code ?? 'error'}`;
  }
}

/** A folder and every entry in it (a scan that looks into each entry sees any change there). */
function stampListing(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    return [`${dir} ! ${(e as NodeJS.ErrnoException).code ?? 'error'}`];
  }
  return [stamp(dir), ...names.map((n) => stamp(path.join(dir, n)))];
}

const NSS_FILES = ['cert9.db', 'cert8.db', 'key4.db', 'key3.db', 'pkcs11.txt', 'secmod.db'];

function systemInputs(ctx: TrustContext): string[] {
  const out: string[] = [];
  let found = false;
  for (const f of LINUX_FLAVOURS) {
    const anchors = path.join(ctx.root, f.anchorsDir);
    // The first flavour whose anchors folder exists is the one measured: its files are read.
    if (!found && statSync(anchors, { throwIfNoEntry: false })?.isDirectory()) {
      found = true;
      out.push(...stampListing(anchors));
    } else out.push(stamp(anchors));
    out.push(...f.bundles.map((b) => stamp(path.join(ctx.root, b))));
  }
  return out;
}

function nssInputs(ctx: TrustContext): string[] {
  const certutil = findOnPath('certutil', ctx);
  const out = [
    `certutil ${certutil ? stamp(certutil) : '-'}`,
    `chromium ${chromiumInstalled(ctx)}`,
  ];
  for (const d of chromiumDbDirs(ctx)) out.push(stamp(d));
  for (const root of firefoxRoots(ctx)) {
    out.push(...stampListing(root), stamp(path.join(root, 'profiles.ini')));
    out.push(...stampListing(path.join(root, 'Profiles')));
  }
  for (const db of findNssDbs(ctx)) {
    out.push(`db ${db.kind} ${db.browser} ${db.label}`, stamp(db.dir));
    out.push(...NSS_FILES.map((f) => stamp(path.join(db.dir, f))));
  }
  out.push(...firefoxPolicyCandidates(ctx).map(stamp));
  const policy = findFirefoxPolicy(ctx);
  for (const entry of policy?.install ?? []) {
    out.push(...installFiles(entry, policy!, ctx).map(stamp));
  }
  return out;
}

function javaInputs(ctx: TrustContext): string[] {
  const j = findJava(ctx);
  return [
    `keytool ${j.keytool ? stamp(j.keytool) : '-'}`,
    `home ${j.javaHome ?? '-'}`,
    `cacerts ${j.cacerts ? stamp(j.cacerts) : '-'}`,
    `storepass ${createHash('sha256').update(ctx.javaStorePassword).digest('hex')}`,
  ];
}

/**
 * The cache key of one store's state for `ca`: SHA-256 hex, or null when the store is never cached (its
 * state is not in files we can stamp: macOS keychain, Windows store, a non-Linux system).
 */
export function storeInputs(id: StoreId, ca: TrustCa, ctx: TrustContext): string | null {
  if (ctx.platform !== 'linux') return null;
  let parts: string[];
  if (id === 'system') parts = systemInputs(ctx);
  else if (id === 'nss') parts = nssInputs(ctx);
  else if (id === 'java') parts = javaInputs(ctx);
  else return null;
  const head = [
    'wss-studio trust-cache 1',
    id,
    ca.fingerprint256,
    ctx.platform,
    ctx.root,
    ctx.home,
    String(ctx.uid),
    `PATH ${ctx.env.PATH ?? ''}`,
    `JAVA_HOME ${ctx.env.JAVA_HOME ?? ''}`,
    `cacerts ${ctx.javaCacerts ?? ''}`,
  ];
  return createHash('sha256')
    .update([...head, ...parts].join('\n'))
    .digest('hex');
}

/** The cached entries; a missing, unreadable or damaged file is no cache (it is rewritten on the next measurement). */
export function readTrustCache(file: string): TrustCacheEntry[] {
  try {
    const r = v.safeParse(TrustCacheSchema, JSON.parse(readFileSync(file, 'utf8')));
    return r.success ? r.output.entries : [];
  } catch {
    return [];
  }
}

/**
 * Record measured states (atomic write, owner-only). `fresh` maps a store to its key and state; a store
 * whose key is null is dropped from the file. Best effort: a cache that cannot be written is no cache.
 */
export function writeTrustCache(
  file: string,
  fresh: { store: StoreId; inputs: string | null; state: TrustState }[],
): void {
  const touched = new Set(fresh.map((f) => f.store));
  const kept = readTrustCache(file).filter((e) => !touched.has(e.store));
  const entries = [
    ...kept,
    ...fresh.flatMap((f) =>
      f.inputs ? [{ store: f.store, inputs: f.inputs, state: f.state }] : [],
    ),
  ];
  try {
    writeFileAtomic(file, `${JSON.stringify({ schema: 1, entries }, null, 2)}\n`, 0o600);
  } catch {
    // read-only state folder: the next run measures again
  }
}

/** Forget the cached state of these stores (after install/uninstall changed them). */
export function dropTrustCache(file: string, stores: StoreId[]): void {
  const entries = readTrustCache(file);
  if (!entries.some((e) => stores.includes(e.store))) return;
  writeTrustCache(
    file,
    stores.map((store) => ({ store, inputs: null, state: 'error' as const })),
  );
}
