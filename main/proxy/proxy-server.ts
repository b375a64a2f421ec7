// Over 400 lines: both legs of each proxied connection (HTTP pass-through and WebSocket) share the target connection and its faults.
// One TLS front: an http or https server on the public side (HTTP/1.1: h1-server.ts; HTTP/2: h2-exchange.ts)
// that passes every HTTP request through to the developer's server (h1-client.ts: streaming both ways,
// keep-alive to the target; X-Forwarded-*) and terminates each
// WebSocket on both legs with `ws`, so every message is seen (frame log, faults, inject) and forwarded
// byte-exact with its opcode. Pings, pongs, close codes and reasons are carried both ways; permessage-deflate
// is negotiated on each leg (offered to the target only when the client offered it); a slow reader on one
// side pauses the socket of the other side (bufferedAmount past a high-water mark), so memory stays bounded.
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { WebSocket, WebSocketServer } from 'ws';
import { failure, inputError, q } from '../../shared/errors';
import type { FrameLog } from '../echo/frame-log';
import { preview } from '../echo/frame-log';
import { bindListener, stopListener, type TlsMaterial } from '../echo/listen';
import { tlsErrorEvent } from '../echo/tls-sniff';
import {
  FaultController,
  connNotFound,
  sendableCloseCode,
  type FaultTarget,
  type Lane,
  type LaneItem,
} from '../faults';
import { TargetPool } from './h1-client';
import { H1Server, type PublicExchange } from './h1-server';
import { h2Exchange } from './h2-exchange';
import {
  HOP,
  forwardRequestLines,
  hasLength,
  relayResponseLines,
  requestHead,
  splitLinks,
  type Forwarding,
} from './http-headers';
import {
  cachedLookup,
  explainTargetError,
  explainUpgradeError,
  type TargetProblem,
} from './target';
import type { ProxyDefinition } from './types';
import { parsePublic, parseTarget, type PublicSide, type TargetSide } from './validation';

/** Bytes queued to one leg before the other leg's socket is paused. */
export const PROXY_HIGH_WATER = 4 * 1024 * 1024;
export const PROXY_MAX_PAYLOAD = 256 * 1024 * 1024;
/** How long an HTTP/1.1 connection to the https:// front has for its first request head (Node's headersTimeout). */
export const PROXY_HEAD_TIMEOUT_MS = 60_000;
/**
 * How long an HTTP/2 session of the https:// front may go without an open stream before it is closed (GOAWAY).
 * nginx's http2_idle_timeout was 3 min; browsers keep an idle h2 connection for about 5. A session with a
 * stream open (a slow download, an SSE response) is never cut by it.
 */
export const PROXY_H2_IDLE_MS = 180_000;
/** How long a TLS connection that negotiated h2 has for the connection preface (its SETTINGS frame). */
export const PROXY_H2_PREFACE_MS = 10_000;
const WS_OWN = new Set([
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
  'sec-websocket-accept',
]);

let connCounter = 0;

export interface ProxyServerOptions {
  definition: ProxyDefinition;
  log: FrameLog;
  /** Required for an https:// public side. */
  tls?: TlsMaterial;
  /** Trusted besides the system roots when verifying an https:// target (our CA). */
  targetCa?: string;
  /** Faults survive restarts when the owner passes its controller. */
  faults?: FaultController;
  /** Connection or request counts changed. */
  onChange?: () => void;
  /** What the last request to the target showed: up, or the problem (the card's live health). */
  onTarget?: (problem: TargetProblem | null) => void;
  /** Tests: PROXY_HEAD_TIMEOUT_MS. */
  headTimeoutMs?: number;
  /** Tests: an http:// client idle between requests is dropped after this long (default 5 s). */
  keepAliveMs?: number;
  /** Tests: PROXY_H2_IDLE_MS. */
  h2IdleMs?: number;
  /** Tests: PROXY_H2_PREFACE_MS. */
  h2PrefaceMs?: number;
}

interface Pair {
  conn: number;
  down: WebSocket;
  up: WebSocket;
  toTarget: Lane;
  toClient: Lane;
  /** Who closed first, with what. */
  closedBy?: 'client' | 'server';
  code?: number;
  reason?: string;
  forced?: boolean;
  downClosed: boolean;
  upClosed: boolean;
}

export class ProxyServer implements FaultTarget {
  readonly definition: ProxyDefinition;
  readonly faults: FaultController;
  private readonly log: FrameLog;
  private readonly tlsMaterial: TlsMaterial | undefined;
  private readonly targetCa: string | undefined;
  private readonly onChange: () => void;
  private readonly onTarget: (problem: TargetProblem | null) => void;
  private readonly headTimeoutMs: number;
  private readonly keepAliveMs: number | undefined;
  private readonly h2IdleMs: number;
  private readonly h2PrefaceMs: number;
  private readonly pub: PublicSide;
  private readonly target: TargetSide;
  private readonly pool: TargetPool;
  private server: net.Server | undefined;
  private wss: WebSocketServer | undefined;
  private boundPort: number | undefined;
  private readonly pairs = new Map<number, Pair>();
  private readonly sockets = new Set<Duplex>();
  private requestCount = 0;

  constructor(opts: ProxyServerOptions) {
    this.definition = opts.definition;
    this.log = opts.log;
    this.tlsMaterial = opts.tls;
    this.targetCa = opts.targetCa;
    this.onChange = opts.onChange ?? (() => {});
    this.onTarget = opts.onTarget ?? (() => {});
    this.headTimeoutMs = opts.headTimeoutMs ?? PROXY_HEAD_TIMEOUT_MS;
    this.keepAliveMs = opts.keepAliveMs;
    this.h2IdleMs = opts.h2IdleMs ?? PROXY_H2_IDLE_MS;
    this.h2PrefaceMs = opts.h2PrefaceMs ?? PROXY_H2_PREFACE_MS;
    this.pub = parsePublic(opts.definition.publicUrl);
    this.target = parseTarget(opts.definition.target);
    this.faults = opts.faults ?? new FaultController(opts.definition.id, opts.log);
    if (this.pub.scheme === 'https' && !this.tlsMaterial) {
      throw inputError(
        'CERT_REQUIRED',
        `start proxy ${q(this.definition.id)}`,
        'an https:// public side needs a certificate',
        {
          field: 'certId',
          hint: `issue one with "wss-studio cert issue ${this.pub.host}" and pick it`,
        },
      );
    }
    // Kept-alive connections to the target, its host name looked up once per few seconds, not per connection.
    // Up to 256 are kept once free: an HTTP/2 page load asks for its modules at once (one target connection
    // each); with fewer kept, every load closed the surplus and dialled it again (bench/proxy.mjs, page load).
    this.pool = new TargetPool(
      this.target,
      cachedLookup(),
      this.target.scheme === 'https' ? this.targetTls() : undefined,
    );
  }

  get port(): number | undefined {
    return this.boundPort;
  }
  get connections(): number {
    return this.pairs.size;
  }
  get requests(): number {
    return this.requestCount;
  }
  /** Public origin with the bound port, e.g. https://app.test:8443 */
  get publicOrigin(): string {
    const h = this.pub.host.includes(':') ? `[${this.pub.host}]` : this.pub.host;
    const port = this.boundPort ?? this.pub.port;
    const dflt = this.pub.scheme === 'https' ? 443 : 80;
    return `${this.pub.scheme}://${h}${port === dflt ? '' : `:${port}`}`;
  }

  async start(port: number = this.pub.port): Promise<number> {
    if (this.server) throw new Error('proxy already started');
    this.pool.reopen(); // after a stop()
    const def = this.definition;
    const wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: true,
      maxPayload: PROXY_MAX_PAYLOAD,
      autoPong: false,
      // The client gets the subprotocol the target chose (it is one the client offered).
      handleProtocols: (_offered, req) => (req as ReqWithProto).__targetProtocol || false,
    });
    const m = this.tlsMaterial;
    // HTTP/1.1 is served on the socket (h1-server.ts), over TLS too; its WebSocket upgrades go through
    // `upgrades`, an http.Server that never listens. https:// offers HTTP/2 to browsers (ALPN h2: a page's
    // modules load over one connection, all at once, instead of six at a time), served by an HTTP/2 server
    // that never listens either: the TLS server hands it each socket that chose h2.
    const upgrades = http.createServer();
    const h1 = new H1Server({
      onRequest: (ex) => this.onRequest(ex),
      upgrades,
      headTimeoutMs: this.headTimeoutMs,
      ...(this.keepAliveMs !== undefined ? { keepAliveMs: this.keepAliveMs } : {}),
    });
    let h2: http2.Http2Server | undefined;
    if (m) {
      h2 = http2.createServer();
      // Node's HTTP/2 server has no timeout of its own: a session that never sent the preface, or one left
      // idle, was held for good (a local process could pile up sockets and session memory without bound).
      h2.on('session', (session) => this.watchSession(session));
      h2.on(
        'stream',
        (
          stream: http2.ServerHttp2Stream,
          headers: http2.IncomingHttpHeaders,
          _flags: number,
          rawHeaders: string[],
        ) => this.onRequest(h2Exchange(stream, headers, rawHeaders)),
      );
    }
    const server: net.Server = m
      ? tls.createServer({
          key: m.keyPem,
          cert: m.caPem ? `${m.certPem.trim()}\n${m.caPem.trim()}\n` : m.certPem,
          minVersion: 'TLSv1.2',
          handshakeTimeout: 10_000,
          // http/1.0 too: OpenSSL refuses a client whose list shares nothing with ours (fatal alert
          // no_application_protocol), and curl --http1.0 offers only http/1.0. It is served as HTTP/1.1 is.
          ALPNProtocols: ['h2', 'http/1.1', 'http/1.0'],
          // As http.Server and the plain side: a small answer is not held back for an ACK (Nagle).
          noDelay: true,
        })
      : net.createServer({ allowHalfOpen: true, noDelay: true });
    server.on(m ? 'secureConnection' : 'connection', (s: net.Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
      if (h2 && (s as tls.TLSSocket).alpnProtocol === 'h2') h2.emit('connection', s);
      else h1.handle(s);
    });
    if (m) {
      // A browser that does not trust the CA (or a plain http:// client) shows up in the log, in words.
      server.on('tlsClientError', (err: Error & { code?: string }, sock: tls.TLSSocket) => {
        const e = tlsErrorEvent(err);
        if (!e) return;
        this.log.add({
          type: 'error',
          serverId: def.id,
          ...e,
          ...(sock?.remoteAddress !== undefined ? { remoteAddress: sock.remoteAddress } : {}),
        });
      });
    }
    // An upgrade request its parser refused after h1-server.ts handed it over.
    upgrades.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
      if (err.code === 'ECONNRESET' || !(socket as net.Socket).writable) {
        socket.destroy();
        return;
      }
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    upgrades.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) =>
      this.onUpgrade(req, socket, head),
    );
    this.server = server;
    this.wss = wss;
    const bound = await bindListener(
      server,
      { scheme: this.pub.scheme === 'https' ? 'wss' : 'ws', host: def.bindHost, name: def.name },
      port,
      () => {
        this.server = undefined;
        this.wss = undefined;
        wss.close();
        this.pool.destroy();
      },
    );
    this.boundPort = bound;
    return bound;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.boundPort = undefined;
    await stopListener(
      server,
      [...this.pairs.values()].map((p) => ({
        ws: p.down,
        close: () => this.forceClose(p, 1001, 'proxy stopping', false),
        cut: () => {
          p.down.terminate();
          p.up.terminate();
        },
      })),
      this.sockets,
      this.wss,
    );
    this.wss = undefined;
    this.pool.destroy();
  }

  /**
   * Deadlines of one HTTP/2 session: the preface (the client's SETTINGS) within h2PrefaceMs, else the socket
   * is dropped; then, whenever no stream is open for h2IdleMs, a graceful close (GOAWAY, then the socket).
   */
  private watchSession(session: http2.ServerHttp2Session): void {
    const preface = setTimeout(() => session.destroy(), this.h2PrefaceMs);
    session.once('remoteSettings', () => clearTimeout(preface));
    let open = 0;
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      idle = setTimeout(() => session.close(), this.h2IdleMs);
    };
    arm();
    session.on('stream', (stream: http2.ServerHttp2Stream) => {
      if (open++ === 0) clearTimeout(idle);
      stream.once('close', () => {
        if (--open === 0 && !session.closed && !session.destroyed) arm();
      });
    });
    session.once('close', () => {
      clearTimeout(preface);
      clearTimeout(idle);
    });
  }

  // --- FaultTarget ----------------------------------------------------------------------------------------

  closeConnections(conn: number | undefined, code: number, reason: string): number {
    const list =
      conn === undefined ? [...this.pairs.values()] : [this.pairOf(conn, 'close connection')];
    for (const p of list) this.forceClose(p, code, reason, true);
    return list.length;
  }

  inject(conn: number, to: 'client' | 'target', data: Buffer, binary: boolean): void {
    const p = this.pairOf(conn, 'inject message');
    const ws = to === 'client' ? p.down : p.up;
    if (ws.readyState !== WebSocket.OPEN) {
      throw inputError('CONN_CLOSED', 'inject message', `connection ${conn} is closing`, {
        field: 'conn',
        value: conn,
      });
    }
    ws.send(data, { binary });
    this.log.add({
      type: 'frame',
      serverId: this.definition.id,
      conn,
      dir: to === 'client' ? 'out' : 'in',
      opcode: binary ? 'binary' : 'text',
      length: data.length,
      ...preview(data, binary ? 'base64' : 'utf8'),
      source: 'injected',
      note: to === 'client' ? 'conn.inject to the client' : 'conn.inject to the target',
    });
  }

  // --- HTTP -----------------------------------------------------------------------------------------------

  private targetTls(): tls.ConnectionOptions {
    const verify = this.definition.targetVerify;
    return {
      rejectUnauthorized: verify,
      ...(net.isIP(this.target.host) ? {} : { servername: this.target.host }),
      ...(verify && this.targetCa ? { ca: [...tls.rootCertificates, this.targetCa] } : {}),
    };
  }

  /** What the target is told about a request: client address, public scheme and host, the Host it gets. */
  private forwarding(ip: string): Forwarding {
    const t = this.target;
    return {
      ip,
      proto: this.pub.scheme,
      fallbackHost: `${this.pub.host}:${this.boundPort ?? this.pub.port}`,
      hostFor: this.definition.preserveHost
        ? (publicHost) => publicHost
        : () => `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`,
    };
  }

  /** Request headers for a WebSocket upgrade to the target: forwardRequestLines() without ws's own. */
  private upgradeHeaders(req: http.IncomingMessage): Record<string, string> {
    const lines = forwardRequestLines(
      req.rawHeaders,
      this.forwarding(req.socket.remoteAddress ?? ''),
    );
    // No prototype: a client's "Constructor" header was sent as "function Object() { [native code] }, ..."
    // and its "__proto__" header was dropped. Repeated Cookie lines join with "; " (a "," joins two cookies
    // into one value), every other repeat with ", ".
    const out: Record<string, string> = Object.create(null) as Record<string, string>;
    for (let i = 0; i < lines.length; i += 2) {
      const k = lines[i]!.toLowerCase();
      if (WS_OWN.has(k)) continue;
      const prev = out[k];
      const v = lines[i + 1]!;
      out[k] = prev === undefined ? v : `${prev}${k === 'cookie' ? '; ' : ', '}${v}`;
    }
    return out;
  }

  private rewriteLocation(loc: string): string {
    if (!this.definition.rewriteRedirects) return loc;
    const t = this.target;
    const origins = [t.origin, `${t.scheme}://${t.host}:${t.port}`];
    if (t.host === '127.0.0.1' || t.host === 'localhost') {
      origins.push(`${t.scheme}://localhost:${t.port}`, `${t.scheme}://127.0.0.1:${t.port}`);
    }
    for (const o of origins) {
      if (loc === o || loc.startsWith(o + '/') || loc.startsWith(o + '?')) {
        let rest = loc.slice(o.length);
        if (t.basePath && rest.startsWith(t.basePath)) rest = rest.slice(t.basePath.length) || '/';
        return this.publicOrigin + rest;
      }
    }
    return loc;
  }

  private logHttp(
    method: string,
    path: string,
    status: number,
    t0: number,
    extra: { conn?: number; error?: string } = {},
  ) {
    this.log.add({
      type: 'http',
      serverId: this.definition.id,
      method,
      path: path.length > 2048 ? path.slice(0, 2048) : path,
      status,
      durationMs: Math.round((performance.now() - t0) * 100) / 100,
      ...extra,
    });
  }

  /** `malformed`: why an HTTP/2 request is (h2-exchange.ts), answered with 400. */
  private onRequest(ex: PublicExchange & { malformed?: string }): void {
    const t0 = performance.now();
    this.requestCount++;
    this.onChange();
    const { method, path, bodyless } = ex;
    const t = this.target;
    let logged = false;
    const done = (status: number, error?: string) => {
      if (logged) return;
      logged = true;
      this.logHttp(method, path, status, t0, error ? { error } : {});
    };
    /** The error page naming the target and the fix (or a cut connection once the answer has begun). */
    const fail = (p: Pick<TargetProblem, 'code' | 'detail' | 'fix'>, status = 502) => {
      // Logged first: the HTTP/1.1 side's end() reports the answer done at once, and that would log it
      // first (status 0, no error code) for a 502 page.
      done(status, p.code);
      if (ex.headersSent) {
        ex.destroy();
      } else {
        const body = Buffer.from(
          errorPage(this.publicOrigin + path, this.definition.target, p.detail, p.fix),
        );
        try {
          ex.head(status, http.STATUS_CODES[status] ?? '', [
            'Content-Type',
            'text/html; charset=utf-8',
            'Content-Length',
            String(body.length),
            'Cache-Control',
            'no-store',
            'X-WSS-Studio-Error',
            p.code,
          ]);
          ex.end(body);
        } catch {
          // An HTTP/2 stream the client already reset.
          ex.destroy();
        }
      }
    };
    /** Answered by the proxy itself, the target never asked: the request's body is read and dropped. */
    const refuse = (p: Pick<TargetProblem, 'code' | 'detail' | 'fix'>, status: number) => {
      ex.readBody(
        () => true,
        () => {},
      );
      fail(p, status);
    };
    if (method === 'CONNECT') {
      // Only HTTP/2 gets here (HTTP/1.1's CONNECT goes to the upgrade path): nghttp2 takes a CONNECT with an
      // :authority and no :path, and it reached the target as "CONNECT / HTTP/1.1" with a chunked body, a
      // tunnel the proxy never meant to open. The stream is reset once the answer is sent (a tunnel's client
      // never ends its side).
      return refuse(
        {
          code: 'BAD_REQUEST',
          detail: 'the proxy does not open CONNECT tunnels',
          fix: 'send plain requests (WebSocket upgrades go over HTTP/1.1)',
        },
        405,
      );
    }
    const lines = forwardRequestLines(ex.rawHeaders, this.forwarding(ex.remoteAddress));
    // A body without a length (HTTP/1.1 chunked, or HTTP/2 without Content-Length) goes to the target chunked.
    const chunked = !bodyless && !hasLength(lines);
    if (chunked) lines.push('Transfer-Encoding', 'chunked');
    // "OPTIONS *" asks about the server as a whole: with a base path it went out as "OPTIONS /base*".
    const head =
      ex.malformed !== undefined
        ? { problem: ex.malformed }
        : requestHead(method, path === '*' ? '*' : t.basePath + path, lines);
    if (typeof head !== 'string') {
      // Only an HTTP/2 request gets here (llhttp refuses these on HTTP/1.1): a method, path or header value
      // HTTP/1.1 cannot carry (a control character nghttp2 lets through).
      return refuse(
        {
          code: 'BAD_REQUEST',
          detail: `the request cannot be passed on over HTTP/1.1: ${head.problem}`,
          fix:
            ex.malformed !== undefined
              ? 'send one authority: a Host header, if any, the same as :authority'
              : 'send a request target and header values without control characters',
        },
        400,
      );
    }
    let status = 0;
    // A request without a body is sent once more when a kept-alive socket the target closed meanwhile (a dev
    // server restarting) fails before any answer (h1-client.ts).
    const x = this.pool.request(
      { head, isHead: method === 'HEAD', bodyless },
      {
        info: (code, raw) => this.earlyHints(code, raw, ex),
        head: (code, message, raw) => {
          try {
            this.onTarget(null);
            // HTTP/2's writeHead() takes 0 as "none" and sends 200: a target's "HTTP/1.1 000" reached HTTP/2
            // clients as a success. Refused for both (the 502 page).
            if (code < 100) throw new RangeError(`invalid status code ${code}`);
            ex.head(
              code,
              message,
              relayResponseLines(raw, (v) => this.rewriteLocation(v)),
            );
            status = code;
          } catch (err) {
            // A response the public side cannot carry (a header HTTP/2 forbids, an invalid value).
            x.abort();
            fail({
              code: 'TARGET_BAD_RESPONSE',
              detail: `the answer of the target to ${method} ${q(path)} cannot be passed on: ${(err as Error).message}`,
              fix: 'remove that header from the response of your server',
            });
          }
        },
        // The body as it comes, chunk by chunk (no buffering), paused while the client is slower.
        data: (chunk) => ex.write(chunk),
        end: () => ex.end(),
        error: (err) => {
          const p = explainTargetError(err, t, this.definition.target);
          if (!ex.headersSent) this.onTarget(p);
          fail(p);
        },
        // A 101 to a request that asked for no upgrade (Upgrade is hop-by-hop, never passed on).
        switched: (code) =>
          fail({
            code: 'TARGET_BAD_RESPONSE',
            detail: `the target answered ${method} ${q(path)} with ${code} Switching Protocols, which the request did not ask for`,
            fix: 'answer plain requests with a normal status (WebSocket upgrades reach your server on their own)',
          }),
      },
      chunked,
    );
    ex.onDrain(() => x.resume());
    ex.onDone((finished) => {
      if (finished) return done(status);
      x.abort();
      done(status, 'CLIENT_GONE');
    });
    if (!bodyless) {
      const resume = () => ex.resumeBody();
      ex.readBody(
        (chunk) => x.write(chunk, resume),
        () => x.end(),
      );
    }
  }

  /**
   * 103 Early Hints: the browser may fetch what the Link lines name while the target still works on the
   * answer. Only Link is relayed (what browsers act on), never to an HTTP/1.0 client (RFC 9110 15.2), and a
   * Link value Node will not write is dropped: a hint is not worth failing the request for.
   */
  private earlyHints(code: number, raw: string[], ex: PublicExchange): void {
    if (code !== 103 || ex.headersSent || ex.http10) return;
    const link: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i]!.toLowerCase() === 'link') link.push(raw[i + 1]!);
    }
    if (link.length > 0) ex.hints(splitLinks(link));
  }

  // --- WebSocket ------------------------------------------------------------------------------------------

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const t0 = performance.now();
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    socket.on('error', () => socket.destroy());
    const answer = (status: number, text: string, body: string, error: string) => {
      this.logHttp(method, path, status, t0, { error });
      if (socket.writable) {
        socket.end(
          `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
            `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
      } else socket.destroy();
    };
    if (String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket' || !this.wss) {
      return answer(400, 'Bad Request', 'only WebSocket upgrades are proxied\n', 'BAD_UPGRADE');
    }
    // A handshake ws would refuse anyway is refused before the target is dialled.
    const key = String(req.headers['sec-websocket-key'] ?? '');
    if (!/^[+/0-9A-Za-z]{22}==$/.test(key) || req.headers['sec-websocket-version'] !== '13') {
      return answer(
        400,
        'Bad Request',
        'invalid WebSocket handshake (Sec-WebSocket-Key / Sec-WebSocket-Version 13)\n',
        'BAD_UPGRADE',
      );
    }
    const refused = this.faults.refuseUpgrade(path);
    if (refused !== null) {
      return answer(
        refused,
        http.STATUS_CODES[refused] ?? 'Refused',
        `refused by a WSS Studio fault (HTTP ${refused})\n`,
        'FAULT_REFUSED',
      );
    }
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const deflate = /permessage-deflate/i.test(
      String(req.headers['sec-websocket-extensions'] ?? ''),
    );
    const t = this.target;
    const targetUrl = `${t.scheme === 'https' ? 'wss' : 'ws'}://${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}${t.basePath}${path}`;
    let up: WebSocket;
    try {
      up = new WebSocket(targetUrl, offered, {
        headers: this.upgradeHeaders(req),
        perMessageDeflate: deflate,
        autoPong: false,
        maxPayload: PROXY_MAX_PAYLOAD,
        handshakeTimeout: 10_000,
        followRedirects: false,
        // ws puts the URL through the WHATWG parser, which rewrote the request target ("/a/%2e%2e/b" and
        // "/a/../b" reached the target as "/b", a backslash as a slash, "<>" as "%3C%3E"): the target gets the
        // one the client sent, byte for byte, as plain HTTP requests do. Node writes the request line on end().
        finishRequest: (r) => {
          r.path = t.basePath + path;
          r.end();
        },
        ...(t.scheme === 'https' ? this.targetTls() : {}),
      });
    } catch (err) {
      // ws throws at once for what it will not offer the target: a duplicated or invalid subprotocol, a request
      // target that makes no ws:// URL (absolute-form, "*", a fragment). Thrown out of the 'upgrade' event, one
      // such request ended the whole process (the CLI, the app's engine) and every connection in it.
      return answer(
        400,
        'Bad Request',
        `invalid WebSocket handshake: ${(err as Error).message}\n`,
        'BAD_UPGRADE',
      );
    }
    let settled = false;
    let paired = false;
    socket.once('close', () => {
      settled = true;
      // Also once the target accepted: ws may still refuse the client's handshake (an extension offer it
      // cannot parse: 400) and never pair it, and that target connection was left open for good.
      if (!paired) up.terminate();
    });
    up.on('unexpected-response', (_r, pres) => {
      if (settled) return;
      settled = true;
      const status = pres.statusCode ?? 502;
      if (status === 101) {
        // 101 without "Upgrade: websocket" (Node hands that over as a response): relayed, it told the client
        // the switch was made on a connection about to close.
        pres.resume();
        up.terminate();
        const p = explainTargetError(
          new Error('Invalid Upgrade header'),
          t,
          this.definition.target,
        );
        return answer(
          502,
          'Bad Gateway',
          `WSS Studio could not open a WebSocket to ${this.definition.target}: ${p.detail}. Fix: ${p.fix}\n`,
          p.code,
        );
      }
      // The target refused the upgrade: relay its status, headers and body (bounded) to the client.
      const chunks: Buffer[] = [];
      let size = 0;
      pres.on('data', (d: Buffer) => {
        if (size < 64 * 1024) chunks.push(d);
        size += d.length;
      });
      const finish = () => {
        const body = Buffer.concat(chunks).subarray(0, 64 * 1024);
        const lines = [`HTTP/1.1 ${status} ${pres.statusMessage ?? ''}`];
        for (const [k, v] of Object.entries(pres.headers)) {
          if (HOP.has(k) || k === 'content-length' || v === undefined) continue;
          for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
        }
        lines.push('Connection: close', `Content-Length: ${body.length}`);
        this.logHttp(method, path, status, t0, { error: 'TARGET_REFUSED_UPGRADE' });
        if (socket.writable) {
          socket.write(lines.join('\r\n') + '\r\n\r\n');
          socket.end(body);
        } else socket.destroy();
        up.terminate();
      };
      pres.on('end', finish);
      pres.on('error', finish);
    });
    up.on('error', (err: Error & { code?: string }) => {
      if (settled) return;
      settled = true;
      void explainUpgradeError(err, t, this.definition.target, path).then((p) => {
        // A target that answers HTTP but fumbled the upgrade is up (the card's health says so).
        this.onTarget(p.state === 'up' ? null : p);
        answer(
          502,
          'Bad Gateway',
          `WSS Studio could not open a WebSocket to ${this.definition.target}: ${p.detail}. Fix: ${p.fix}\n`,
          p.code,
        );
      });
    });
    up.on('open', () => {
      if (settled || socket.destroyed || !this.wss) {
        up.terminate();
        return;
      }
      settled = true;
      this.onTarget(null);
      (req as ReqWithProto).__targetProtocol = up.protocol;
      this.wss.handleUpgrade(req, socket, head, (down) => {
        paired = true;
        this.pair(req, down, up, targetUrl, t0);
      });
    });
  }

  private pair(
    req: http.IncomingMessage,
    down: WebSocket,
    up: WebSocket,
    targetUrl: string,
    t0: number,
  ): void {
    const id = this.definition.id;
    const log = this.log;
    const conn = ++connCounter;
    if (!this.server) {
      down.terminate();
      up.terminate();
      return;
    }
    const sock = req.socket as tls.TLSSocket;
    const upSock = (up as unknown as { _socket?: net.Socket })._socket;
    this.logHttp(req.method ?? 'GET', req.url ?? '/', 101, t0, { conn });
    log.add({
      type: 'open',
      serverId: id,
      conn,
      remoteAddress: sock.remoteAddress ?? '',
      remotePort: sock.remotePort ?? 0,
      url: `${this.pub.scheme === 'https' ? 'wss' : 'ws'}://${req.headers.host ?? this.publicOrigin.replace(/^\w+:\/\//, '')}${req.url ?? '/'}`,
      origin: req.headers.origin ?? null,
      userAgent: req.headers['user-agent'] ?? null,
      requestedProtocols: String(req.headers['sec-websocket-protocol'] ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      protocol: down.protocol || null,
      extensions: down.extensions,
      tls: this.tlsMaterial
        ? { version: sock.getProtocol?.() ?? null, cipher: sock.getCipher?.()?.name ?? null }
        : null,
      target: {
        url: targetUrl,
        localPort: upSock?.localPort ?? 0,
        protocol: up.protocol || null,
        extensions: up.extensions,
      },
    });

    // Flow control: a direction is paused while its lane holds too much (faults) or its receiver's
    // bufferedAmount is over the high-water mark.
    const stall = { in: { lane: false, buf: false }, out: { lane: false, buf: false } };
    const apply = (dir: 'in' | 'out') => {
      const src = dir === 'in' ? down : up;
      const s = stall[dir];
      if (src.readyState !== WebSocket.OPEN) return;
      if (s.lane || s.buf) {
        if (!src.isPaused) src.pause();
      } else if (src.isPaused) src.resume();
    };
    const send = (dir: 'in' | 'out', data: Buffer, binary: boolean) => {
      const to = dir === 'in' ? up : down;
      if (to.readyState !== WebSocket.OPEN) return;
      // The message goes out first and is logged after: the log's copy of its head is then no longer on the
      // round trip's path (ws masks a Buffer into a copy and never changes it). ws reports a failed write
      // later, never from inside send(), so the frame is still logged before anything the write causes.
      if (to.bufferedAmount + data.length <= PROXY_HIGH_WATER) {
        to.send(data, { binary });
      } else {
        // Over the mark: stop reading the other side until this message (and all before it) is flushed.
        stall[dir].buf = true;
        apply(dir);
        to.send(data, { binary }, () => {
          stall[dir].buf = false;
          apply(dir);
        });
      }
      log.addFrame(id, conn, dir, binary ? 'binary' : 'text', data);
    };
    const forward = (dir: 'in' | 'out', item: LaneItem) => {
      if (item.kind === 'close') return closeLeg(dir === 'in' ? up : down, item.code, item.reason);
      send(dir, item.data, item.binary);
    };
    const p: Pair = {
      conn,
      down,
      up,
      toTarget: this.faults.lane(
        conn,
        'in',
        (i) => forward('in', i),
        (over) => {
          stall.in.lane = over;
          apply('in');
        },
      ),
      toClient: this.faults.lane(
        conn,
        'out',
        (i) => forward('out', i),
        (over) => {
          stall.out.lane = over;
          apply('out');
        },
      ),
      downClosed: false,
      upClosed: false,
    };
    this.pairs.set(conn, p);
    this.onChange();

    // Without faults a message goes straight through (no lane item is made for it).
    down.on('message', (data: Buffer, isBinary: boolean) => {
      if (p.toTarget.passThrough) send('in', data, isBinary);
      else p.toTarget.push({ kind: 'message', data, binary: isBinary });
    });
    up.on('message', (data: Buffer, isBinary: boolean) => {
      if (p.toClient.passThrough) send('out', data, isBinary);
      else p.toClient.push({ kind: 'message', data, binary: isBinary });
    });
    // Pings and pongs are held to the same mark: a peer flooding pings towards one that does not read made
    // the proxy queue them without bound (about 1 GB in 8 s from one connection).
    const control = (dir: 'in' | 'out', kind: 'ping' | 'pong', d: Buffer) => {
      log.addFrame(id, conn, dir, kind, d);
      const to = dir === 'in' ? up : down;
      if (to.readyState !== WebSocket.OPEN) return;
      if (to.bufferedAmount + d.length <= PROXY_HIGH_WATER) return to[kind](d);
      stall[dir].buf = true;
      apply(dir);
      to[kind](d, undefined, () => {
        stall[dir].buf = false;
        apply(dir);
      });
    };
    down.on('ping', (d: Buffer) => control('in', 'ping', d));
    up.on('ping', (d: Buffer) => control('out', 'ping', d));
    down.on('pong', (d: Buffer) => control('in', 'pong', d));
    up.on('pong', (d: Buffer) => control('out', 'pong', d));
    const onError = (leg: 'client' | 'target') => (err: Error & { code?: string }) => {
      log.add({
        type: 'error',
        serverId: id,
        conn,
        code: err.code ?? 'WS_ERROR',
        message: `${leg} leg: ${err.message}`,
      });
    };
    down.on('error', onError('client'));
    up.on('error', onError('target'));

    const closeFrame = (dir: 'in' | 'out', code: number, reason: string) => {
      const has = code !== 1005 && code !== 1006;
      const r = Buffer.from(reason, 'utf8');
      log.add({
        type: 'frame',
        serverId: id,
        conn,
        dir,
        opcode: 'close',
        length: has ? 2 + r.length : 0,
        ...preview(r, 'utf8'),
        ...(has ? { closeCode: code, closeReason: reason } : {}),
      });
    };
    const finish = () => {
      if (!p.downClosed || !p.upClosed || !this.pairs.has(conn)) return;
      this.pairs.delete(conn);
      // Its close-frame logger holds the whole pair (both sockets, their buffers): let it go too.
      this.closeFrameOf.delete(conn);
      p.toTarget.dispose();
      p.toClient.dispose();
      this.onChange();
      log.add({
        type: 'close',
        serverId: id,
        conn,
        code: p.code ?? 1006,
        reason: p.reason ?? '',
        by: p.closedBy ?? 'server',
        clean: (p.code ?? 1006) !== 1006,
      });
    };
    down.on('close', (code: number, reasonBuf: Buffer) => {
      p.downClosed = true;
      const reason = reasonBuf.toString('utf8');
      if (!p.closedBy) {
        p.closedBy = 'client';
        p.code = code;
        p.reason = reason;
        if (code !== 1006) closeFrame('in', code, reason);
        // Through the lane, so a close never overtakes the messages sent before it.
        p.toTarget.push({ kind: 'close', code, reason });
      }
      if (up.readyState === WebSocket.CLOSED) p.upClosed = true;
      finish();
    });
    up.on('close', (code: number, reasonBuf: Buffer) => {
      p.upClosed = true;
      const reason = reasonBuf.toString('utf8');
      if (!p.closedBy) {
        p.closedBy = 'server';
        p.code = code;
        p.reason = reason;
        if (code !== 1006) closeFrame('out', code, reason);
        p.toClient.push({ kind: 'close', code, reason });
      }
      if (down.readyState === WebSocket.CLOSED) p.downClosed = true;
      finish();
    });
    this.closeFrameOf.set(conn, closeFrame);
  }

  private readonly closeFrameOf = new Map<
    number,
    (dir: 'in' | 'out', code: number, reason: string) => void
  >();

  /** A close chosen by the user (fault) or by stop(): both legs, the client with the chosen code. */
  private forceClose(p: Pair, code: number, reason: string, asFault: boolean): void {
    if (p.closedBy) return;
    p.closedBy = 'server';
    p.code = code;
    p.reason = reason;
    p.forced = true;
    if (asFault) {
      this.faults.note({
        fault: 'close',
        conn: p.conn,
        message: `closed by the user with ${code} ${JSON.stringify(reason)} (both legs)`,
      });
    }
    this.closeFrameOf.get(p.conn)?.('out', code, reason);
    closeLeg(p.down, code, reason);
    closeLeg(p.up, sendableCloseCode(code) ? code : 1001, reason);
    this.closeFrameOf.delete(p.conn);
  }

  private pairOf(conn: number, action: string): Pair {
    const p = this.pairs.get(conn);
    if (!p) {
      throw connNotFound(action, `proxy ${q(this.definition.id)}`, conn, [...this.pairs.keys()]);
    }
    return p;
  }
}

type ReqWithProto = http.IncomingMessage & { __targetProtocol?: string };
/** A request on the public side: HTTP/1.1, or HTTP/2 on the https:// side. */

/** Close one leg the way the other leg was closed: the same code and reason, none, or a dropped TCP. */
function closeLeg(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState === WebSocket.CLOSED || ws.readyState === WebSocket.CLOSING) return;
  if (code === 1006) return ws.terminate();
  if (code === 1005 || !sendableCloseCode(code)) return ws.close();
  // A reason is at most 123 bytes on the wire.
  let r = reason;
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
  ws.close(code, r);
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page a browser shows when the target cannot be reached: what was tried, what failed, the fix. */
export function errorPage(url: string, target: string, detail: string, fix: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>WSS Studio: target not reachable</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;color:#222}
code{background:#f2f2f2;padding:0 .25rem;border-radius:3px}h1{font-size:1.3rem}.fix{background:#eef6ff;padding:.75rem 1rem;border-radius:6px}</style>
</head><body><h1>WSS Studio could not reach your server</h1>
<p>The proxy for <code>${esc(url)}</code> forwards to the target <code>${esc(target)}</code>, and ${esc(detail)}.</p>
<p class="fix"><strong>Fix:</strong> ${esc(fix)}. Then reload this page.</p>
<p><small>502 Bad Gateway from the WSS Studio proxy.</small></p></body></html>
`;
}

export function proxyFailure(id: string, cause: string, hint?: string) {
  return failure('PROXY_FAILED', `start proxy ${q(id)}`, cause, hint);
}
