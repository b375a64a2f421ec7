// Web mode: the built renderer (dist/renderer) over HTTP on 127.0.0.1 and the API contract over one
// WebSocket at /rpc on the same port. Security checks (Host, Origin, token) run for every HTTP request and
// in the `upgrade` handler before the WebSocket exists (ws with noServer: true), see ./security.ts.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import { isStreamName, type StreamName } from '../../shared/api';
import type { RpcClientMessage, RpcServerMessage } from '../../shared/client';
import { failure, inputError } from '../../shared/errors';
import type { CallContext, Reply } from '../engine/dispatch';
import {
  allowedHosts,
  checkRequest,
  contentSecurityPolicy,
  cookieName,
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
/** Frame-log pushes are skipped (and counted as missed) while a slow page has this much unsent. */
const MAX_BUFFERED = 4 * 1024 * 1024;
const MAX_RPC_CONNECTIONS = 16;

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
    throw inputError(
      'NON_LOOPBACK',
      'start web mode',
      `${JSON.stringify(host)} is not a loopback address`,
      {
        field: '--host',
        hint: 'web mode binds 127.0.0.1; pass "--host ADDR" explicitly to expose it to your network',
      },
    );
  }
  const token = opts.token ?? randomBytes(32).toString('base64url');
  let hosts = new Set<string>();
  let port = 0;
  const csp = contentSecurityPolicy();

  const baseHeaders = (): Record<string, string> => ({
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    // The token is in the page URL: never leak it through Referer.
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  });

  const refuse = (res: ServerResponse, status: number, reason: string) => {
    res.writeHead(status, { ...baseHeaders(), 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`wss-studio: refused: ${reason}\n`);
  };

  const server = createServer((req, res) => {
    const v = checkRequest(req, { hosts, token, port });
    if (!v.ok) return refuse(res, v.status, v.reason);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return refuse(res, 405, `method ${req.method} not allowed`);
    }
    serveStatic(req, res, v.fromQuery);
  });

  const serveStatic = (req: IncomingMessage, res: ServerResponse, setCookie: boolean) => {
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
    if (setCookie) {
      headers['Set-Cookie'] = `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    }
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
        ? checkRequest(req, { hosts, token, port })
        : ({ ok: false, status: 403, reason: 'no WebSocket here (use /rpc)' } as const);
    if (v.ok && wss.clients.size >= MAX_RPC_CONNECTIONS) {
      return rejectUpgrade(socket, 503, 'too many connections');
    }
    if (!v.ok) return rejectUpgrade(socket, v.status, v.reason);
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws));
  });

  const onConnection = (ws: WebSocket) => {
    const subs = new Map<StreamName, () => void>();
    let missed = 0;
    const send = (m: RpcServerMessage) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
    };
    ws.on('message', (raw, isBinary) => {
      let m: RpcClientMessage;
      try {
        if (isBinary) throw new Error('binary');
        m = JSON.parse(raw.toString()) as RpcClientMessage;
        if (!m || typeof m !== 'object') throw new Error('not an object');
      } catch {
        ws.close(1003, 'expected JSON text messages');
        return;
      }
      if (m.t === 'call') {
        const id = typeof m.id === 'number' ? m.id : -1;
        void opts.api
          .call(m.name, m.input, { shell: 'web' })
          .then((r) => send({ t: 'result', id, ...r }));
      } else if ((m.t === 'sub' || m.t === 'unsub') && isStreamName(m.stream)) {
        const stream = m.stream;
        if (m.t === 'sub' && !subs.has(stream)) {
          subs.set(
            stream,
            opts.api.subscribe(stream, (data) => {
              if (stream === 'log.batch') {
                if (ws.bufferedAmount > MAX_BUFFERED) {
                  missed += (data as { events: unknown[] }).events.length;
                  return;
                }
                if (missed) {
                  const d = data as { missed: number };
                  data = { ...d, missed: d.missed + missed };
                  missed = 0;
                }
              }
              send({ t: 'event', stream, data });
            }),
          );
        } else if (m.t === 'unsub') {
          subs.get(stream)?.();
          subs.delete(stream);
        }
      }
    });
    ws.on('close', () => {
      for (const off of subs.values()) off();
      subs.clear();
    });
    ws.on('error', () => {});
  };

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
  port = typeof addr === 'object' && addr ? addr.port : 0;
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
