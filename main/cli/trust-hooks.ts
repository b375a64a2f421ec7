// Where the ca/cert commands meet the trust stores: per-store status for "ca show" and the
// not-trusted warning for "cert issue". Trust problems never block issuing a certificate.
import type { CaInfo } from '../pki';
import type { Io } from './command';

export interface TrustLines {
  lines: string[];
  json: unknown[];
  /** Stores that were detected but do not trust the CA. */
  untrusted: string[];
}

export async function trustLinesFor(_ca: CaInfo, _io: Io): Promise<TrustLines> {
  return { lines: [], json: [], untrusted: [] };
}
