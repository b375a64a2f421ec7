// The engine's rules for "make localhost trusted" (setup.localhost), in a module with no heavy imports so
// app.info can name the stores without loading the workflow.
import type { LeafDto, TrustStoreId } from '../../shared/api';
import { reusableLeaf, type ReuseCandidate } from '../pki/reuse';

/** The names the setup certificate covers: what a browser, curl and Node use for this machine. */
export const LOCALHOST_NAMES = ['localhost', '127.0.0.1', '::1'];

/** The stores setup touches by default: the OS store of this platform, NSS (Chrome, Firefox) and Java. */
export function setupStores(platform: string): TrustStoreId[] {
  if (platform === 'darwin') return ['macos', 'nss', 'java'];
  if (platform === 'win32') return ['windows', 'nss', 'java'];
  return ['system', 'nss', 'java'];
}

/**
 * A certificate setup may reuse: main/pki/reuse.ts's rule (current CA, a day or more left) for every
 * localhost name. Setup asks for all three where serve asks for "localhost" only, because what setup
 * leaves behind must also work for clients that connect by address (curl https://127.0.0.1, Node).
 */
export function reusableLocalhostLeaf<L extends ReuseCandidate = LeafDto>(
  leaves: readonly L[],
  caFingerprint256: string,
  now: number = Date.now(),
): L | undefined {
  return reusableLeaf(leaves, { names: LOCALHOST_NAMES, caFingerprint256, now });
}
