// Where the doctor's "our CA" comes from: the WSS Studio store. Shared by the CLI, IPC and web mode so all
// three say the same thing when there is no CA yet or the CA files are broken.
import { loadCa } from '../pki';
import { openStore } from '../store';

export interface CaSource {
  /** PEM to pass as diagnose(..., { caPem }); absent when there is no usable CA. */
  pem?: string;
  /** Where it came from (the CA certificate path), or why there is none. */
  source: string;
  /** Set when the store or CA could not be read: the diagnosis goes on with the system bundle only. */
  warning?: string;
}

/** Never creates anything on disk; never throws. */
export function caFromStore(home: string): CaSource {
  try {
    const ca = loadCa(openStore(home));
    return ca
      ? { pem: ca.certPem, source: ca.certPath }
      : { source: 'none (no WSS Studio CA yet)' };
  } catch (e) {
    return {
      source: 'none (unreadable)',
      warning: `the WSS Studio CA could not be read (${(e as Error).message}); checking the system bundle only`,
    };
  }
}
