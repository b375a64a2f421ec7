// The developer's server as the proxy sees it: a probe that tells "up" from "refused", "speaks TLS although
// http:// was given" and the reverse, and one place that turns a failed request to the target into words and
// a fix (used by the probe, the error page and the health shown on the card).
import dns from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';
import { q } from '../../shared/errors';
import type { TargetHealth, TargetHealthState } from './types';
import type { TargetSide } from './validation';

const PROBE_MS = 3_000;
/** How long a target host name's addresses are reused for new connections to it. */
export const LOOKUP_TTL_MS = 5_000;

type Lookup = (
  host: string,
  opts: dns.LookupAllOptions,
  cb: (err: NodeJS.ErrnoException | null, addrs: dns.LookupAddress[]) => void,
) => void;

/**
 * dns.lookup for the connections to a target (e.g. localhost): answers are kept for `ttlMs` and
 * concurrent asks for one name share one lookup, since a page load over HTTP/2 opens many target
 * connections at once. Every address is kept (localhost: 127.0.0.1 and ::1, in the resolver's order), so
 * Node still tries each family in turn; failures are not kept, so a name fixed in /etc/hosts works at once.
 */
export function cachedLookup(
  ttlMs = LOOKUP_TTL_MS,
  lookup: Lookup = dns.lookup as Lookup,
): net.LookupFunction {
  const cache = new Map<string, { until: number; addrs: dns.LookupAddress[] }>();
  const pending = new Map<
    string,
    ((err: NodeJS.ErrnoException | null, addrs: dns.LookupAddress[]) => void)[]
  >();
  return (host, options, callback) => {
    const reply = (err: NodeJS.ErrnoException | null, addrs: dns.LookupAddress[]) => {
      if (err) return callback(err, options.all ? [] : '');
      if (options.all) return callback(null, addrs);
      const first = addrs[0];
      if (!first)
        return callback(
          Object.assign(new Error(`no address for ${q(host)}`), { code: 'ENOTFOUND' }),
          '',
        );
      callback(null, first.address, first.family);
    };
    const key = `${options.family ?? 0}/${options.hints ?? 0}/${host}`;
    const hit = cache.get(key);
    if (hit && hit.until > Date.now()) return process.nextTick(reply, null, hit.addrs);
    const waiting = pending.get(key);
    if (waiting) return void waiting.push(reply);
    pending.set(key, [reply]);
    lookup(
      host,
      { family: options.family ?? 0, hints: options.hints ?? 0, all: true },
      (err, addrs) => {
        const all = pending.get(key) ?? [];
        pending.delete(key);
        if (!err) cache.set(key, { until: Date.now() + ttlMs, addrs });
        for (const cb of all) cb(err, addrs);
      },
    );
  };
}

export interface TargetProblem {
  state: TargetHealthState;
  code: string;
  detail: string;
  fix: string;
}

const where = (t: TargetSide) => `${t.host}:${t.port}`;

/** ws's messages for a 101 answer it refuses (they carry no code), with the fix for each. */
const WS_HANDSHAKE: [RegExp, string][] = [
  [
    /^(Invalid|Missing) (Upgrade|Sec-WebSocket-Accept) header$/,
    'make your server answer the upgrade with "Upgrade: websocket" and the Sec-WebSocket-Accept computed from the request\'s key (use a WebSocket library; a middleware may be rewriting the answer)',
  ],
  [
    /^Server sent (a subprotocol but none was requested|an invalid subprotocol|no subprotocol)$/,
    'make your server choose one of the subprotocols the client offered (Sec-WebSocket-Protocol), and none when none was offered',
  ],
  [
    /Sec-WebSocket-Extensions|extension that was not requested/,
    'make your server accept only the extensions the client offered (Sec-WebSocket-Extensions: permessage-deflate and its parameters)',
  ],
];

/** Words and a fix for an error from a request or connection to the target. */
export function explainTargetError(
  err: Error & { code?: string },
  t: TargetSide,
  url: string,
): TargetProblem {
  const code = err.code ?? '';
  const m = err.message ?? String(err);
  if (code === 'ECONNREFUSED') {
    return {
      state: 'refused',
      code: 'TARGET_REFUSED',
      detail: `nothing is listening on ${where(t)} (connection refused)`,
      fix: `start your server so it listens on ${where(t)} (e.g. "npm run dev"), or change the target ${JSON.stringify(url)} to where it listens`,
    };
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return {
      state: 'unreachable',
      code: 'TARGET_NOT_FOUND',
      detail: `the target host ${JSON.stringify(t.host)} does not resolve`,
      fix: 'use localhost or 127.0.0.1 for a server on this machine',
    };
  }
  if (
    /wrong version number|packet length too long|unknown protocol|EPROTO/i.test(`${code} ${m}`) &&
    t.scheme === 'https'
  ) {
    return {
      state: 'speaks-plain',
      code: 'TARGET_SPEAKS_PLAIN',
      detail: `the target ${where(t)} answered in plain HTTP, not TLS`,
      fix: `change the target to ${JSON.stringify(url.replace(/^(https|wss):/, (s) => (s === 'https:' ? 'http:' : 'ws:')))}`,
    };
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/i.test(code)) {
    return {
      state: 'cert-untrusted',
      code: 'TARGET_CERT_UNTRUSTED',
      detail: `the target's certificate is not trusted: ${m}`,
      fix: 'give the target a certificate from WSS Studio, or turn off target verification (targetVerify false, "--insecure-target")',
    };
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return {
      state: 'unreachable',
      code: 'TARGET_RESET',
      detail: `the target ${where(t)} closed the connection without answering (it may be restarting or have crashed)`,
      fix:
        t.scheme === 'http'
          ? `check your server's output; if it speaks TLS, use ${JSON.stringify(url.replace(/^http:/, 'https:').replace(/^ws:/, 'wss:'))}`
          : "check your server's output",
    };
  }
  if (code.startsWith('HPE_')) {
    // Node's HTTP parser refused the answer; rawPacket is the chunk it was reading.
    const raw = (err as { rawPacket?: unknown }).rawPacket;
    const head = Buffer.isBuffer(raw) ? raw.subarray(0, 32) : Buffer.alloc(0);
    // A TLS record (alert 0x15, handshake 0x16, version 3.x): a TLS server answering a plain request.
    if (
      t.scheme === 'http' &&
      head.length >= 2 &&
      (head[0] === 0x15 || head[0] === 0x16) &&
      head[1] === 3
    ) {
      return speaksTlsProblem(t, url);
    }
    const reason = (err as { reason?: unknown }).reason;
    const why = typeof reason === 'string' && reason ? reason : m.replace(/^Parse Error:\s*/, '');
    if (code === 'HPE_INVALID_CONSTANT') {
      return {
        state: 'unreachable',
        code: 'TARGET_NOT_HTTP',
        detail: `the target ${where(t)} answered something that is not HTTP (it began with ${JSON.stringify(head.toString('latin1').slice(0, 16))})`,
        fix: 'check that this port is your web server (not a database or another protocol)',
      };
    }
    return {
      state: 'unreachable',
      code: 'TARGET_BAD_RESPONSE',
      detail: `the target ${where(t)} answered with invalid HTTP (${why})`,
      fix: 'check the status line and headers your server sends (each header a name, a colon and a value; one Content-Length)',
    };
  }
  const handshake = WS_HANDSHAKE.find(([re]) => re.test(m));
  if (handshake && !code) {
    return {
      state: 'up',
      code: 'TARGET_BAD_HANDSHAKE',
      detail: `the target ${where(t)} accepted the WebSocket upgrade with an invalid handshake (${m})`,
      fix: handshake[1],
    };
  }
  if (
    code === 'ETIMEDOUT' ||
    code === 'TARGET_TIMEOUT' ||
    /^Opening handshake has timed out$/.test(m)
  ) {
    return {
      state: 'unreachable',
      code: 'TARGET_TIMEOUT',
      detail: `the target ${where(t)} did not answer in time`,
      fix: 'check that your server is not stuck (a breakpoint, a busy loop) and answers on that port',
    };
  }
  return {
    state: 'unreachable',
    code: 'TARGET_FAILED',
    detail: `the request to ${where(t)} failed: ${code ? `${code}: ` : ''}${m}`,
    fix:
      t.scheme === 'http'
        ? `if your server speaks TLS, use ${JSON.stringify(url.replace(/^http:/, 'https:').replace(/^ws:/, 'wss:'))}`
        : 'check your server',
  };
}

/**
 * explainTargetError() for a failed WebSocket upgrade. A plain target that hung up on the upgrade request is
 * either a TLS server or one with no WebSocket endpoint at that path (it answers plain requests): one plain
 * request, then a TLS handshake, tell which; the reset stays as it is when neither does.
 */
export async function explainUpgradeError(
  err: Error & { code?: string },
  t: TargetSide,
  url: string,
  path: string,
): Promise<TargetProblem> {
  const p = explainTargetError(err, t, url);
  if (p.code !== 'TARGET_RESET' || t.scheme !== 'http') return p;
  const first = await plainProbe(t).catch(() => '');
  if (first.startsWith('HTTP/')) {
    return {
      state: 'up',
      code: 'TARGET_UPGRADE_CLOSED',
      detail: `the target ${where(t)} answers HTTP, but closed the connection when asked to upgrade ${JSON.stringify(path.slice(0, 200))} to WebSocket`,
      fix: 'check that your server accepts WebSocket upgrades on this path (the path its WebSocket server listens on, or its "upgrade" handler) and its output for an error',
    };
  }
  if (await tlsHandshakes(t)) return speaksTlsProblem(t, url);
  return p;
}

function speaksTlsProblem(t: TargetSide, url: string): TargetProblem {
  return {
    state: 'speaks-tls',
    code: 'TARGET_SPEAKS_TLS',
    detail: `the target ${where(t)} speaks TLS (https), but the target was given as ${JSON.stringify(url)}`,
    fix: `change the target to ${JSON.stringify(url.replace(/^http:/, 'https:').replace(/^ws:/, 'wss:'))}`,
  };
}

/** Probe the target once: TCP, then either a TLS handshake (https) or a plain HTTP request line (http). */
export async function probeTarget(
  t: TargetSide,
  url: string,
  opts: { verify?: boolean; ca?: string } = {},
): Promise<TargetHealth & { problem?: TargetProblem }> {
  const at = () => new Date().toISOString();
  const fail = (p: TargetProblem) => ({
    state: p.state,
    detail: p.detail,
    fix: p.fix,
    checkedAt: at(),
    problem: p,
  });
  try {
    if (t.scheme === 'http') {
      const first = await plainProbe(t);
      if (first.startsWith('HTTP/'))
        return { state: 'up', detail: `answers HTTP on ${where(t)}`, checkedAt: at() };
      // No HTTP answer: a TLS server either sends an alert (0x15) or hangs up. Confirm with a handshake.
      if (await tlsHandshakes(t)) return fail(speaksTlsProblem(t, url));
      return fail({
        state: 'unreachable',
        code: 'TARGET_NOT_HTTP',
        detail: `the target ${where(t)} accepted a connection but did not answer HTTP`,
        fix: 'check that this port is your web server (not a database or another protocol)',
      });
    }
    const r = await tlsProbe(t, opts);
    if (r.authorized || opts.verify === false) {
      return {
        state: 'up',
        detail: `answers TLS on ${where(t)}${r.authorized ? '' : ' (certificate not verified)'}`,
        checkedAt: at(),
      };
    }
    return fail(explainTargetError(Object.assign(new Error(r.reason), { code: r.code }), t, url));
  } catch (e) {
    return fail(explainTargetError(e as Error & { code?: string }, t, url));
  }
}

function plainProbe(t: TargetSide): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: t.host, port: t.port });
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => {
      s.destroy();
      resolve(got.toString('latin1'));
    }, PROBE_MS);
    s.on('connect', () =>
      s.write(`HEAD / HTTP/1.1\r\nHost: ${t.host}:${t.port}\r\nConnection: close\r\n\r\n`),
    );
    s.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 5) {
        clearTimeout(timer);
        s.destroy();
        resolve(got.toString('latin1'));
      }
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ECONNRESET') return resolve(got.toString('latin1'));
      reject(e);
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(got.toString('latin1'));
    });
  });
}

function tlsHandshakes(t: TargetSide): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tls.connect({
      host: t.host,
      port: t.port,
      rejectUnauthorized: false,
      servername: net.isIP(t.host) ? undefined : t.host,
    });
    const timer = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, PROBE_MS);
    s.on('secureConnect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve(true);
    });
    s.on('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

function tlsProbe(
  t: TargetSide,
  opts: { ca?: string },
): Promise<{ authorized: boolean; reason: string; code: string }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({
      host: t.host,
      port: t.port,
      rejectUnauthorized: false,
      ...(net.isIP(t.host) ? {} : { servername: t.host }),
      ...(opts.ca ? { ca: [...tls.rootCertificates, opts.ca] } : {}),
    });
    const timer = setTimeout(() => {
      s.destroy();
      reject(Object.assign(new Error('no TLS answer'), { code: 'TARGET_TIMEOUT' }));
    }, PROBE_MS);
    s.on('secureConnect', () => {
      clearTimeout(timer);
      let authorized = s.authorized;
      let reason = s.authorizationError ? String(s.authorizationError) : '';
      let code = reason;
      if (authorized) {
        const err = tls.checkServerIdentity(t.host, s.getPeerCertificate());
        if (err) {
          authorized = false;
          reason = err.message;
          code = 'ERR_TLS_CERT_ALTNAME_INVALID';
        }
      }
      s.destroy();
      resolve({ authorized, reason, code });
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
