// Where the ca/cert commands meet the trust stores: per-store status for "ca show" and the
// not-trusted warning for "cert issue". Trust problems never block issuing a certificate: the trust
// engine reports a broken or missing store as a state, it does not throw.
// The trust engine is imported on first use, not with the ca/cert commands: "cert list", "cert renew" and
// the like never load it, and "cert issue" loads it while its key is being generated (bench/certs).
import path from 'node:path';
import type { CaInfo } from '../pki';
import { TRUST_CACHE_FILE, type Store } from '../store';
import type { Io } from './command';

export interface TrustLines {
  lines: string[];
  json: unknown[];
  /** Stores that were detected but do not trust the CA. */
  untrusted: string[];
}

export async function trustLinesFor(ca: CaInfo, io: Io): Promise<TrustLines> {
  const { trustReport } = await import('../trust');
  return trustReport(ca, io.env);
}

/**
 * The detected stores that do not trust `ca`, for "cert issue"'s warning: answered from the trust-state cache
 * in the state folder while nothing the measurement reads has changed (main/trust/cache.ts), else measured.
 */
export async function untrustedStoresFor(ca: CaInfo, io: Io, store: Store): Promise<string[]> {
  const { trustUntrusted } = await import('../trust');
  return trustUntrusted(ca, io.env, path.join(store.root, TRUST_CACHE_FILE));
}
