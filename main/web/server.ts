// Web mode: the built renderer (dist/renderer) over HTTP on 127.0.0.1 and the API contract over one
// WebSocket at /rpc on the same port. Host/Origin checks run for every HTTP request; the token, Host and a
// matching Origin are checked in the `upgrade` handler before the WebSocket exists (ws with noServer: true),
// see ./security.ts. Every frame passes ./rpc.ts's shape check; what one client may have queued is bounded.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { StreamName } from '../../shared/api';
import { failure, inputError, q } from '../../shared/errors';
import type { CallContext, Reply, WebAllow } from '../engine/dispatch';
import { serveRpcClient } from './rpc-client';
import {
  allowedHosts,
  checkHttp,
  checkRpc,
  contentSecurityPolicy,
  isLoopbackHost,
} from './security';

/** What the web server needs from the engine: the same two calls the Electron binding uses. */
export interface ApiHost {
  call(name: unknown, input: unknown, ctx: CallContext): Promise<Reply>;
  subscribe(stream: StreamName, cb: (data: unknown) => void): () => void;
}

export interface WebServerOptions {
  api: ApiHost;
  /** Folder with index.html (dist/renderer). When missing, pages explain how to build it. */
  rendererDir: string;
  host?: string;
  port?: number;
  /** Fixed token for tests; default 32 random bytes, base64url. */
  token?: string;
  /** Required to bind anything but loopback (`--host`). */
  allowNonLoopback?: boolean;
  /** Operations the page may run that widen what a leaked token could do (`wss-studio ui --allow-*`). */
  allow?: WebAllow;
  /** Where dropped clients and handler failures are reported (default: stderr). */
  log?: (line: string) => void;
  /** Bounds for tests; defaults below. */
  limits?: Partial<typeof WEB_LIMITS>;
}

export interface WebServer {
  host: string;
  port: number;
  origin: string;
  token: string;
  /** http://127.0.0.1:PORT/?token=... */
  url: string;
  /** Open RPC connections. */
  connections(): number;
  close(): Promise<void>;
}

/** Biggest RPC message: above the 10 MB a user might paste, so the schema (not the socket) rejects it. */
export const RPC_MAX_PAYLOAD = 32 * 1024 * 1024;

export const WEB_LIMITS = {
  /** Open /rpc sockets (the UI uses one per tab). */
  rpcConnections: 16,
  /**
   * Unsent bytes one RPC client may have queued. A full frame log (10,000 events with 4 KB previews) is
   * about 45 MB of JSON, so one snapshot fits; a client that does not read its replies is dropped at the
   * next one instead of growing the process by that much per call.
   */
  rpcQueuedBytes: 64 * 1024 * 1024,
  /** Calls of one client running at once; more get a BUSY error reply. */
  rpcInFlight: 32,
  /** TCP connections to the UI server at once (pages, assets, RPC); more are refused by the kernel. */
  connections: 64,
  /** Time to send complete request headers, and a whole request (slow-loris bound). */
  headersMs: 10_000,
  requestMs: 30_000,
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

export function buildHint(rendererDir: string): string {
  const root = path.resolve(rendererDir, '..', '..');
  return `run "node scripts/build.mjs" (or "npm run build") in ${root} to create ${rendererDir}`;
}

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopbackHost(host) && !opts.allowNonLoopback) {
    throw inputError('NON_LOOPBACK', 'start web mode', `${q(host)} is not a loopback address`, {
      field: '--host',
      hint: 'web mode binds 127.0.0.1; pass "--host ADDR" explicitly to expose it to your network',
    });
  }
  const token = opts.token ?? randomBytes(32).toString('base64url');
  const limits = { ...WEB_LIMITS, ...opts.limits };
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const ctx: CallContext = { shell: 'web', allow: { ...opts.allow } };
  let hosts = new Set<string>();
  const csp = contentSecurityPolicy();

  const baseHeaders = (): Record<string, string> => ({
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    // The token is in the page URL until the page removes it: never leak it through Referer.
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  });

  const refuse = (res: ServerResponse, status: number, reason: string) => {
    res.writeHead(status, { ...baseHeaders(), 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`wss-studio: refused: ${reason}\n`);
  };

  // Node checks header and request time every connectionsCheckingInterval (default 30 s, far too coarse).
  const server = createServer(
    {
      headersTimeout: limits.headersMs,
      requestTimeout: limits.requestMs,
      connectionsCheckingInterval: Math.min(1000, limits.headersMs),
    },
    (req, res) => {
      const v = checkHttp(req, { hosts });
      if (!v.ok) return refuse(res, v.status, v.reason);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('Allow', 'GET, HEAD');
        return refuse(res, 405, `method ${req.method} not allowed`);
      }
      serveStatic(req, res);
    },
  );
  server.maxConnections = limits.connections;
  // An idle keep-alive socket between requests gives its slot back quickly.
  server.keepAliveTimeout = 5_000;

  const serveStatic = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      return refuse(res, 400, 'bad path');
    }
    if (rel.includes('\0')) return refuse(res, 400, 'bad path');
    if (rel === '/' || rel === '') rel = '/index.html';
    const root = path.resolve(opts.rendererDir);
    const file = path.resolve(root, '.' + rel);
    if (file !== root && !file.startsWith(root + path.sep))
      return refuse(res, 403, 'path outside the app');
    if (!existsSync(path.join(root, 'index.html'))) {
      res.writeHead(503, { ...baseHeaders(), 'Content-Type': 'text/plain; charset=utf-8' });
      return res.end(
        `wss-studio: the UI is not built: ${root} has no index.html\nhint: ${buildHint(root)}\n`,
      );
    }
    let st;
    try {
      st = statSync(file);
    } catch {
      st = undefined;
    }
    if (!st || !st.isFile()) return refuse(res, 404, 'not found');
    const ext = path.extname(file).toLowerCase();
    const headers: Record<string, string> = {
      ...baseHeaders(),
      'Content-Type': TYPES[ext] ?? 'application/octet-stream',
      'Content-Length': String(st.size),
      'Cache-Control': ext === '.html' ? 'no-store' : 'private, max-age=3600',
    };
    res.writeHead(200, headers);
    if (req.method === 'HEAD') return res.end();
    res.end(readFileSync(file));
  };

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: RPC_MAX_PAYLOAD,
    perMessageDeflate: false,
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = (req.url ?? '').split('?')[0];
    const v =
      pathname === '/rpc'
        ? checkRpc(req, { hosts, token })
        : ({ ok: false, status: 403, reason: 'no WebSocket here (use /rpc)' } as const);
    if (!v.ok) return rejectUpgrade(socket, v.status, v.reason);
    if (wss.clients.size >= limits.rpcConnections) {
      return rejectUpgrade(socket, 503, 'too many connections');
    }
    wss.handleUpgrade(req, socket, head, (ws) =>
      serveRpcClient(ws, `127.0.0.1:${req.socket.remotePort ?? 0}`, {
        api: opts.api,
        ctx,
        limits,
        log,
      }),
    );
  });

  await new Promise<void>((resolve, reject) => {
    const onErr = (e: NodeJS.ErrnoException) => {
      server.off('listening', onOk);
      reject(
        e.code === 'EADDRINUSE'
          ? inputError('PORT_IN_USE', 'start web mode', `port ${opts.port} is already in use`, {
              field: '--port',
              value: opts.port,
              hint: 'pick another port with "--port N", or "--port 0" for a free one',
            })
          : e.code === 'EACCES'
            ? inputError(
                'PORT_PRIVILEGED',
                'start web mode',
                `port ${opts.port} needs privileges`,
                {
                  field: '--port',
                  hint: 'use a port above 1023',
                },
              )
            : failure('LISTEN_FAILED', 'start web mode', `${e.code ?? ''} ${e.message}`.trim()),
      );
    };
    const onOk = () => {
      server.off('error', onErr);
      resolve();
    };
    server.once('error', onErr);
    server.once('listening', onOk);
    server.listen(opts.port ?? 0, host);
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  hosts = allowedHosts(host, port);
  const urlHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const origin = `http://${urlHost}:${port}`;

  return {
    host,
    port,
    origin,
    token,
    url: `${origin}/?token=${token}`,
    connections: () => wss.clients.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

function rejectUpgrade(socket: Duplex, status: number, reason: string) {
  const text = `wss-studio: refused: ${reason}\n`;
  const phrase: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    421: 'Misdirected Request',
    503: 'Service Unavailable',
  };
  socket.end(
    `HTTP/1.1 ${status} ${phrase[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}
