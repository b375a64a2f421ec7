// One echo server: an http or https server that answers GET / with the lab page and hands WebSocket upgrades
// on its path to a `ws` WebSocketServer in noServer mode (origin and path checks live in the upgrade handler,
// as ws recommends). Every connection, frame, close and protocol error goes to the frame log.
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, WebSocket } from 'ws';
import { failure, inputError, q, type WssError } from '../../shared/errors';
import type { FrameLog } from './frame-log';
import { preview } from './frame-log';
import { renderLabPage, type LabTarget } from './lab-page';
import { checkLabReport, LAB_BODY_MAX, LAB_RESULTS_PATH } from './lab-results';
import type { LabReport } from '../../shared/api';
import type { ClientCertInfo, EchoMode, ServerDefinition } from './types';
import type { Behaviour, FrameSource, Peer } from './rules/peer';
import {
  FaultController,
  connNotFound,
  sendableCloseCode,
  type FaultTarget,
  type Lane,
} from '../faults';

export interface TlsMaterial {
  certPem: string;
  keyPem: string;
  /** Appended to the served chain so clients (and the doctor) can see the issuer. */
  caPem?: string;
  /** Set: request a client certificate and refuse (403) every request without one these CAs issued. */
  clientCaPem?: string;
}

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
/** Bytes queued to one client before we stop reading from the client whose messages fill that queue. */
export const SEND_HIGH_WATER = 8 * 1024 * 1024;
/** How long stop() waits for clients to answer our close frame before cutting them off. */
const CLOSE_GRACE_MS = 1_000;

/** Close codes ws sends for its protocol errors (ws/lib/receiver.js); anything not listed is 1002. */
const WS_ERROR_CLOSE: Record<string, number> = {
  WS_ERR_INVALID_UTF8: 1007,
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 1009,
};

/** Connection numbers are unique per process so exported logs never merge two connections. */
let connCounter = 0;

interface ConnState {
  conn: number;
  /** Set when we initiated the close (stop, protocol error). */
  serverClose?: { code: number; reason: string };
  /** With faults: messages to this client go through this lane. */
  out?: Lane;
}

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
  private readonly sockets = new Set<Duplex>();
  private readonly conns = new Map<WebSocket, ConnState>();
  private boundPort: number | undefined;
  private readonly behaviour: Behaviour | undefined;
  /** Connections since start: the "connection number" rules match on. */
  private connIndex = 0;

  constructor(opts: EchoServerOptions) {
    this.definition = opts.definition;
    this.log = opts.log;
    this.tls = opts.tls;
    this.handshakeTimeoutMs = opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    this.labTargets = opts.labTargets ?? (() => this.selfTarget());
    this.onConnections = opts.onConnections ?? (() => {});
    this.behaviour = opts.behaviour;
    this.onLabReport = opts.onLabReport;
    this.faults = opts.faults ?? new FaultController(opts.definition.id, opts.log);
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
    const wss = new WebSocketServer({
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
    const server =
      def.scheme === 'wss'
        ? https.createServer({
            key: this.tls?.keyPem,
            cert: this.tls?.caPem
              ? `${this.tls.certPem.trim()}\n${this.tls.caPem.trim()}\n`
              : this.tls?.certPem,
            minVersion: 'TLSv1.2',
            // Node's own timer for an unfinished TLS handshake.
            handshakeTimeout: this.handshakeTimeoutMs,
            // mTLS: ask for a certificate but let the handshake finish, so a client without one (or with a
            // wrong one) gets a 403 that says why and the log gets a line, like nginx's ssl_verify_client.
            ...(this.tls?.clientCaPem
              ? { requestCert: true, rejectUnauthorized: false, ca: this.tls.clientCaPem }
              : {}),
          })
        : http.createServer();
    this.server = server;
    this.wss = wss;

    // Handshake timeout: a socket must finish its HTTP request within handshakeTimeoutMs. For https the
    // timer starts once TLS is done (Node's handshakeTimeout covers the TLS part).
    const arm = (socket: Duplex & { __wssTimer?: NodeJS.Timeout }, remote: string | undefined) => {
      this.sockets.add(socket);
      socket.once('close', () => {
        clearTimeout(socket.__wssTimer);
        this.sockets.delete(socket);
      });
      socket.__wssTimer = setTimeout(() => {
        // A connection that never sent a byte of HTTP is a browser's spare (pre)connection: close it
        // quietly. (On a TLS socket bytesRead counts decrypted bytes, so the handshake does not count.)
        if (((socket as Socket).bytesRead ?? 0) === 0) return void socket.destroy();
        this.log.add({
          type: 'error',
          serverId: def.id,
          code: 'HANDSHAKE_TIMEOUT',
          message: `client did not complete its handshake within ${this.handshakeTimeoutMs} ms; connection dropped`,
          ...(remote !== undefined ? { remoteAddress: remote } : {}),
        });
        socket.destroy();
      }, this.handshakeTimeoutMs);
    };
    const disarm = (socket: Duplex & { __wssTimer?: NodeJS.Timeout }) => {
      clearTimeout(socket.__wssTimer);
      socket.__wssTimer = undefined;
    };
    const established = new WeakSet<object>();
    if (def.scheme === 'wss') {
      server.on('connection', (raw: Socket) => {
        this.sockets.add(raw);
        raw.once('close', () => this.sockets.delete(raw));
      });
      server.on('secureConnection', (s: TLSSocket) => arm(s, s.remoteAddress));
      server.on('secureConnection', (s: TLSSocket) => established.add(s));
      server.on('tlsClientError', (err: Error & { code?: string }, s: TLSSocket) => {
        const e = tlsErrorEvent(err);
        if (!e) return;
        this.log.add({
          type: 'error',
          serverId: def.id,
          ...e,
          ...(s?.remoteAddress !== undefined ? { remoteAddress: s.remoteAddress } : {}),
        });
      });
    } else {
      server.on('connection', (s: Socket) => arm(s, s.remoteAddress));
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
        const first = err.rawPacket?.[0];
        const tlsHello = first === 0x16;
        this.log.add({
          type: 'error',
          serverId: def.id,
          code: tlsHello ? 'TLS_ON_PLAIN_PORT' : 'BAD_HTTP_REQUEST',
          message: tlsHello
            ? 'a client started a TLS handshake (wss:// or https://) on this plain ws:// port: use ws:// or a wss server'
            : `bad HTTP request: ${err.code ?? err.message}`,
          ...((socket as Socket).remoteAddress !== undefined
            ? { remoteAddress: (socket as Socket).remoteAddress as string }
            : {}),
        });
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
      disarm(req.socket);
      const refused = this.clientCertRefusal(req.socket);
      if (refused) {
        res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
        return void res.end(refused + '\n');
      }
      this.onRequest(req, res);
    });
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      disarm(socket);
      const refused = this.clientCertRefusal(socket);
      if (refused) return void refuse(socket, 403, 'Forbidden', refused);
      this.onUpgrade(req, socket, head);
    });

    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host: def.host }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      this.server = undefined;
      this.wss = undefined;
      wss.close();
      server.close();
      throw listenError(e, def, port);
    }
    server.on('error', () => {
      // After listening, server-level errors (e.g. EMFILE on accept) must not crash the process.
    });
    const addr = server.address();
    this.boundPort = typeof addr === 'object' && addr ? addr.port : port;
    return this.boundPort;
  }

  /** Close every connection with 1001 (giving clients a moment to answer) and stop listening. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.boundPort = undefined;
    server.close();
    await Promise.all(
      [...this.conns.keys()].map((ws) =>
        closeWithGrace(
          ws,
          () => this.serverClose(ws, 1001, 'server stopping'),
          () => ws.terminate(),
        ),
      ),
    );
    await closeListener(server, this.sockets, this.wss);
    this.wss = undefined;
  }

  /**
   * mTLS servers: null when the client presented a certificate our client CAs verify (for clientAuth),
   * else the logged reason, which is also the body of the 403.
   */
  private clientCertRefusal(socket: Duplex): string | null {
    if (!this.tls?.clientCaPem) return null;
    const s = socket as TLSSocket;
    const peer = s.getPeerX509Certificate?.();
    let code: string;
    let message: string;
    if (!peer) {
      code = 'CLIENT_CERT_MISSING';
      message =
        'this server requires a client certificate and the client sent none: present one issued with "wss-studio cert issue --client NAME" (curl --cert/--key, openssl s_client -cert/-key)';
    } else if (!s.authorized) {
      code = 'CLIENT_CERT_REFUSED';
      const why = String(s.authorizationError ?? 'not verified');
      // Any client may send any certificate: its subject goes into the log and a terminal bounded and
      // without control characters.
      const subject = peer.subject
        .replace(/\n/g, ', ')
        .replace(/\p{Cc}/gu, '?')
        .slice(0, 200);
      message = `the client certificate ${q(subject)} was refused (${why})${
        /purpose/i.test(why)
          ? ': it is not for client authentication; issue one with "wss-studio cert issue --client NAME"'
          : /expired/i.test(why)
            ? ': renew it'
            : ': it was not issued by the CA this server trusts for client certificates'
      }`;
    } else {
      return null;
    }
    this.log.add({
      type: 'error',
      serverId: this.definition.id,
      code,
      message,
      ...(s.remoteAddress !== undefined ? { remoteAddress: s.remoteAddress } : {}),
    });
    return message;
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

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const headers = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };
    if ((req.method === 'GET' || req.method === 'HEAD') && path === '/') {
      const page = renderLabPage(this.labTargets());
      res.writeHead(200, {
        ...headers,
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': page.csp,
        'Referrer-Policy': 'no-referrer',
      });
      res.end(req.method === 'HEAD' ? undefined : page.html);
      return;
    }
    if (req.method === 'POST' && path === LAB_RESULTS_PATH) {
      this.onLabPost(req, res, headers);
      return;
    }
    if (path === this.definition.path) {
      res.writeHead(426, {
        ...headers,
        'Content-Type': 'text/plain; charset=utf-8',
        Upgrade: 'websocket',
      });
      res.end(
        `This is a WebSocket endpoint: connect with ${this.definition.scheme}:// (the lab page is at /).\n`,
      );
      return;
    }
    res.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(
      `Not found. The WebSocket endpoint is ${this.definition.path} and the lab page is /.\n`,
    );
  }

  /** POST /lab-results: read at most LAB_BODY_MAX bytes, check, hand over; answer with a status only. */
  private onLabPost(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    headers: Record<string, string>,
  ): void {
    const answer = (status: number, text: string) => {
      if (res.headersSent) return;
      res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(text + '\n');
    };
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > LAB_BODY_MAX) {
        answer(413, `results are limited to ${LAB_BODY_MAX} bytes`);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('error', () => {});
    req.on('end', () => {
      if (size > LAB_BODY_MAX) return;
      const origin = req.headers.origin;
      const contentType = req.headers['content-type'];
      const check = checkLabReport(
        this.definition.scheme,
        {
          ...(origin !== undefined ? { origin } : {}),
          ...(req.headers.host !== undefined ? { host: req.headers.host } : {}),
          ...(contentType !== undefined ? { contentType } : {}),
        },
        Buffer.concat(chunks).toString('utf8'),
      );
      if (!check.ok) return answer(check.status, check.reason);
      this.onLabReport?.(check.report);
      res.writeHead(204, headers);
      res.end();
    });
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const def = this.definition;
    const wss = this.wss;
    const remote = (socket as Socket).remoteAddress;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const reject = (status: number, text: string, code: string, message: string) => {
      this.log.add({
        type: 'error',
        serverId: def.id,
        code,
        message,
        ...(remote !== undefined ? { remoteAddress: remote } : {}),
      });
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
    const log = this.log;
    const state: ConnState = { conn: ++connCounter };
    const conn = state.conn;
    const sock = req.socket as TLSSocket;
    const offered = (req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const tls =
      def.scheme === 'wss'
        ? { version: sock.getProtocol?.() ?? null, cipher: sock.getCipher?.()?.name ?? null }
        : null;
    const clientCert = this.tls?.clientCaPem ? clientCertInfo(sock) : undefined;
    if (!this.server) {
      // stop() raced with this handshake.
      ws.terminate();
      return;
    }
    this.conns.set(ws, state);
    this.onConnections(this.conns.size);
    log.add({
      type: 'open',
      serverId: def.id,
      conn,
      remoteAddress: sock.remoteAddress ?? '',
      remotePort: sock.remotePort ?? 0,
      url: `${def.scheme}://${req.headers.host ?? `${def.host}:${this.boundPort}`}${req.url ?? '/'}`,
      origin: req.headers.origin ?? null,
      userAgent: req.headers['user-agent'] ?? null,
      requestedProtocols: offered,
      protocol: ws.protocol || null,
      extensions: ws.extensions,
      tls,
      ...(clientCert ? { clientCert } : {}),
    });

    // Backpressure: a client that sends but does not read would make us buffer its echoes without limit.
    // Past SEND_HIGH_WATER bytes queued to a peer, stop reading from the sender until that queue drains.
    const send = (to: WebSocket, from: WebSocket, data: Buffer, isBinary: boolean) => {
      if (to.bufferedAmount + data.length <= SEND_HIGH_WATER) {
        to.send(data, { binary: isBinary });
        return;
      }
      if (!from.isPaused) from.pause();
      to.send(data, { binary: isBinary }, () => {
        if (from.isPaused && from.readyState === WebSocket.OPEN) from.resume();
      });
    };

    const peer = this.behaviour ? this.peer(ws, req, state) : undefined;

    // Faults: messages from the client pass the 'in' lane (drop in, latency, hold) before the server acts
    // on them (rules included); replies, rule and push messages pass the receiver's 'out' lane. Without
    // faults both lanes deliver synchronously.
    const faults = this.faults;
    /** True while the reply is computed in the same tick as the frame in (its log capture can be reused). */
    let sameTick = false;
    const inLane = faults.lane(conn, 'in', (item) => {
      if (item.kind === 'message') handle(item.data, item.binary);
    });
    state.out = faults.lane(conn, 'out', (item) => {
      if (item.kind !== 'message' || ws.readyState !== WebSocket.OPEN) return;
      send(ws, ws, item.data, item.binary);
      if (item.source) this.logSent(conn, item.data, item.binary, item.source, item.note);
      else log.addFrame(def.id, conn, 'out', item.binary ? 'binary' : 'text', item.data);
    });
    if (peer) this.behaviour?.connected(peer);
    /** Reply to one client: straight out, or through its lane while faults are in force. */
    const reply = (
      to: WebSocket,
      st: ConnState,
      data: Buffer,
      isBinary: boolean,
      reuse: boolean,
    ) => {
      if (st.out && (faults.active || st.out.queued > 0)) {
        st.out.push({ kind: 'message', data, binary: isBinary });
        return;
      }
      send(to, ws, data, isBinary);
      // Same bytes as the frame in: the log reuses its payload copy (only when nothing was logged between).
      log.addFrame(def.id, st.conn, 'out', isBinary ? 'binary' : 'text', data, reuse);
    };
    const handle = (data: Buffer, isBinary: boolean) => {
      const outcome = peer ? this.behaviour?.message(peer, data, isBinary) : undefined;
      if (outcome === 'handled') return;
      const mode: EchoMode = outcome ?? def.mode;
      // A rule that fired may have logged frames since the frame in: then the capture is not this
      // payload's. No rule matched (outcome undefined): nothing was logged, the capture is reused.
      const reuse = sameTick && outcome === undefined;
      if (mode === 'echo') {
        if (ws.readyState !== WebSocket.OPEN) return;
        reply(ws, state, data, isBinary, reuse);
      } else if (mode === 'broadcast') {
        for (const [other, st] of this.conns) {
          if (other.readyState !== WebSocket.OPEN) continue;
          reply(other, st, data, isBinary, false);
        }
      }
    };
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      log.addFrame(def.id, conn, 'in', isBinary ? 'binary' : 'text', data);
      if (inLane.passThrough) {
        sameTick = true;
        handle(data, isBinary);
        sameTick = false;
      } else inLane.push({ kind: 'message', data, binary: isBinary });
    });
    ws.on('ping', (data: Buffer) => {
      log.addFrame(def.id, conn, 'in', 'ping', data);
      // ws answers pings itself (autoPong) with the same payload.
      log.addFrame(def.id, conn, 'out', 'pong', data, true);
    });
    ws.on('pong', (data: Buffer) => log.addFrame(def.id, conn, 'in', 'pong', data));
    ws.on('error', (err: Error & { code?: string }) => {
      const code = err.code ?? 'WS_ERROR';
      const closeCode = statusCodeOf(err) ?? WS_ERROR_CLOSE[code] ?? 1002;
      state.serverClose ??= { code: closeCode, reason: '' };
      log.add({ type: 'error', serverId: def.id, conn, code, message: err.message, closeCode });
      closeFrame(conn, 'out', closeCode, '');
    });
    ws.on('close', (code: number, reasonBuf: Buffer) => {
      const reason = reasonBuf.toString('utf8');
      inLane.dispose();
      state.out?.dispose();
      this.conns.delete(ws);
      this.onConnections(this.conns.size);
      if (peer) this.behaviour?.disconnected(peer);
      const clean = code !== 1006;
      if (state.serverClose) {
        if (clean) closeFrame(conn, 'in', code, reason);
        log.add({
          type: 'close',
          serverId: def.id,
          conn,
          code: state.serverClose.code,
          reason: state.serverClose.reason,
          by: 'server',
          clean,
        });
      } else {
        if (clean) {
          closeFrame(conn, 'in', code, reason);
          // ws echoes the client's close code and reason (1005 = none given: an empty close frame).
          closeFrame(conn, 'out', code, reason);
        }
        log.add({ type: 'close', serverId: def.id, conn, code, reason, by: 'client', clean });
      }
    });

    function closeFrame(target: number, dir: 'in' | 'out', code: number, reason: string) {
      const has = code !== 1005 && code !== 1006;
      const r = Buffer.from(reason, 'utf8');
      log.add({
        type: 'frame',
        serverId: def.id,
        conn: target,
        dir,
        opcode: 'close',
        length: has ? 2 + r.length : 0,
        ...preview(r, 'utf8'),
        ...(has ? { closeCode: code, closeReason: reason } : {}),
      });
    }
    this.closeFrameLogger.set(ws, closeFrame);
  }

  private readonly closeFrameLogger = new WeakMap<
    WebSocket,
    (target: number, dir: 'in' | 'out', code: number, reason: string) => void
  >();

  /** The behaviour's handle on one connection: send (logged with its source) and close. */
  private peer(ws: WebSocket, req: http.IncomingMessage, state: ConnState): Peer {
    const url = new URL(req.url ?? '/', 'http://x');
    const def = this.definition;
    const log = this.log;
    return {
      conn: state.conn,
      index: ++this.connIndex,
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      protocol: ws.protocol,
      get open() {
        return ws.readyState === WebSocket.OPEN && !state.serverClose;
      },
      send: (data: Buffer, binary: boolean, source: FrameSource, note?: string) => {
        if (ws.readyState !== WebSocket.OPEN || state.serverClose) return false;
        if (ws.bufferedAmount + data.length > SEND_HIGH_WATER) {
          log.add({
            type: 'error',
            serverId: def.id,
            conn: state.conn,
            code: 'SEND_QUEUE_FULL',
            message: `${source} message not sent: the client is not reading (${ws.bufferedAmount} bytes queued)`,
          });
          return false;
        }
        if (state.out && (this.faults.active || state.out.queued > 0)) {
          // Faults apply to what rules, scripts, pushes and replays send, as to echoes.
          state.out.push({
            kind: 'message',
            data,
            binary,
            source,
            ...(note !== undefined ? { note } : {}),
          });
          return true;
        }
        ws.send(data, { binary });
        this.logSent(state.conn, data, binary, source, note);
        return true;
      },
      close: (code: number, reason: string) => this.serverClose(ws, code, reason),
    };
  }

  /** A frame the server sent on its own (rule, script, push, injected, replay), logged with its source. */
  private logSent(conn: number, data: Buffer, binary: boolean, source: FrameSource, note?: string) {
    this.log.add({
      type: 'frame',
      serverId: this.definition.id,
      conn,
      dir: 'out',
      opcode: binary ? 'binary' : 'text',
      length: data.length,
      ...preview(data, binary ? 'base64' : 'utf8'),
      source,
      ...(note !== undefined ? { note } : {}),
    });
  }

  private openConns(): number[] {
    return [...this.conns.values()].map((c) => c.conn);
  }

  /** FaultTarget: close one connection (or all) with a chosen code and reason, logged as a fault. */
  closeConnections(conn: number | undefined, code: number, reason: string): number {
    const code2 = sendableCloseCode(code) ? code : 1000;
    let n = 0;
    for (const [ws, st] of this.conns) {
      if (conn !== undefined && st.conn !== conn) continue;
      if (st.serverClose) continue;
      this.faults.note({
        fault: 'close',
        conn: st.conn,
        message: `closed by the user with ${code2} ${JSON.stringify(reason)}`,
      });
      this.serverClose(ws, code2, reason);
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
    const found = [...this.conns].find(([, st]) => st.conn === conn);
    if (!found || found[0].readyState !== WebSocket.OPEN) {
      throw connNotFound(
        'inject message',
        `server ${q(this.definition.id)}`,
        conn,
        this.openConns(),
      );
    }
    const st = found[1];
    if (st.out && (this.faults.active || st.out.queued > 0)) {
      st.out.push({ kind: 'message', data, binary, source: 'injected', note: 'conn.inject' });
      return;
    }
    found[0].send(data, { binary });
    this.logSent(conn, data, binary, 'injected', 'conn.inject');
  }

  private serverClose(ws: WebSocket, code: number, reason: string): void {
    const st = this.conns.get(ws);
    if (!st || st.serverClose) return;
    st.serverClose = { code, reason };
    this.closeFrameLogger.get(ws)?.(st.conn, 'out', code, reason);
    ws.close(code, reason);
  }
}

/** Answer an upgrade request with an HTTP error whose body is `message`, and close. */
function refuse(socket: Duplex, status: number, text: string, message: string): void {
  const body = message + '\n';
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** The verified client certificate of an mTLS connection, for the open event. */
function clientCertInfo(s: TLSSocket): ClientCertInfo | undefined {
  const x = s.authorized ? s.getPeerX509Certificate?.() : undefined;
  if (!x) return undefined;
  return {
    subject: x.subject.replace(/\n/g, ', '),
    issuer: x.issuer.replace(/\n/g, ', '),
    sans: x.subjectAltName ? x.subjectAltName.split(', ') : [],
    fingerprint256: x.fingerprint256,
    notAfter: new Date(x.validTo).toISOString(),
  };
}

/** Close one WebSocket (the owner's way) and wait for it; cut it off after CLOSE_GRACE_MS. */
export function closeWithGrace(ws: WebSocket, close: () => void, cut: () => void): Promise<void> {
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

/** After the WebSockets: drop every remaining socket, stop the ws server, and wait until closed. */
export async function closeListener(
  server: http.Server | https.Server,
  sockets: Set<Duplex>,
  wss: WebSocketServer | undefined,
): Promise<void> {
  for (const s of sockets) s.destroy();
  sockets.clear();
  if ('closeAllConnections' in server) server.closeAllConnections();
  wss?.close();
  await new Promise<void>((resolve) => {
    if (!server.listening) return resolve();
    server.once('close', () => resolve());
  });
}

/** A TLS handshake failure as a log event, in words; null for a client that simply went away. */
export function tlsErrorEvent(
  err: Error & { code?: string },
): { code: string; message: string } | null {
  const m = err.message;
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return null;
  if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') {
    return {
      code: 'HANDSHAKE_TIMEOUT',
      message: 'client did not complete its TLS handshake in time; connection dropped',
    };
  }
  if (/http request|wrong version number|unknown protocol/i.test(m)) {
    return {
      code: 'PLAIN_ON_TLS_PORT',
      message:
        'a client spoke plain HTTP (ws:// or http://) to this TLS port: use wss:// or https://',
    };
  }
  if (
    /alert (unknown ca|bad certificate|certificate unknown|certificate expired)|alert number 4[2568]\b/i.test(
      m,
    )
  ) {
    const why = /unknown ca|number 48\b/i.test(m)
      ? 'TLS alert unknown_ca: it does not trust the WSS Studio CA; trust it with "wss-studio trust install"'
      : /expired|number 45\b/i.test(m)
        ? 'TLS alert certificate_expired: renew it with "wss-studio cert renew ID"'
        : 'TLS alert bad_certificate/certificate_unknown: the certificate may not cover the name the client used, or the client does not trust the WSS Studio CA';
    return {
      code: 'CLIENT_REJECTED_CERT',
      message: `the client rejected our certificate (${why})`,
    };
  }
  return { code: 'TLS_HANDSHAKE_FAILED', message: `TLS handshake failed: ${m}` };
}

/** ws tags protocol errors with the close code under a private symbol (kStatusCode = Symbol('status-code')). */
function statusCodeOf(err: object): number | undefined {
  for (const sym of Object.getOwnPropertySymbols(err)) {
    if (sym.description === 'status-code') {
      const v = (err as Record<symbol, unknown>)[sym];
      if (typeof v === 'number') return v;
    }
  }
  return undefined;
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
