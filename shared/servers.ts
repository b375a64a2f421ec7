// Echo servers and the frame log on the wire, declared once: main/echo fills them (under its own names,
// main/echo/types.ts), server.* and log.* return them, the streams push them, the renderer reads them.
// Plain JSON: the shells (Electron IPC, web-mode RPC, CLI --json) pass them through as is.
import type { WssErrorData } from './errors';

export type Scheme = 'ws' | 'wss';
/** echo: same opcode and bytes back; broadcast: to every client of that server; silent: log only. */
export type EchoMode = 'echo' | 'broadcast' | 'silent';

/** One echo server as the user defined it. Persisted in settings.json under `servers`. */
export interface ServerDefinitionDto {
  /** Stable id: lower-case letters, digits and dashes. */
  id: string;
  /** Free text shown in the UI. */
  name: string;
  scheme: Scheme;
  /** Address to bind. Default 127.0.0.1: loopback only unless the user picks another address. */
  host: string;
  /** 0 = pick a free port at each start. */
  port: number;
  /** WebSocket path; other paths get 404 on upgrade. The lab page is always at GET /. */
  path: string;
  /** Leaf certificate id (`wss-studio cert list`), required for wss. */
  certId?: string;
  /**
   * Accepted subprotocols: the first one the client offers that is in this list is chosen. Empty: the
   * client's first offer is accepted (browsers fail a socket whose requested subprotocols get no answer).
   */
  protocols: string[];
  perMessageDeflate: boolean;
  /**
   * wss only: every request must come with a client certificate that `clientCaFile` (default: the WSS Studio
   * CA) issued for client authentication; others get 403 with the reason, logged as CLIENT_CERT_*.
   */
  requireClientCert: boolean;
  /** Absolute path of a PEM file with the CA certificate(s) that client certificates must chain to. */
  clientCaFile?: string;
  /** Exact Origin values allowed (e.g. "https://app.test"). Empty = any (every Origin is still logged). */
  allowedOrigins: string[];
  /** Largest message accepted, in bytes; bigger closes the connection with 1009. */
  maxPayload: number;
  mode: EchoMode;
  /** Start this server when the app starts (set by start/stop). */
  enabled: boolean;
}

/**
 * What a server definition holds for each field the user leaves out: main/echo fills these, the renderer's
 * edit form falls back to them for an emptied field. The one place these values are written.
 */
export const SERVER_DEFAULTS = Object.freeze({
  /** Loopback only unless the user picks another address. */
  host: '127.0.0.1',
  /** 0 = a free port at each start. */
  port: 0,
  path: '/',
  perMessageDeflate: false,
  requireClientCert: false,
  maxPayload: 16 * 1024 * 1024,
  mode: 'echo',
  enabled: false,
} satisfies Partial<ServerDefinitionDto>);

export type ServerState = 'stopped' | 'starting' | 'running' | 'stopping' | 'error';

export interface ServerDto {
  id: string;
  definition: ServerDefinitionDto;
  state: ServerState;
  /** The port actually bound while running (differs from definition.port when that is 0). */
  port?: number;
  /** e.g. ws://127.0.0.1:41234/ while running. */
  url?: string;
  /** Lab page address while running, e.g. https://localhost:41235/. */
  labUrl?: string;
  /** The URL's name does not resolve to the bound address here: the /etc/hosts line that fixes it. */
  urlHint?: string;
  /** Why clients will refuse this server's certificate under `url` (not covered, expired, not yet valid). */
  warnings?: string[];
  /** SHA-256 of the certificate being served (differs from the stored one after a renewal until restart). */
  certFingerprint256?: string;
  connections: number;
  startedAt?: string;
  /** Why the last start failed (state 'error'). */
  error?: WssErrorData;
}

export type Opcode = 'text' | 'binary' | 'ping' | 'pong' | 'close';

interface EventBase {
  /** Monotonic sequence number in the log, from 1. */
  seq: number;
  /** Milliseconds since the epoch with sub-millisecond precision (performance.timeOrigin + now()). */
  time: number;
  serverId: string;
}

export interface OpenEventDto extends EventBase {
  type: 'open';
  conn: number;
  remoteAddress: string;
  remotePort: number;
  /** Full request URL as the client used it, e.g. wss://localhost:8443/echo. */
  url: string;
  origin: string | null;
  userAgent: string | null;
  requestedProtocols: string[];
  protocol: string | null;
  extensions: string;
  tls: { version: string | null; cipher: string | null } | null;
  /** Proxied connections (main/proxy): the other leg, to the developer's server. */
  target?: { url: string; localPort: number; protocol: string | null; extensions: string };
  /** The certificate the client presented (servers that require one), as verified. */
  clientCert?: ClientCertInfo;
}

export interface ClientCertInfo {
  subject: string;
  issuer: string;
  /** subjectAltName entries as OpenSSL prints them, e.g. "DNS:app.test", "email:dev@app.test". */
  sans: string[];
  fingerprint256: string;
  notAfter: string;
}

export interface FrameEventDto extends EventBase {
  type: 'frame';
  conn: number;
  /** in: client to server; out: server to client. */
  dir: 'in' | 'out';
  opcode: Opcode;
  /** Whole payload length in bytes. */
  length: number;
  /** First 4 KiB of the payload: UTF-8 text for text/close, base64 for binary/ping/pong. */
  preview: string;
  previewEncoding: 'utf8' | 'base64';
  truncated: boolean;
  /** For close frames: the status code and reason carried. */
  closeCode?: number;
  closeReason?: string;
  /** Frames the server sent on its own, not as an echo: rule, script, push, injected (manual), replay. */
  source?: 'rule' | 'script' | 'push' | 'injected' | 'replay';
  /** Which rule, script step, push or replay sent it (e.g. "rules[2] ping"). */
  note?: string;
}

export interface CloseEventDto extends EventBase {
  type: 'close';
  conn: number;
  code: number;
  reason: string;
  by: 'client' | 'server';
  /** A closing handshake happened (code is not 1006). */
  clean: boolean;
}

export interface ErrorEventDto extends EventBase {
  type: 'error';
  /** Absent for errors before a connection exists (refused origin, wrong path, handshake timeout). */
  conn?: number;
  /** Stable code: ws's WS_ERR_* for protocol errors, ORIGIN_REFUSED, PATH_NOT_FOUND, HANDSHAKE_TIMEOUT ... */
  code: string;
  message: string;
  /** The close code sent to the client for protocol errors (1002, 1007, 1009). */
  closeCode?: number;
  remoteAddress?: string;
}

/** A proxied HTTP request (issue 12): the page load and the upgrade in the same timeline as the frames. */
export interface HttpEventDto extends EventBase {
  type: 'http';
  /** Set for a WebSocket upgrade that was accepted (status 101). */
  conn?: number;
  method: string;
  path: string;
  status: number;
  /** ms from request to the end of the response (to the 101 for upgrades). */
  durationMs: number;
  /** Why the proxy answered itself (TARGET_REFUSED, FAULT_REFUSED ...). */
  error?: string;
}
/** A fault that was applied (issue 12), so the timeline explains what the client saw. */
export interface FaultEventDto extends EventBase {
  type: 'fault';
  conn?: number;
  fault: 'settings' | 'drop' | 'hold' | 'release' | 'close' | 'refuse';
  dir?: 'in' | 'out';
  message: string;
}
export type LogEventDto =
  OpenEventDto | FrameEventDto | CloseEventDto | ErrorEventDto | HttpEventDto | FaultEventDto;

/** What a log subscriber receives at most once per flush interval. */
export interface LogBatch {
  events: LogEventDto[];
  /**
   * Events this subscriber missed since its last batch: the ring overwrote them, or more arrived than one
   * push carries (the newest are pushed, the older ones skipped).
   */
  missed: number;
  /** Events since the last clear that the ring no longer holds (overwritten, or cut by a resize). */
  dropped: number;
  /** Events written since the last clear: held + dropped. */
  received: number;
}
