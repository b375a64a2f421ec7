// Step 1: is the URL one a WebSocket client can open? Pure: no network, never throws.
// Parsing follows the WHATWG URL parser (Node's URL), which is what browsers run in `new WebSocket(url)`.
import { q } from '../../shared/errors';
import type { DoctorCode } from './codes';
import type { DoctorTarget } from './types';

export type UrlCheck =
  | {
      ok: true;
      target: DoctorTarget;
      /** http:/https: was given: it works in current browsers and ws, not in every client. */
      warning?: { code: DoctorCode; explanation: string; fix: string };
    }
  | { ok: false; code: DoctorCode; explanation: string; fix: string };

const DEFAULT_PORT = { ws: 80, wss: 443 } as const;

export function checkUrl(input: string): UrlCheck {
  const text = input.trim();
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return bad(
      'BAD_URL',
      `${q(text)} is not a URL: a WebSocket URL looks like ws://HOST:PORT/PATH.`,
      hintFor(text),
    );
  }
  const scheme = u.protocol.slice(0, -1);
  let warning: Extract<UrlCheck, { ok: true }>['warning'];
  let wsScheme: 'ws' | 'wss';
  if (scheme === 'ws' || scheme === 'wss') {
    wsScheme = scheme;
  } else if (scheme === 'http' || scheme === 'https') {
    wsScheme = scheme === 'http' ? 'ws' : 'wss';
    warning = {
      code: 'HTTP_SCHEME',
      explanation:
        `${q(text)} starts with ${scheme}://, not ${wsScheme}://. Current browsers and the Node ws library ` +
        `treat it as ${wsScheme}://, but older browsers, Python websockets, wscat and many other clients reject it.`,
      fix: `Write ${q(wsScheme + text.slice(scheme.length))}.`,
    };
  } else if (!u.host && /^[a-z0-9.-]+:\d+/i.test(text)) {
    // "localhost:8080/x" parses as scheme "localhost:" with no host.
    return bad(
      'BAD_URL',
      `${q(text)} has no scheme: a WebSocket URL starts with ws:// or wss://.`,
      `Write ${q('ws://' + text)} (or wss:// if the server speaks TLS).`,
    );
  } else {
    return bad(
      'BAD_SCHEME',
      `${q(text)} uses the ${q(scheme + ':')} scheme; WebSocket URLs use ws:// (plain) or wss:// (TLS).`,
      'Use ws:// for a plain server or wss:// for a TLS server.',
    );
  }
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  if (!host) {
    return bad('BAD_URL', `${q(text)} has no host name.`, 'Write e.g. ws://localhost:8080/.');
  }
  const port = u.port === '' ? DEFAULT_PORT[wsScheme] : Number(u.port);
  if (port === 0) {
    return bad(
      'BAD_URL',
      `${q(text)} names port 0, which no server can be reached on.`,
      'Write the port the server reports after it starts, e.g. ws://localhost:8080/.',
    );
  }
  if (u.hash) {
    // Browsers throw SyntaxError for a fragment in `new WebSocket(url)` (WebSockets standard, constructor step).
    return bad(
      'BAD_URL',
      `${q(text)} has a fragment (${q(u.hash)}); browsers throw SyntaxError for a WebSocket URL with a fragment.`,
      `Remove ${q(u.hash)} from the URL.`,
    );
  }
  const path = (u.pathname || '/') + u.search;
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  const defaultPort = port === DEFAULT_PORT[wsScheme];
  const target: DoctorTarget = {
    url: `${wsScheme}://${hostInUrl}${defaultPort ? '' : ':' + port}${path}`,
    scheme: wsScheme,
    host,
    port,
    path,
  };
  return warning ? { ok: true, target, warning } : { ok: true, target };
}

function hintFor(text: string): string {
  if (/\s/.test(text)) return 'Remove the spaces; write e.g. ws://localhost:8080/.';
  const m = /^[a-z]+:\/\/[^/]*:(\d+)/i.exec(text);
  if (m && Number(m[1]) > 65535)
    return `Ports go from 1 to 65535; ${q(m[1] ?? '')} is out of range.`;
  return 'Write it as ws://HOST:PORT/PATH, e.g. ws://localhost:8080/.';
}

function bad(code: DoctorCode, explanation: string, fix: string): UrlCheck {
  return { ok: false, code, explanation, fix };
}
