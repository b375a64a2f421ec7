// The renderer's only door to the engine: the typed client derived from shared/api.ts (shared/client.ts).
// Screens and state classes take an `Api`, so they work the same over Electron IPC, the web-mode
// WebSocket RPC, or a test double.
import { ApiError, autoTransport, createClient, type Client } from '../../../shared/client';

export type Api = Client;
export { ApiError };

export function connect(): Api {
  return createClient(autoTransport());
}
