// The renderer's only door to the engine: the typed client derived from shared/api.ts (shared/client.ts).
// Screens and state classes take an `Api`, so they work the same over Electron IPC, the web-mode
// WebSocket RPC, or a test double.
import {
  createClient,
  ipcBridge,
  ipcTransport,
  rpcUrl,
  takeToken,
  TOKEN_KEY,
  webSocketTransport,
  type Client,
} from '../../../shared/client';

export type Api = Client;

export type Connection =
  | { api: Api; ready: Promise<void> }
  /** Web mode in a tab that never had the token (or lost it): the page says where to get it. */
  | { api: null };

export function connect(): Connection {
  const bridge = ipcBridge();
  if (bridge) return { api: createClient(ipcTransport(bridge)), ready: Promise.resolve() };
  const token = takeToken(window);
  if (!token) return { api: null };
  const transport = webSocketTransport(rpcUrl(location, token));
  // A refused handshake means the token is from an earlier run (or web mode stopped): forget it.
  const ready = transport.ready.catch((e: unknown) => {
    sessionStorage.removeItem(TOKEN_KEY);
    throw e;
  });
  return { api: createClient(transport), ready };
}
