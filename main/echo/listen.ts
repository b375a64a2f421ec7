// Starting and stopping a listener, shared by echo servers and proxies (bindListener, stopListener): a listen() error in words that name
// the port and the fix, and a stop that closes WebSockets with a grace period and then every socket.
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { failure, q, type WssError } from '../../shared/errors';
import type { Scheme, ServerDefinition } from './types';

export interface TlsMaterial {
  certPem: string;
  keyPem: string;
  /** Appended to the served chain so clients (and the doctor) can see the issuer. */
  caPem?: string;
  /** Set: request a client certificate and refuse (403) every request without one these CAs issued. */
  clientCaPem?: string;
}

/** How long stop() waits for clients to answer our close frame before cutting them off. */
const CLOSE_GRACE_MS = 1_000;

/** The ws server of an echo server: noServer (upgrades are checked first), its limits and subprotocol rule. */
export function createWebSocketServer(
  def: Pick<ServerDefinition, 'maxPayload' | 'perMessageDeflate' | 'protocols'>,
): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    maxPayload: def.maxPayload,
    perMessageDeflate: def.perMessageDeflate,
    clientTracking: false,
    handleProtocols: (offered) => {
      // No list: accept the client's first offer. Browsers fail a socket whose requested subprotocols get
      // no answer, and an echo server should not be the reason a client cannot connect.
      if (def.protocols.length === 0) return offered.values().next().value ?? false;
      // Otherwise the first protocol in the client's offer that we accept; none: no header is sent.
      for (const p of offered) if (def.protocols.includes(p)) return p;
      return false;
    },
  });
}

/** An http server for ws, an https server (TLS 1.2+, the chain with its CA, optional mTLS) for wss. */
export function createHttpServer(
  scheme: Scheme,
  tls: TlsMaterial | undefined,
  handshakeTimeoutMs: number,
): http.Server | https.Server {
  if (scheme !== 'wss') return http.createServer();
  return https.createServer({
    key: tls?.keyPem,
    cert: tls?.caPem ? `${tls.certPem.trim()}\n${tls.caPem.trim()}\n` : tls?.certPem,
    minVersion: 'TLSv1.2',
    // Node's own timer for an unfinished TLS handshake.
    handshakeTimeout: handshakeTimeoutMs,
    // mTLS: ask for a certificate but let the handshake finish, so a client without one (or with a
    // wrong one) gets a 403 that says why and the log gets a line, like nginx's ssl_verify_client.
    ...(tls?.clientCaPem
      ? { requestCert: true, rejectUnauthorized: false, ca: tls.clientCaPem }
      : {}),
  });
}

/** Close one WebSocket (the owner's way) and wait for it; cut it off after CLOSE_GRACE_MS. */
function closeWithGrace(ws: WebSocket, close: () => void, cut: () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    ws.once('close', () => resolve());
    close();
    setTimeout(() => {
      cut();
      resolve();
    }, CLOSE_GRACE_MS).unref();
  });
}

/**
 * Listen on who.host:port and resolve the bound port. A failed listen runs `undo` (drop what the start made),
 * closes the server and throws listenError naming who; once listening, server-level errors (e.g. EMFILE on
 * accept) no longer crash the process.
 */
export async function bindListener(
  server: net.Server,
  who: Pick<ServerDefinition, 'scheme' | 'host' | 'name'>,
  port: number,
  undo: () => void,
): Promise<number> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: who.host }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    undo();
    server.close();
    throw listenError(e, who, port);
  }
  server.on('error', () => {
    // After listening, server-level errors must not crash the process.
  });
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : port;
}

/** One WebSocket to end on stop: its owner's close, and the cut-off after the grace period. */
export interface Closing {
  ws: WebSocket;
  close: () => void;
  cut: () => void;
}

/** Stop listening, close every WebSocket with grace, then drop every remaining socket (closeListener). */
export async function stopListener(
  server: net.Server,
  closing: Closing[],
  sockets: Set<Duplex>,
  wss: WebSocketServer | undefined,
): Promise<void> {
  server.close();
  await Promise.all(closing.map((c) => closeWithGrace(c.ws, c.close, c.cut)));
  await closeListener(server, sockets, wss);
}

/** After the WebSockets: drop every remaining socket, stop the ws server, and wait until closed. */
async function closeListener(
  server: net.Server,
  sockets: Set<Duplex>,
  wss: WebSocketServer | undefined,
): Promise<void> {
  for (const s of sockets) s.destroy();
  sockets.clear();
  // http.Server and https.Server have it; HTTP/2's and a plain net.Server do not.
  const withConnections = server as Partial<http.Server>;
  if (typeof withConnections.closeAllConnections === 'function')
    withConnections.closeAllConnections();
  wss?.close();
  await new Promise<void>((resolve) => {
    if (!server.listening) return resolve();
    server.once('close', () => resolve());
  });
}

/** Turn a listen() error into a message that names the port and the fix. */
export function listenError(
  e: unknown,
  def: Pick<ServerDefinition, 'scheme' | 'host' | 'name'>,
  port: number,
): WssError {
  const err = e as NodeJS.ErrnoException;
  // Named as the user sees it (the display name), not by the internal id.
  const action = `start ${def.scheme} server ${q(def.name)} on ${q(`${def.host}:${port}`)}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return failure(
        'PORT_IN_USE',
        action,
        `port ${port} is already in use on ${q(def.host)}`,
        `pick another port (or 0 for a free one); "ss -ltnp 'sport = :${port}'" shows which process holds it`,
      );
    case 'EACCES':
      return failure(
        'PORT_PRIVILEGED',
        action,
        port < 1024
          ? `port ${port} is privileged (below 1024) and this process may not bind it`
          : `permission denied to bind port ${port}`,
        port < 1024
          ? `use a port from 1024 up (e.g. ${def.scheme === 'wss' ? 8443 : 8080}), or ${lowPortGrant()}`
          : 'pick another port',
      );
    case 'EADDRNOTAVAIL':
      return failure(
        'HOST_NOT_AVAILABLE',
        action,
        `address ${q(def.host)} does not belong to this machine`,
        "use 127.0.0.1 (loopback), ::1, 0.0.0.0 (all interfaces) or one of this machine's addresses",
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return failure(
        'HOST_NOT_FOUND',
        action,
        `host name ${q(def.host)} does not resolve`,
        'use an IP address such as 127.0.0.1',
      );
    default:
      return failure('LISTEN_FAILED', action, err.message ?? String(e));
  }
}

/**
 * How to let this process bind ports below 1024. In the desktop app process.execPath is the Electron
 * binary (or, for an AppImage, a temporary mount that changes every run), so setcap on it is the wrong
 * advice; Linux's sysctl works for any process. Plain Node (CLI, web mode) may be given the capability.
 */
export function lowPortGrant(
  versions: Record<string, string | undefined> = process.versions,
  execPath = process.execPath,
  platform: NodeJS.Platform = process.platform,
): string {
  if (platform === 'linux' && versions.electron)
    return 'allow unprivileged processes to bind from port 443: sudo sysctl -w net.ipv4.ip_unprivileged_port_start=443';
  return `allow Node to bind low ports: sudo setcap cap_net_bind_service=+ep "${execPath}"`;
}
