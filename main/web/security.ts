// Web mode's request checks, as pure functions so each rule is tested on its own and in the live server.
//   1. Host is the bound address or a loopback name on our port (DNS rebinding: a page on evil.example
//      whose name re-resolves to 127.0.0.1 still sends "Host: evil.example:PORT"). Every request.
//   2. Origin is our own origin. On plain HTTP only when present (a typed URL sends none); on the /rpc
//      handshake always: browsers always send it there, so a handshake without one is not our page.
//   3. The per-run token, on /rpc only, from its query (?token=). There is no cookie: cookies are not
//      isolated by port, so one would ride along to every other server on 127.0.0.1 the browser visits.
//      The page's files are the public UI build and hold no secret; the engine is reachable only over /rpc.
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** "host:port" forms a browser may send for our server. */
export function allowedHosts(bindHost: string, port: number): Set<string> {
  const out = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  const h = bindHost.toLowerCase();
  if (h !== '0.0.0.0' && h !== '::') out.add(`${isIP(h) === 6 ? `[${h}]` : h}:${port}`);
  return out;
}

export function sameToken(given: string | undefined | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export type Verdict = { ok: true } | { ok: false; status: 400 | 401 | 403 | 421; reason: string };

type Req = { url?: string; headers: IncomingHttpHeaders };
const quote = (s: unknown) => JSON.stringify(String(s).slice(0, 200));

/** Host, then Origin when present: every HTTP request. The reason is safe to send back. */
export function checkHttp(req: Req, opts: { hosts: Set<string> }): Verdict {
  const host = (req.headers.host ?? '').toLowerCase();
  if (!opts.hosts.has(host)) {
    return {
      ok: false,
      status: 421,
      reason: `Host ${quote(host)} is not this server (open the URL wss-studio printed)`,
    };
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}`) {
    return {
      ok: false,
      status: 403,
      reason: `Origin ${quote(origin)} is not this server's origin`,
    };
  }
  return { ok: true };
}

/** The /rpc handshake: Host, a present and matching Origin, and the token in the query. */
export function checkRpc(req: Req, opts: { hosts: Set<string>; token: string }): Verdict {
  const http = checkHttp(req, opts);
  if (!http.ok) return http;
  if (req.headers.origin === undefined) {
    return {
      ok: false,
      status: 403,
      reason: `no Origin header (send "Origin: http://${req.headers.host}" as browsers do)`,
    };
  }
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://x');
  } catch {
    return { ok: false, status: 400, reason: 'bad request URL' };
  }
  const q = url.searchParams.get('token');
  if (sameToken(q, opts.token)) return { ok: true };
  return {
    ok: false,
    status: 401,
    reason: q
      ? 'wrong token'
      : 'missing token (open the URL with ?token=... that wss-studio printed)',
  };
}

/**
 * The page's Content-Security-Policy. Scripts only from our own files (no inline, no eval, nothing
 * remote). connect-src allows ws:/wss: because the built-in WebSocket client connects to any URL the user
 * types; that grants network reach, never script execution. style-src allows inline styles because Svelte
 * sets style attributes; styles cannot run code.
 */
export function contentSecurityPolicy(): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self' ws: wss:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
