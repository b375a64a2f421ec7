// Step "mixed content": would a browser even try this URL from that page? Pure: no network, never throws
// except parseOrigin, which rejects a malformed --origin as bad input.
//
// The real rule (Mixed Content spec + Chromium), which tutorials get half right: an https:// page may not
// open ws:// (the WebSocket constructor throws SecurityError), EXCEPT to hosts Chromium treats as
// "potentially trustworthy": localhost and *.localhost, 127.0.0.0/8 and [::1]. Seen with Chromium 156:
// from https://localhost, ws://localhost and ws://127.0.0.1 open while ws://app.test (resolving to
// 127.0.0.1) is blocked: the decision is made on the host NAME, before and without DNS.
import { isIP } from 'node:net';
import { inputError, q } from '../../shared/errors';
import type { DoctorCode } from './codes';
import type { DoctorTarget } from './types';

export interface PageOrigin {
  scheme: 'http' | 'https';
  host: string;
  /** Serialized origin, e.g. https://localhost:5173 */
  origin: string;
}

/** Parse the page origin given with --origin / options.origin. Throws an input error (exit 2) when malformed. */
export function parseOrigin(text: string): PageOrigin {
  let u: URL | undefined;
  try {
    u = new URL(text.trim());
  } catch {
    u = undefined;
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || !u.hostname) {
    throw inputError(
      'BAD_ORIGIN',
      'check page origin',
      `${q(text)} is not an http:// or https:// origin`,
      {
        field: 'origin',
        value: text,
        hint: 'pass the origin of the page that opens the WebSocket, e.g. "https://localhost:5173"',
      },
    );
  }
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return { scheme: u.protocol === 'https:' ? 'https' : 'http', host, origin: u.origin };
}

/** Chromium's "potentially trustworthy" hosts for mixed content: loopback by name or address. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.split('.')[0] === '127';
  if (isIP(h) === 6) return h === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(h);
  return false;
}

export type MixedContentCheck =
  | { status: 'pass'; explanation: string }
  | { status: 'warn' | 'fail'; code: DoctorCode; explanation: string; fix: string };

export function checkMixedContent(page: PageOrigin, target: DoctorTarget): MixedContentCheck {
  if (page.scheme === 'http') {
    return {
      status: 'pass',
      explanation: `The page ${page.origin} is plain http://, so it may open both ws:// and wss:// URLs.`,
    };
  }
  if (target.scheme === 'wss') {
    return {
      status: 'pass',
      explanation: `The page ${page.origin} is https:// and the URL is wss://: no mixed content.`,
    };
  }
  const wssUrl = 'wss' + target.url.slice(2);
  if (isLoopbackHost(target.host)) {
    return {
      status: 'warn',
      code: 'MIXED_CONTENT_LOOPBACK',
      explanation:
        `Allowed: Chromium lets the https:// page ${page.origin} open ws:// to ${JSON.stringify(target.host)} ` +
        'because loopback (localhost, 127.0.0.0/8, [::1]) counts as potentially trustworthy. It will be blocked ' +
        'as mixed content as soon as the page or the server moves off loopback (a LAN address, a .test name, ' +
        'staging), and some browsers block it already.',
      fix: `Use ${JSON.stringify(wssUrl)} now so the code keeps working when it leaves loopback.`,
    };
  }
  return {
    status: 'fail',
    code: 'MIXED_CONTENT_BLOCKED',
    explanation:
      `Blocked: the https:// page ${page.origin} may not open the unencrypted ${JSON.stringify(target.url)}; ` +
      `the browser throws SecurityError before any network traffic, because ${JSON.stringify(target.host)} is ` +
      'not a loopback host (only localhost, 127.0.0.0/8 and [::1] are exempt, by name: a .test name that ' +
      'resolves to 127.0.0.1 is still blocked).',
    fix: `Serve the WebSocket over TLS and use ${JSON.stringify(wssUrl)}, or load the page over http://.`,
  };
}
