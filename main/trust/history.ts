// Every CA this install has put into a trust store, so a replaced CA never stays trusted unnoticed:
// `trust status` measures the old ones too, and `trust uninstall --all-ours` removes them all.
//   <state>/trusted-cas/<sha-256 hex>.pem   the CA certificate, recorded before it is installed
// One file per CA (no read-modify-write, so concurrent installs cannot lose an entry), named by the
// fingerprint of its bytes; stores match by those bytes (nss.ts, java.ts), never by name, so removing
// an old CA can never touch another certificate.
import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { q } from '../../shared/errors';
import { ensureDir, writeFileAtomic, type Store } from '../store';
import { changeSucceeded, trustStatusAll, trustUninstall, type TrustOptions } from './index';
import type { StoreChange, StoreStatus, TrustCa } from './types';

export function historyDir(store: Store): string {
  return path.join(store.root, 'trusted-cas');
}

function hexOf(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}

/** Record a CA before it goes into any trust store (idempotent). */
export function recordTrustedCa(store: Store, ca: Pick<TrustCa, 'certDer'>): void {
  const dir = historyDir(store);
  const file = path.join(dir, `${hexOf(ca.certDer)}.pem`);
  if (fs.existsSync(file)) return;
  ensureDir(store.root);
  ensureDir(dir, 0o700);
  writeFileAtomic(file, new X509Certificate(ca.certDer).toString(), 0o644);
}

/**
 * recordTrustedCa for an install: a state folder this user cannot write (trust run as another user)
 * must not block the install, so the problem comes back as a warning. A created CA is recorded again
 * when it is replaced, so nothing is lost.
 */
export function tryRecordTrustedCa(store: Store, ca: Pick<TrustCa, 'certDer'>): string | null {
  try {
    recordTrustedCa(store, ca);
    return null;
  } catch (e) {
    return `could not record the CA in ${q(historyDir(store))} (${(e as Error).message}); "trust uninstall --all-ours" will not know it unless it is replaced by this install`;
  }
}

/** Forget a CA once it is out of every store. */
export function forgetTrustedCa(store: Store, ca: Pick<TrustCa, 'certDer'>): void {
  fs.rmSync(path.join(historyDir(store), `${hexOf(ca.certDer)}.pem`), { force: true });
}

export interface HistoryRead {
  cas: TrustCa[];
  /** Files that are not a certificate whose fingerprint is their name: reported, never used. */
  problems: string[];
}

/** Every recorded CA as a TrustCa (certPath = its file in trusted-cas/). */
export function trustedCaHistory(store: Store): HistoryRead {
  const dir = historyDir(store);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return { cas: [], problems: [] };
  }
  const cas: TrustCa[] = [];
  const problems: string[] = [];
  for (const n of names.sort()) {
    if (!/^[0-9a-f]{64}\.pem$/.test(n)) continue;
    const file = path.join(dir, n);
    try {
      const x = new X509Certificate(fs.readFileSync(file));
      if (`${hexOf(x.raw)}.pem` !== n) throw new Error('its fingerprint is not its file name');
      cas.push({
        certPem: x.toString(),
        certDer: x.raw,
        fingerprint256: x.fingerprint256,
        serialHex: x.serialNumber.toUpperCase(),
        commonName: /(?:^|\n)CN=([^\n]*)/.exec(x.subject)?.[1] ?? x.subject,
        certPath: file,
      });
    } catch (e) {
      problems.push(`${q(file)} is not a usable CA certificate (${(e as Error).message})`);
    }
  }
  return { cas, problems };
}

/** Recorded CAs other than `current` (the ones a `ca init --force` or import replaced). */
export function replacedCas(store: Store, current: Pick<TrustCa, 'fingerprint256'> | null) {
  return trustedCaHistory(store).cas.filter((c) => c.fingerprint256 !== current?.fingerprint256);
}

/**
 * The hook for createCa/importMkcert `beforeReplace` (runs under the store lock): record the CA being
 * replaced so it can still be removed from trust stores once its folder and key are gone. A CA imported
 * from mkcert is recorded only if WSS Studio installed it (it may be mkcert's to keep).
 */
export function recordReplaced(store: Store, seen?: { previous: TrustCa | null }) {
  return (old: TrustCa & { source: 'created' | 'mkcert' }) => {
    if (seen) seen.previous = old;
    if (old.source === 'created') recordTrustedCa(store, old);
  };
}

/** Replaced CAs (recorded, not current) that some selected store still trusts. */
export async function replacedStillTrusted(
  store: Store,
  current: Pick<TrustCa, 'fingerprint256'> | null,
  opts: TrustOptions,
): Promise<Array<{ ca: TrustCa; stores: StoreStatus[] }>> {
  const measured = await Promise.all(
    replacedCas(store, current).map(async (ca) => ({
      ca,
      stores: await trustStatusAll(ca, opts),
    })),
  );
  return measured
    .map((m) => ({ ca: m.ca, stores: m.stores.filter((s) => s.state === 'trusted') }))
    .filter((m) => m.stores.length > 0);
}

export interface AllOursResult {
  ca: TrustCa;
  current: boolean;
  results: StoreChange[];
  /** Every selected store reached "not trusted" (or does not exist). */
  done: boolean;
  /**
   * Detected stores outside an explicit selection that still trust the CA (or could not be measured):
   * its record is kept for them, so `trust status` still shows it and a later --all-ours removes it.
   * Empty when the CA is out of every store: then the record is pruned.
   */
  keptFor: StoreStatus[];
}

/** Not trusted there: nothing left to remove. */
const gone = (s: Pick<StoreStatus, 'state'>) =>
  s.state === 'not-trusted' || s.state === 'not-present';

/**
 * Where `ca` may still be trusted outside an explicit store selection: the other detected stores, measured.
 * Without a selection every detected store was just changed, so there is nothing else to look at.
 */
async function trustedElsewhere(ca: TrustCa, opts: TrustOptions): Promise<StoreStatus[]> {
  if (!opts.stores?.length) return [];
  const chosen = new Set(opts.stores);
  const all = await trustStatusAll(ca, { ...(opts.context ? { context: opts.context } : {}) });
  return all.filter((s) => !chosen.has(s.store) && !gone(s));
}

/**
 * Remove the current CA (unless `includeCurrent` is false) and every CA this install ever put into a
 * store, each by its certificate bytes.
 * A CA's record is pruned once it is out of every store: the selected ones and, with an explicit
 * selection (--stores), every other detected store too; a record pruned too early would hide a replaced
 * CA that some unselected store still trusts. Never throws for a store problem (see trustUninstall).
 */
export async function uninstallAllOurs(
  store: Store,
  current: TrustCa | null,
  opts: TrustOptions,
  includeCurrent = true,
): Promise<{ cas: AllOursResult[]; problems: string[] }> {
  const history = trustedCaHistory(store);
  const cas: TrustCa[] = [
    ...(current && includeCurrent ? [current] : []),
    ...history.cas.filter((c) => c.fingerprint256 !== current?.fingerprint256),
  ];
  const out: AllOursResult[] = [];
  for (const ca of cas) {
    const results = await trustUninstall(ca, opts);
    const done = results.length > 0 && changeSucceeded(results, 'uninstall');
    const keptFor = done ? await trustedElsewhere(ca, opts) : [];
    if (done && !keptFor.length) forgetTrustedCa(store, ca);
    out.push({ ca, current: ca === current, results, done, keptFor });
  }
  return { cas: out, problems: history.problems };
}
