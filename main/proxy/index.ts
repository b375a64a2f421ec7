// The proxy engine's public surface: a TLS front for the developer's own server.
//
//   const proxies = createProxyManager(store, { log, faults });   // definitions from settings.json `proxies`
//   await proxies.add({ publicUrl: 'https://app.test:8443', target: 'http://localhost:5173', start: true })
//   await proxies.start(id) / stop(id) / update(id, patch) / remove(id) / check(id)
//   proxies.onStatus((list) => ...)
//
// Errors are WssError with stable codes: INVALID_PROXY, PROXY_EXISTS, PROXY_NOT_FOUND, NAME_NOT_PERMITTED,
// CERT_MISMATCH, CERT_REQUIRED, TARGET_REFUSED, TARGET_SPEAKS_TLS, TARGET_SPEAKS_PLAIN, TARGET_CERT_UNTRUSTED,
// TARGET_UNREACHABLE, PORT_IN_USE, PORT_PRIVILEGED, HOST_NOT_AVAILABLE. Frame-log events: open (with
// `target`, the other leg), frame (dir in = client->target, out = target->client), close, error, http
// (method, path, status, durationMs), fault.
import { checkNames, deleteLeaf, getLeaf, issueLeaf, loadCa } from '../pki';
import { pickLeafFor, storeCertSource } from '../echo';
import type { Store } from '../store';
import type { FrameLog } from '../echo/frame-log';
import type { FaultRegistry } from '../faults';
import { ProxyManager, type CertSource } from './proxy-manager';

export { ProxyManager } from './proxy-manager';
export type { CertSource, ProxyManagerOptions } from './proxy-manager';
export { ProxyServer, PROXY_HIGH_WATER, errorPage } from './proxy-server';
export { PROXY_V8_FLAGS, withProxyHeap } from './heap';
export { probeTarget, explainTargetError } from './target';
export { normalizeProxy, parsePublic, parseTarget } from './validation';
export type * from './types';

/** Does a leaf name cover host (exact, or a wildcard one label up)? */
export function nameCovers(name: string, host: string): boolean {
  const n = name.toLowerCase();
  const h = host.toLowerCase();
  if (n === h) return true;
  return n.startsWith('*.') && h.endsWith(n.slice(1)) && !h.slice(0, -n.length + 1).includes('.');
}

/** Certificates for proxies from the store: check, pick, issue (ecdsa), and load. */
export function storeCerts(store: Store): CertSource {
  const material = storeCertSource(store);
  return {
    checkName(host) {
      const ca = loadCa(store);
      if (!ca) {
        return {
          code: 'NO_CA',
          error: 'there is no CA yet',
          hint: 'create one with "wss-studio ca init" (or in the app: Overview > Set up)',
        };
      }
      const [v] = checkNames([host], ca);
      return v?.error ? { code: v.code, error: v.error, ...(v.hint ? { hint: v.hint } : {}) } : {};
    },
    // The same reuse rule as serve and setup (main/pki/reuse.ts); with none, a leaf for the host is issued.
    pick: (host) => pickLeafFor(store, host)?.id ?? null,
    covers: (certId, host) => getLeaf(store, certId).names.some((n) => nameCovers(n, host)),
    issue: async (host) => (await issueLeaf(store, { names: [host], keyType: 'ecdsa' })).leaf.id,
    remove: (certId) => deleteLeaf(store, certId),
    material,
    caPem: () => loadCa(store)?.certPem,
  };
}

export function createProxyManager(
  store: Store,
  opts: { log: FrameLog; faults?: FaultRegistry },
): ProxyManager {
  return new ProxyManager({ ...opts, settings: store, certs: storeCerts(store) });
}
