// Web mode's request checks, as pure functions so each rule is tested on its own and in the live server.
// Every HTTP request and every WebSocket upgrade passes all three:
//   1. Host is the bound address or a loopback name on our port (DNS rebinding: a page on evil.example
//      whose name re-resolves to 127.0.0.1 still sends "Host: evil.example:PORT").
//   2. Origin, when present, is our own origin (cross-site requests and WebSocket hijacking). Browsers always
//      send Origin on a WebSocket handshake; non-browser clients (scripts, wscat) may omit it.
//   3. The per-run token, from the query (?token=) or the HttpOnly SameSite=Strict cookie set when the page
//      was opened with the right token.
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

export function cookieName(port: number): string {
  return `wss_studio_${port}`;
}

export function sameToken(given: string | undefined | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieToken(headers: IncomingHttpHeaders, port: number): string | undefined {
  const raw = headers.cookie;
  if (!raw) return undefined;
  const name = cookieName(port);
  for (const part of raw.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export type Verdict =
  { ok: true; fromQuery: boolean } | { ok: false; status: 400 | 401 | 403 | 421; reason: string };

/** The three checks in order; the reason is safe to send back (it never contains the token). */
export function checkRequest(
  req: { url?: string; headers: IncomingHttpHeaders },
  opts: { hosts: Set<string>; token: string; port: number },
): Verdict {
  const host = (req.headers.host ?? '').toLowerCase();
  if (!opts.hosts.has(host)) {
    return {
      ok: false,
      status: 421,
      reason: `Host ${JSON.stringify(host.slice(0, 200))} is not this server (open the URL wss-studio printed)`,
    };
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}`) {
    return {
      ok: false,
      status: 403,
      reason: `Origin ${JSON.stringify(String(origin).slice(0, 200))} is not this server's origin`,
    };
  }
  let url: URL;
  try {
    url = new URL(req.url ?? '/', `http://${host}`);
  } catch {
    return { ok: false, status: 400, reason: 'bad request URL' };
  }
  const q = url.searchParams.get('token');
  if (sameToken(q, opts.token)) return { ok: true, fromQuery: true };
  if (sameToken(cookieToken(req.headers, opts.port), opts.token))
    return { ok: true, fromQuery: false };
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
