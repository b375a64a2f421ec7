// The engine's rules for "make localhost trusted" (setup.localhost), in a module with no heavy imports so
// app.info can name the stores without loading the workflow.
import type { LeafDto, TrustStoreId } from '../../shared/api';

/** The names the setup certificate covers: what a browser, curl and Node use for this machine. */
export const LOCALHOST_NAMES = ['localhost', '127.0.0.1', '::1'];

/** A leaf must have at least this long left to be reused (else a new one is issued). */
const REUSE_MARGIN_MS = 86_400_000;

/** The stores setup touches by default: the OS store of this platform, NSS (Chrome, Firefox) and Java. */
export function setupStores(platform: string): TrustStoreId[] {
  if (platform === 'darwin') return ['macos', 'nss', 'java'];
  if (platform === 'win32') return ['windows', 'nss', 'java'];
  return ['system', 'nss', 'java'];
}

/** A certificate setup may reuse: from the current CA, covering every localhost name, a day or more left. */
export function reusableLocalhostLeaf(
  leaves: LeafDto[],
  caFingerprint256: string,
  now: number = Date.now(),
): LeafDto | undefined {
  return leaves.find(
    (l) =>
      l.caFingerprint256 === caFingerprint256 &&
      LOCALHOST_NAMES.every((n) => l.names.includes(n)) &&
      Date.parse(l.notAfter) > now + REUSE_MARGIN_MS,
  );
}
