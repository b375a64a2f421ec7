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
import type { TrustCa } from './types';

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
