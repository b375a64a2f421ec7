// One echo server: an http or https server that answers GET / with the lab page and hands WebSocket upgrades
// on its path to a `ws` WebSocketServer in noServer mode (origin and path checks live in the upgrade handler,
// as ws recommends). Every connection, frame, close and protocol error goes to the frame log.
//
// The parts: connection.ts (one WebSocket: lanes, behaviour, echo, close), tls-sniff.ts (what a failed
// handshake means), client-cert.ts (mTLS), http-pages.ts (lab page, results, 404/426), listen.ts (listen
// errors, stopping), close-codes.ts (ws error -> close code).
import http from 'node:http';
import type https from 'node:https';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WebSocket, type WebSocketServer } from 'ws';
import { inputError, q } from '../../shared/errors';
import type { LabReport } from '../../shared/api';
import { FaultController, connNotFound, sendableCloseCode, type FaultTarget } from '../faults';
import { clientCertInfo, clientCertRefusal } from './client-cert';
import { Connection, openEvent, type ConnectionHost } from './connection';
import type { FrameLog } from './frame-log';
import { answerRequest, refuse } from './http-pages';
import type { LabTarget } from './lab-page';
import {
  bindListener,
  createHttpServer,
  createWebSocketServer,
  stopListener,
  type TlsMaterial,
} from './listen';
import type { Behaviour } from './rules/peer';
import { SocketTracker } from './socket-tracker';
import { plainPortError, tlsErrorEvent } from './tls-sniff';
import type { ServerDefinition } from './types';

export type { TlsMaterial } from './listen';

export interface EchoServerOptions {
  definition: ServerDefinition;
  log: FrameLog;
  /** Required for wss. */
  tls?: TlsMaterial;
  /** A client that has not completed its HTTP request (and TLS handshake) by then is dropped. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** Servers the lab page should try (usually every running server of the manager). */
  labTargets?: () => LabTarget[];
  /** Called when the number of open WebSocket connections changes. */
  onConnections?: (count: number) => void;
  /** Rules, scripts, pushes, replay (main/echo/rules): consulted for every connection and message. */
  behaviour?: Behaviour;
  /** A lab page served by this server posted its results (already checked by shape and origin). */
  onLabReport?: (report: LabReport) => void;
  /** Faults on demand (main/faults): latency, drops, hold, refused upgrades, throttle, forced closes. */
  faults?: FaultController;
}

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

export class EchoServer implements FaultTarget {
  readonly definition: ServerDefinition;
  readonly faults: FaultController;
  private readonly log: FrameLog;
  private readonly tls: TlsMaterial | undefined;
  private readonly handshakeTimeoutMs: number;
  private readonly labTargets: () => LabTarget[];
  private readonly onConnections: (count: number) => void;
  private readonly onLabReport: ((report: LabReport) => void) | undefined;
  private server: http.Server | https.Server | undefined;
  private wss: WebSocketServer | undefined;
  /** Every socket accepted (for stop), with its handshake timer while the HTTP request is not yet read. */
  private readonly sockets: SocketTracker;
  private readonly conns = new Map<WebSocket, Connection>();
  private readonly host: ConnectionHost;
  private boundPort: number | undefined;
  /** Connections since start: the "connection number" rules match on. */
  private connIndex = 0;

  constructor(opts: EchoServerOptions) {
    this.definition = opts.definition;
    this.log = opts.log;
    this.tls = opts.tls;
    this.handshakeTimeoutMs = opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    this.labTargets = opts.labTargets ?? (() => this.selfTarget());
    this.onConnections = opts.onConnections ?? (() => {});
    this.onLabReport = opts.onLabReport;
    this.faults = opts.faults ?? new FaultController(opts.definition.id, opts.log);
    // Handshake timeout: a socket must finish its HTTP request within handshakeTimeoutMs. For https the
    // timer starts once TLS is done (Node's handshakeTimeout covers the TLS part).
    this.sockets = new SocketTracker(this.handshakeTimeoutMs, (socket) => {
      // A connection that never sent a byte of HTTP is a browser's spare (pre)connection: close it
      // quietly. (On a TLS socket bytesRead counts decrypted bytes, so the handshake does not count.)
      if (((socket as Socket).bytesRead ?? 0) === 0) return void socket.destroy();
      this.logError(
        'HANDSHAKE_TIMEOUT',
        `client did not complete its handshake within ${this.handshakeTimeoutMs} ms; connection dropped`,
        (socket as Socket).remoteAddress,
      );
      socket.destroy();
    });
    this.host = {
      definition: this.definition,
      log: this.log,
      faults: this.faults,
      behaviour: opts.behaviour,
      conns: this.conns,
      nextIndex: () => ++this.connIndex,
      closed: (ws) => {
        this.conns.delete(ws);
        this.onConnections(this.conns.size);
      },
    };
    if (this.definition.scheme === 'wss' && !this.tls) {
      throw inputError(
        'CERT_REQUIRED',
        `start wss server ${q(this.definition.name)}`,
        'a wss server needs a certificate',
        {
          field: 'certId',
          hint: 'issue one with "wss-studio cert issue localhost 127.0.0.1 ::1" and pick it',
        },
      );
    }
  }

  get port(): number | undefined {
    return this.boundPort;
  }

  get connections(): number {
    return this.conns.size;
  }

  get running(): boolean {
    return this.server !== undefined && this.boundPort !== undefined;
  }

  /** Listen; on failure everything is closed again and a WssError naming the port is thrown. */
  async start(port: number = this.definition.port): Promise<number> {
    if (this.server) throw new Error('echo server already started');
    const def = this.definition;
    const wss = createWebSocketServer(def);
    const server = createHttpServer(def.scheme, this.tls, this.handshakeTimeoutMs);
    this.server = server;
    this.wss = wss;

    const established = new WeakSet<object>();
    if (def.scheme === 'wss') {
      server.on('connection', (raw: Socket) => this.sockets.track(raw));
      server.on('secureConnection', (s: TLSSocket) => {
        this.sockets.arm(s);
        established.add(s);
      });
      server.on('tlsClientError', (err: Error & { code?: string }, s: TLSSocket) => {
        const e = tlsErrorEvent(err);
        if (e) this.logError(e.code, e.message, s?.remoteAddress);
      });
    } else {
      server.on('connection', (s: Socket) => this.sockets.arm(s));
    }

    server.on(
      'clientError',
      (err: Error & { code?: string; rawPacket?: Buffer }, socket: Duplex) => {
        // https.Server re-emits TLS handshake errors as clientError; tlsClientError logs those. A client
        // that went away (ECONNRESET) is not an error worth a line.
        if (
          (def.scheme === 'wss' && !established.has(socket)) ||
          err.code === 'ECONNRESET' ||
          err.code === 'EPIPE'
        ) {
          socket.destroy();
          return;
        }
        const e = plainPortError(err);
        this.logError(e.code, e.message, (socket as Socket).remoteAddress);
        // A TLS ClientHello gets the same plain 400 as any bad request: the client's TLS stack then reads
        // bytes that are not a TLS record, which Chromium reports as net::ERR_SSL_PROTOCOL_ERROR (what a
        // plain ws server shows in the wild). Destroying the socket instead showed ERR_CONNECTION_CLOSED.
        // (e2e/browser-errors.test.ts)
        if ((socket as Socket).writable) {
          socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        } else {
          socket.destroy();
        }
      },
    );

    server.on('request', (req, res) => {
      this.sockets.disarm(req.socket);
      const refused = this.clientCertRefused(req.socket);
      if (refused) {
        res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
        return void res.end(refused + '\n');
      }
      answerRequest(
        { definition: def, labTargets: this.labTargets, onLabReport: this.onLabReport },
        req,
        res,
      );
    });
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      this.sockets.disarm(socket);
      const refused = this.clientCertRefused(socket);
      if (refused) return void refuse(socket, 403, 'Forbidden', refused);
      this.onUpgrade(req, socket, head);
    });

    const bound = await bindListener(server, def, port, () => {
      this.server = undefined;
      this.wss = undefined;
      wss.close();
    });
    this.boundPort = bound;
    return bound;
  }

  /** Close every connection with 1001 (giving clients a moment to answer) and stop listening. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.boundPort = undefined;
    await stopListener(
      server,
      [...this.conns.values()].map((c) => ({
        ws: c.ws,
        close: () => c.close(1001, 'server stopping'),
        cut: () => c.ws.terminate(),
      })),
      this.sockets.sockets,
      this.wss,
    );
    this.wss = undefined;
  }

  /** A server-level error event (no connection number) in the frame log. */
  private logError(code: string, message: string, remote: string | undefined): void {
    this.log.add({
      type: 'error',
      serverId: this.definition.id,
      code,
      message,
      ...(remote !== undefined ? { remoteAddress: remote } : {}),
    });
  }

  /** mTLS servers: null when the client's certificate is verified, else the logged reason (the 403 body). */
  private clientCertRefused(socket: Duplex): string | null {
    if (!this.tls?.clientCaPem) return null;
    const s = socket as TLSSocket;
    const refusal = clientCertRefusal(s);
    if (!refusal) return null;
    this.logError(refusal.code, refusal.message, s.remoteAddress);
    return refusal.message;
  }

  private selfTarget(): LabTarget[] {
    const d = this.definition;
    return this.boundPort === undefined
      ? []
      : [
          {
            id: d.id,
            name: d.name,
            scheme: d.scheme,
            host: d.host,
            port: this.boundPort,
            path: d.path,
          },
        ];
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const def = this.definition;
    const wss = this.wss;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const reject = (status: number, text: string, code: string, message: string) => {
      this.logError(code, message, (socket as Socket).remoteAddress);
      refuse(socket, status, text, message);
    };
    if (!wss) return void socket.destroy();
    if (path !== def.path) {
      return reject(
        404,
        'Not Found',
        'PATH_NOT_FOUND',
        `no WebSocket endpoint at ${q(path)}: this server accepts WebSockets on ${q(def.path)}`,
      );
    }
    const origin = req.headers.origin ?? null;
    if (
      def.allowedOrigins.length > 0 &&
      (origin === null || !def.allowedOrigins.includes(origin))
    ) {
      return reject(
        403,
        'Forbidden',
        'ORIGIN_REFUSED',
        `origin ${origin === null ? '(none)' : q(origin)} is not in this server's allowed origins (${def.allowedOrigins.map((o) => q(o)).join(', ')})`,
      );
    }
    const refused = this.faults.refuseUpgrade(path);
    if (refused !== null) {
      return reject(
        refused,
        http.STATUS_CODES[refused] ?? 'Refused',
        'FAULT_REFUSED',
        `upgrade refused with HTTP ${refused} by a fault set on this server`,
      );
    }
    wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req));
  }

  private onConnection(ws: WebSocket, req: http.IncomingMessage): void {
    const def = this.definition;
    const c = new Connection(ws, this.host);
    if (!this.server) {
      // stop() raced with this handshake.
      ws.terminate();
      return;
    }
    this.conns.set(ws, c);
    this.onConnections(this.conns.size);
    const sock = req.socket as TLSSocket;
    const clientCert = this.tls?.clientCaPem ? clientCertInfo(sock) : undefined;
    this.log.add(openEvent(def, c.conn, req, ws, this.boundPort, clientCert));
    c.attach(req);
  }

  private openConns(): number[] {
    return [...this.conns.values()].map((c) => c.conn);
  }

  /** FaultTarget: close one connection (or all) with a chosen code and reason, logged as a fault. */
  closeConnections(conn: number | undefined, code: number, reason: string): number {
    const code2 = sendableCloseCode(code) ? code : 1000;
    let n = 0;
    for (const c of this.conns.values()) {
      if (conn !== undefined && c.conn !== conn) continue;
      if (c.closing) continue;
      this.faults.note({
        fault: 'close',
        conn: c.conn,
        message: `closed by the user with ${code2} ${JSON.stringify(reason)}`,
      });
      c.close(code2, reason);
      n++;
    }
    if (conn !== undefined && n === 0) {
      throw connNotFound(
        'close connection',
        `server ${q(this.definition.id)}`,
        conn,
        this.openConns(),
      );
    }
    return n;
  }

  /** FaultTarget: send a message to a client as if the server sent it, logged as injected. */
  inject(conn: number, to: 'client' | 'target', data: Buffer, binary: boolean): void {
    if (to !== 'client') {
      throw inputError(
        'INJECT_UNSUPPORTED',
        'inject message',
        'an echo server has no target: it is the server',
        {
          field: 'to',
          value: to,
          hint: 'use to "client"',
        },
      );
    }
    const found = [...this.conns.values()].find((c) => c.conn === conn);
    if (!found || found.ws.readyState !== WebSocket.OPEN) {
      throw connNotFound(
        'inject message',
        `server ${q(this.definition.id)}`,
        conn,
        this.openConns(),
      );
    }
    found.sendOwn(data, binary, 'injected', 'conn.inject');
  }
}
