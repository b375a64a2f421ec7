// Step 5: the WebSocket opening handshake (RFC 6455 section 4), written out by hand so the doctor sees what
// a client library would hide: the exact status, every header, the Sec-WebSocket-Accept value.
// Certificate problems are reported by step 4; here TLS runs with rejectUnauthorized: false so the upgrade
// is still checked on a server whose certificate needs fixing.
import { createHash, randomBytes } from 'node:crypto';
import { Socket } from 'node:net';
import tls from 'node:tls';
import type { DoctorCode } from './codes';
import { settleOnce } from './net';
import { PROBE_TLS_OPTIONS, sniName } from './tls';
import type { DoctorTarget, UpgradeFacts } from './types';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_HEAD = 16 * 1024;

export function expectedAccept(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

export type RawResponse =
  | {
      kind: 'response';
      status: number;
      statusText: string;
      headers: Record<string, string>;
      body: string;
    }
  | { kind: 'closed'; errno: string | null }
  | { kind: 'not-http'; preview: string }
  | { kind: 'timeout' };

export interface UpgradeRequest {
  target: DoctorTarget;
  address: string;
  tls: boolean;
  key: string;
  origin?: string;
  protocols?: string[];
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Send the upgrade request and read the response head (and a bit of body for error statuses). */
export function sendUpgrade(req: UpgradeRequest): Promise<RawResponse> {
  const { target } = req;
  const hostHeader =
    (target.host.includes(':') ? `[${target.host}]` : target.host) + portSuffix(target);
  const lines = [
    `GET ${target.path} HTTP/1.1`,
    `Host: ${hostHeader}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${req.key}`,
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits',
    'User-Agent: wss-studio-doctor',
  ];
  if (req.origin) lines.push(`Origin: ${req.origin}`);
  if (req.protocols?.length) lines.push(`Sec-WebSocket-Protocol: ${req.protocols.join(', ')}`);
  const request = lines.join('\r\n') + '\r\n\r\n';

  return new Promise((resolve, reject) => {
    const servername = sniName(target.host);
    const socket: Socket = req.tls
      ? tls.connect({
          host: req.address,
          port: target.port,
          ...(servername ? { servername } : {}),
          rejectUnauthorized: false,
          ALPNProtocols: ['http/1.1'],
          ...PROBE_TLS_OPTIONS,
        })
      : new Socket().connect({ host: req.address, port: target.port });
    let buf = Buffer.alloc(0);
    let errno: string | null = null;
    let head: Extract<RawResponse, { kind: 'response' }> | undefined;
    let bodyStart = 0;
    const settle = settleOnce<RawResponse>(
      socket,
      req.timeoutMs,
      req.signal,
      resolve,
      reject,
      () => finish() ?? { kind: 'timeout' },
      () => {
        if (head?.status === 101) {
          // Leave politely: a masked close frame, code 1000, so the server logs a clean close.
          socket.end(Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]));
          setTimeout(() => socket.destroy(), 200).unref();
        } else {
          socket.destroy();
        }
      },
    );
    if (!settle) return;

    const finish = (): RawResponse | undefined => {
      if (head) {
        return { ...head, body: buf.subarray(bodyStart, bodyStart + 2048).toString('utf8') };
      }
      if (buf.length > 0 && !'HTTP/'.startsWith(buf.subarray(0, 5).toString('latin1'))) {
        return { kind: 'not-http', preview: printable(buf) };
      }
      return undefined;
    };

    socket.on(req.tls ? 'secureConnect' : 'connect', () => socket.write(request));
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!head) {
        if (buf.length >= 5 && buf.subarray(0, 5).toString('latin1') !== 'HTTP/') {
          return settle({ kind: 'not-http', preview: printable(buf) });
        }
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) {
          if (buf.length > MAX_HEAD) settle({ kind: 'not-http', preview: printable(buf) });
          return;
        }
        head = parseHead(buf.subarray(0, end).toString('latin1'));
        bodyStart = end + 4;
        if (head.status === 101) return settle(finish() as RawResponse);
        // A refusal may keep the connection open (keep-alive): take the body when it is complete, or
        // whatever came within a short grace period, instead of waiting for the step's timeout.
        setTimeout(() => settle(finish() as RawResponse), 300).unref();
      }
      const length = Number(head.headers['content-length'] ?? NaN);
      const body = buf.length - bodyStart;
      if (body >= 2048 || body >= length) settle(finish() as RawResponse);
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      errno = e.code ?? e.message;
    });
    socket.on('close', () => settle(finish() ?? { kind: 'closed', errno }));
  });
}

function portSuffix(t: DoctorTarget): string {
  return t.port === (t.scheme === 'wss' ? 443 : 80) ? '' : `:${t.port}`;
}

function parseHead(text: string): Extract<RawResponse, { kind: 'response' }> {
  const [statusLine = '', ...rest] = text.split('\r\n');
  const m = /^HTTP\/\d(?:\.\d)?\s+(\d{3})\s*(.*)$/.exec(statusLine);
  const headers: Record<string, string> = {};
  for (const line of rest) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    headers[name] = headers[name] !== undefined ? `${headers[name]}, ${value}` : value;
  }
  return {
    kind: 'response',
    status: m ? Number(m[1]) : 0,
    statusText: m?.[2] ?? statusLine,
    headers,
    body: '',
  };
}

function printable(buf: Buffer): string {
  return buf
    .subarray(0, 60)
    .toString('latin1')
    .replace(/[^\x20-\x7e]/g, '.');
}

export type UpgradeVerdict =
  | { ok: true; explanation: string; detail: string[]; facts: UpgradeFacts }
  | {
      ok: false;
      code: DoctorCode;
      explanation: string;
      fix: string;
      detail: string[];
      facts: UpgradeFacts | null;
    };

/** A refusal body that says a client certificate was wanted (ours: "requires a client certificate"). */
const CERT_REQUIRED_BODY = /client certificate|required SSL certificate was sent/i;
/** The TLS alert a server that requires a client certificate sends (OpenSSL's names for alert 116). */
const CERT_REQUIRED_ALERT = /CERTIFICATE_REQUIRED|certificate required/i;

function clientCertRequired(
  ctx: { forApp?: boolean },
  how: string,
): { ok: false; code: 'CLIENT_CERT_REQUIRED'; explanation: string; fix: string; detail: string[] } {
  return {
    ok: false,
    code: 'CLIENT_CERT_REQUIRED',
    explanation: `The server requires a client certificate (mutual TLS) and refused this connection without one: ${how}. The TLS part is fine; the doctor presents no client certificate, and neither does a client that was not given one.`,
    fix: ctx.forApp
      ? 'Connect from the Client screen with a certificate picked in its "Client certificate" list: issue one on the Certificates screen with "Also a client certificate (mTLS)" ticked, from the CA the server trusts.'
      : 'Present a certificate issued for client authentication by the CA the server trusts: issue one with "wss-studio cert issue --client NAME", then connect with curl --cert CERT.pem --key KEY.pem (openssl s_client -cert/-key), or pick it in the Client screen\'s "Client certificate" list.',
    detail: [],
  };
}

/** Judge the response like a browser would. Pure. */
export function judgeUpgrade(
  res: RawResponse,
  ctx: {
    url: string;
    key: string;
    protocols: string[];
    origin?: string;
    timeoutMs: number;
    /** Name the screen's field instead of CLI flags. */
    forApp?: boolean;
  },
): UpgradeVerdict {
  if (res.kind === 'timeout') {
    return {
      ok: false,
      code: 'TIMEOUT',
      explanation: `The server accepted the connection but did not answer the upgrade request within ${ctx.timeoutMs} ms.`,
      fix: 'Check the server is not stuck and that this port runs a WebSocket server.',
      detail: [],
      facts: null,
    };
  }
  if (res.kind === 'closed' && res.errno && CERT_REQUIRED_ALERT.test(res.errno)) {
    // TLS 1.3: the handshake completes on the client's side first; a server that requires a client
    // certificate then sends the certificate_required alert (116), which arrives as the upgrade's error.
    return {
      ...clientCertRequired(ctx, `it ended the TLS connection with "${res.errno}"`),
      facts: null,
    };
  }
  if (res.kind === 'closed') {
    return {
      ok: false,
      code: 'UPGRADE_NO_RESPONSE',
      explanation: `The server closed the connection without answering the upgrade request${res.errno ? ` (${res.errno})` : ''}.`,
      fix: 'Check that this port runs a WebSocket server, and look at its log for why it dropped the request.',
      detail: [],
      facts: null,
    };
  }
  if (res.kind === 'not-http') {
    return {
      ok: false,
      code: 'UPGRADE_NO_RESPONSE',
      explanation: `The server answered with something that is not HTTP (${JSON.stringify(res.preview)}): this port runs another protocol.`,
      fix: "Point the URL at the WebSocket server's port.",
      detail: [],
      facts: null,
    };
  }
  const facts: UpgradeFacts = {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
    protocol: res.headers['sec-websocket-protocol'] ?? null,
    extensions: res.headers['sec-websocket-extensions'] ?? null,
  };
  const detail = [`HTTP ${res.status} ${res.statusText}`.trim()];
  const bodyLine = res.body.trim().split('\n')[0]?.slice(0, 200);
  const fail = (code: DoctorCode, explanation: string, fix: string): UpgradeVerdict => ({
    ok: false,
    code,
    explanation,
    fix,
    detail: bodyLine ? [...detail, `body: ${bodyLine}`] : detail,
    facts,
  });
  const s = res.status;
  if (s !== 101) {
    if (s === 404) {
      return fail(
        'UPGRADE_NOT_FOUND',
        `The server answered 404 Not Found for ${JSON.stringify(new URL(ctx.url).pathname)}: it runs, but nothing handles WebSockets at this path.`,
        'Fix the path in the URL to the one the server listens on (e.g. / or /ws).',
      );
    }
    if ((s === 400 || s === 401 || s === 403) && CERT_REQUIRED_BODY.test(res.body)) {
      // WSS Studio's mTLS echo servers (403 + the reason) and nginx's ssl_verify_client (400 "No required
      // SSL certificate was sent") answer over HTTP after the handshake.
      const v = clientCertRequired(ctx, `it answered ${s} ${res.statusText}`.trim());
      // The body line that says so (nginx's is inside an HTML page), tags stripped.
      const said = res.body
        .split('\n')
        .find((l) => CERT_REQUIRED_BODY.test(l))
        ?.replace(/<[^>]*>/g, '')
        .trim()
        .slice(0, 200);
      return { ...v, detail: [...detail, `body: ${said ?? bodyLine}`], facts };
    }
    if (s === 401 || s === 403) {
      return fail(
        'UPGRADE_FORBIDDEN',
        `The server refused the upgrade with ${s} ${res.statusText}` +
          (ctx.origin
            ? `: most often its Origin allow-list does not include ${JSON.stringify(ctx.origin)}, or it wants credentials.`
            : `: most often an Origin allow-list or missing credentials (${ctx.forApp ? 'fill in the page origin' : 'pass --origin with the page origin'} to test the real one).`),
        ctx.origin
          ? `Add ${JSON.stringify(ctx.origin)} to the server's allowed origins, or send the credentials it expects.`
          : "Check the server's allowed origins and authentication.",
      );
    }
    if (s >= 300 && s < 400) {
      return fail(
        'UPGRADE_REDIRECT',
        `The server answered ${s} ${res.statusText}${res.headers.location ? ` to ${JSON.stringify(res.headers.location)}` : ''}; WebSocket clients do not follow redirects.`,
        res.headers.location
          ? `Use the redirect target directly (${JSON.stringify(res.headers.location)}, with ws:// or wss://).`
          : 'Use the URL the redirect points to directly.',
      );
    }
    if (s >= 200 && s < 300) {
      return fail(
        'UPGRADE_NOT_WEBSOCKET',
        `The server answered ${s} ${res.statusText} as for a normal web page instead of 101 Switching Protocols: it is an HTTP server with no WebSocket handler at this path.`,
        "Point the URL at the WebSocket server's port and path.",
      );
    }
    const why =
      s === 426
        ? ' (426 Upgrade Required: the server wants another WebSocket version or protocol than version 13)'
        : s === 400
          ? ' (400 Bad Request: the server rejected the upgrade request itself; its log or the body says why)'
          : s >= 500
            ? ' (a server error: look at the server log)'
            : '';
    return fail(
      'UPGRADE_REFUSED',
      `The server answered ${s} ${res.statusText} instead of 101 Switching Protocols${why}.`,
      "Read the status and body in the detail and check the server's log.",
    );
  }
  const want = expectedAccept(ctx.key);
  const got = res.headers['sec-websocket-accept'];
  if ((res.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
    return fail(
      'BAD_ACCEPT',
      `The server answered 101 but its Upgrade header is ${JSON.stringify(res.headers.upgrade ?? '')}, not "websocket": clients abort.`,
      'Fix the server to send "Upgrade: websocket" with the 101 response.',
    );
  }
  if (got !== want) {
    return fail(
      'BAD_ACCEPT',
      `The server answered 101 but Sec-WebSocket-Accept is ${got === undefined ? 'missing' : JSON.stringify(got)} where ${JSON.stringify(want)} was expected, so every client aborts the connection.`,
      'Fix the server: Sec-WebSocket-Accept must be base64(SHA-1(Sec-WebSocket-Key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).',
    );
  }
  detail.push(`Sec-WebSocket-Accept ${got} (correct)`);
  const chosen = facts.protocol;
  if (chosen !== null && !ctx.protocols.includes(chosen)) {
    return fail(
      'SUBPROTOCOL_MISMATCH',
      `The server chose the subprotocol ${JSON.stringify(chosen)}, which the client did not offer` +
        `${ctx.protocols.length ? ` (offered: ${ctx.protocols.join(', ')})` : ' (none offered)'}; clients abort the connection.`,
      ctx.protocols.length
        ? 'Offer that subprotocol, or fix the server to pick one of the offered ones.'
        : `Offer it: new WebSocket(url, ${JSON.stringify(chosen)})${ctx.forApp ? '' : ` (doctor: --protocol ${chosen})`}.`,
    );
  }
  if (chosen === null && ctx.protocols.length) {
    return fail(
      'SUBPROTOCOL_MISMATCH',
      `The client offered the subprotocol${ctx.protocols.length > 1 ? 's' : ''} ${ctx.protocols.join(', ')} and the server accepted none: browsers and ws abort the connection.`,
      "Add one of them to the server's accepted subprotocols, or do not offer any.",
    );
  }
  const ext = facts.extensions;
  if (ext !== null) {
    const names = ext.split(',').map((e) => (e.split(';')[0] ?? '').trim());
    const unknown = names.filter((n) => n !== 'permessage-deflate');
    if (unknown.length) {
      return fail(
        'EXTENSION_MISMATCH',
        `The server enabled ${unknown.map((n) => JSON.stringify(n)).join(', ')}, which the client did not offer (it offered permessage-deflate only); clients abort.`,
        'Fix the server to answer only with extensions the client offered.',
      );
    }
  }
  detail.push(`subprotocol: ${chosen ?? 'none'}`, `extensions: ${ext ?? 'none'}`);
  return {
    ok: true,
    explanation:
      `The server switched protocols (101) with a correct Sec-WebSocket-Accept` +
      `${chosen ? `, subprotocol ${JSON.stringify(chosen)}` : ''}${ext ? `, extensions ${ext}` : ''}.`,
    detail,
    facts,
  };
}

export function newKey(): string {
  return randomBytes(16).toString('base64');
}
