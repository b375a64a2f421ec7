// Proxy definition checks: the public URL and the target URL are parsed once here, and every rejection names
// the field, the value and the fix (nothing is written or started before these pass).
import { randomBytes } from 'node:crypto';
import { PROXY_DEFAULTS } from '../../shared/api';
import { inputError, q } from '../../shared/errors';
import { isHost, isId } from '../../shared/validation';
import type { ProxyDefinition, ProxyInput } from './types';

export interface PublicSide {
  /** http or https (ws/wss given are mapped). */
  scheme: 'http' | 'https';
  host: string;
  /** 0 = any free port (tests). */
  port: number;
}

export interface TargetSide {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  /** Prefix put before every request path ('' for none). */
  basePath: string;
  /** origin as the target knows itself, e.g. http://localhost:5173 */
  origin: string;
}

function bad(field: string, value: unknown, why: string, hint: string) {
  return inputError('INVALID_PROXY', 'define proxy', `${field} ${q(value)} ${why}`, {
    field,
    value,
    hint,
  });
}

const SCHEMES: Record<string, 'http' | 'https'> = {
  'http:': 'http',
  'https:': 'https',
  'ws:': 'http',
  'wss:': 'https',
};

function parseUrl(field: string, raw: string, example: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw bad(field, raw, 'is not a URL', `write it like ${q(example)}`);
  }
  if (!SCHEMES[u.protocol]) {
    throw bad(
      field,
      raw,
      `has scheme ${q(u.protocol.slice(0, -1))}`,
      `use http://, https://, ws:// or wss://, e.g. ${q(example)}`,
    );
  }
  if (u.username || u.password)
    throw bad(field, raw, 'carries a user name or password', 'leave credentials out of the URL');
  return u;
}

const bareHost = (h: string) => (h.startsWith('[') ? h.slice(1, -1) : h);

export function parsePublic(raw: string): PublicSide {
  const u = parseUrl('publicUrl', raw, 'https://app.test:8443');
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) {
    throw bad(
      'publicUrl',
      raw,
      'has a path or query',
      `the proxy fronts a whole origin: write ${q(`${u.protocol}//${u.host}`)}`,
    );
  }
  const scheme = SCHEMES[u.protocol] as 'http' | 'https';
  const host = bareHost(u.hostname).toLowerCase();
  if (!isHost(host))
    throw bad(
      'publicUrl',
      raw,
      'has no valid host name',
      'use a name such as "app.test" or "localhost"',
    );
  const port = u.port === '' ? (scheme === 'https' ? 443 : 80) : Number(u.port);
  return { scheme, host, port };
}

export function parseTarget(raw: string): TargetSide {
  const u = parseUrl('target', raw, 'http://localhost:5173');
  if (u.search || u.hash)
    throw bad(
      'target',
      raw,
      'has a query or fragment',
      `write the origin, e.g. ${q(`${u.protocol}//${u.host}`)}`,
    );
  const scheme = SCHEMES[u.protocol] as 'http' | 'https';
  const host = bareHost(u.hostname);
  if (!isHost(host))
    throw bad('target', raw, 'has no valid host name', 'e.g. "http://localhost:5173"');
  const port = u.port === '' ? (scheme === 'https' ? 443 : 80) : Number(u.port);
  if (port === 0)
    throw bad('target', raw, 'has port 0', "give your server's port, e.g. http://localhost:5173");
  const basePath = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
  return { scheme, host, port, basePath, origin: `${scheme}://${u.host}` };
}

/** Merge input over defaults (or over `prev` for an update) and check every field. */
export function normalizeProxy(input: ProxyInput, prev?: ProxyDefinition): ProxyDefinition {
  if (typeof input !== 'object' || input === null)
    throw bad('proxy', input, 'is not an object', 'pass { publicUrl, target }');
  const publicUrl = input.publicUrl ?? prev?.publicUrl;
  const target = input.target ?? prev?.target;
  if (typeof publicUrl !== 'string')
    throw bad(
      'publicUrl',
      publicUrl,
      'is missing',
      'give the URL to open, e.g. "https://app.test:8443"',
    );
  if (typeof target !== 'string')
    throw bad('target', target, 'is missing', 'give your server, e.g. "http://localhost:5173"');
  const pub = parsePublic(publicUrl);
  parseTarget(target);
  const id = input.id ?? prev?.id ?? `proxy-${randomBytes(3).toString('hex')}`;
  if (!isId(id))
    throw bad(
      'id',
      id,
      'is not a valid id',
      'use lower-case letters, digits and dashes (at most 40)',
    );
  const bindHost = input.bindHost ?? prev?.bindHost ?? PROXY_DEFAULTS.bindHost;
  if (!isHost(bindHost))
    throw bad('bindHost', bindHost, 'is not an address', 'use 127.0.0.1, ::1 or 0.0.0.0');
  const certId = input.certId === null ? undefined : (input.certId ?? prev?.certId);
  const portText = pub.port === (pub.scheme === 'https' ? 443 : 80) ? '' : `:${pub.port}`;
  const hostText = pub.host.includes(':') ? `[${pub.host}]` : pub.host;
  return {
    id,
    name: input.name ?? prev?.name ?? `${pub.host} -> ${target}`,
    publicUrl: `${pub.scheme}://${hostText}${portText}`,
    target: target.replace(/\/$/, ''),
    bindHost,
    ...(certId ? { certId } : {}),
    preserveHost: input.preserveHost ?? prev?.preserveHost ?? PROXY_DEFAULTS.preserveHost,
    rewriteRedirects:
      input.rewriteRedirects ?? prev?.rewriteRedirects ?? PROXY_DEFAULTS.rewriteRedirects,
    targetVerify: input.targetVerify ?? prev?.targetVerify ?? PROXY_DEFAULTS.targetVerify,
    enabled: input.enabled ?? prev?.enabled ?? PROXY_DEFAULTS.enabled,
  };
}
