// The echo engine's public surface. Shells (CLI `serve`, web mode, Electron IPC) import only this.
//
//   const manager = createServerManager(store);          // definitions from settings.json `servers`
//   await manager.startEnabled();                        // servers that were on last time
//   manager.add({ scheme: 'wss', certId, port: 8443 });  // -> ServerStatus (stopped)
//   await manager.start(id) / stop(id) / restart(id) / update(id, patch) / remove(id)
//   manager.onStatus((e: ServerStatusEvent) => ...)      // state, port, connection count
//   manager.log.subscribe((b: LogBatch) => ...)          // frame log, batched: <= 1 push per 50 ms
//   manager.snapshot(limit) / manager.log.clear()
//   manager.exportJsonLines() / manager.exportHar()      // string / HAR object (Chrome DevTools can import)
//   await manager.stopAll()                              // on quit; keeps `enabled` flags
//
// Every value crossing this surface (statuses, events, batches) is plain JSON. Errors are WssError with
// stable codes: INVALID_SERVER, SERVER_EXISTS, SERVER_NOT_FOUND, CERT_REQUIRED, CERT_NOT_FOUND,
// PORT_IN_USE, PORT_PRIVILEGED, HOST_NOT_AVAILABLE, HOST_NOT_FOUND, LISTEN_FAILED, INVALID_SETTINGS,
// CLIENT_CA_MISSING, CLIENT_CA_UNREADABLE, CLIENT_CA_INVALID (require-client-certificate servers),
// STORE_CORRUPT (settings.json; a bad entry is skipped and listed in `problems`).
// Frame-log error event codes: WS_ERR_* (ws protocol errors, with the closeCode of close-codes.ts), PATH_NOT_FOUND,
// ORIGIN_REFUSED, HANDSHAKE_TIMEOUT, TLS_ON_PLAIN_PORT, PLAIN_ON_TLS_PORT, TLS_HANDSHAKE_FAILED,
// BAD_HTTP_REQUEST, CLIENT_CERT_MISSING, CLIENT_CERT_REFUSED (mTLS: answered 403 with the reason).
import path from 'node:path';
import { getLeaf, listLeaves, loadCa, readLeafKeyPem, reusableLeaf } from '../pki';
import type { LeafInfo } from '../pki';
import type { Store } from '../store';
import type { TlsMaterial } from './echo-server';
import { ServerManager, type ServerManagerOptions } from './server-manager';

export type {
  EchoMode,
  LogBatch,
  LogEvent,
  OpenEvent,
  FrameEvent,
  CloseEvent,
  ErrorEvent,
  Opcode,
  Scheme,
  ServerDefinition,
  ServerDefinitionInput,
  ServerState,
  ServerStatus,
  ServerStatusEvent,
} from './types';
export { ServerManager } from './server-manager';
export type { ServerManagerOptions, SettingsStore } from './server-manager';
export { FrameLog, DEFAULT_LOG_CAPACITY, DEFAULT_FLUSH_MS, PREVIEW_BYTES } from './frame-log';
export type { FrameLogOptions, SubscribeOptions } from './frame-log';
export { EchoServer, DEFAULT_HANDSHAKE_TIMEOUT_MS } from './echo-server';
export type { EchoServerOptions, TlsMaterial } from './echo-server';
export { toHar } from './har';
export type { Har, HarMessage } from './har';
export { renderLabPage, loopbackNames } from './lab-page';
export type { LabTarget } from './lab-page';
export { normalizeDefinition } from './validation';
export { planUrl, certView, certWarnings, covers } from './urls';
export type { UrlPlan, CertView, Lookup } from './urls';

/** Certificate, key and CA of a leaf in the store, for a wss server. */
export function storeCertSource(store: Store): (certId: string) => TlsMaterial {
  return (certId) => {
    const leaf = getLeaf(store, certId);
    const keyPem = readLeafKeyPem(store, certId);
    const ca = loadCa(store);
    return { certPem: leaf.certPem, keyPem, ...(ca ? { caPem: ca.certPem } : {}) };
  };
}

/** A manager whose definitions persist in the store and whose wss servers use the store's leaves. */
export function createServerManager(
  store: Store,
  opts: Omit<ServerManagerOptions, 'settings' | 'resolveCert'> = {},
): ServerManager {
  return new ServerManager({
    rulesDir: path.join(store.root, 'rules'),
    ...opts,
    settings: store,
    resolveCert: storeCertSource(store),
  });
}

/**
 * The leaf a local wss server uses for `name` (default localhost) when none is named: main/pki/reuse.ts's
 * rule, the same one setup.localhost applies (current CA, valid for a day more, longest-lived wins), so
 * `serve` never starts on a certificate that setup would have replaced. Used by `serve` without --cert
 * and by the proxy for each host. null when there is none.
 */
export function pickLeafFor(
  store: Store,
  name = 'localhost',
  at: Date = new Date(),
): LeafInfo | null {
  const ca = loadCa(store);
  return (
    reusableLeaf(listLeaves(store), {
      names: [name],
      caFingerprint256: ca?.fingerprint256,
      now: at.getTime(),
    }) ?? null
  );
}
