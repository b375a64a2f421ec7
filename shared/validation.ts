// Input predicates shared by every boundary (ws's lib/validation.js style): each is pure, returns true or
// false and never throws, so shared/api.ts builds its schemas from them and the engine re-checks files read
// from disk with those same schemas. No Node imports: the renderer bundles this file too.

/** Bounds of an echo server definition (the stricter of the two sets that once existed; README "API contract"). */
export const SERVER_LIMITS = {
  name: 80,
  /** A WebSocket path: generous for any real route, small enough to show whole in the UI and the log. */
  path: 200,
  protocols: 32,
  /** One Sec-WebSocket-Protocol token. */
  protocol: 100,
  origins: 64,
  /** scheme "://" host (253) ":" port, with room to spare. */
  origin: 300,
  clientCaFile: 4096,
} as const;

/** Server and proxy ids: 1-40 lower-case letters, digits and dashes (they appear in URLs and file names). */
export const isId = (v: unknown): v is string =>
  typeof v === 'string' && /^[a-z0-9][a-z0-9-]{0,39}$/.test(v);

const IPV6_CHARS = /^[0-9A-Fa-f:.]+$/;

/** An IPv6 literal without brackets, optionally with a zone ("fe80::1%eth0"), as node's net.isIP takes it. */
export function isIPv6(v: unknown): v is string {
  if (typeof v !== 'string' || v.length > 64 || !v.includes(':')) return false;
  const zone = v.indexOf('%');
  const addr = zone === -1 ? v : v.slice(0, zone);
  if (zone !== -1 && !/^[A-Za-z0-9_.-]{1,32}$/.test(v.slice(zone + 1))) return false;
  if (!IPV6_CHARS.test(addr)) return false;
  try {
    // The WHATWG URL parser is the same in Node and every browser, and accepts exactly RFC 4291 text forms.
    return new URL(`http://[${addr}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

const DNS_NAME =
  /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,62}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,62}[a-zA-Z0-9])?)*\.?$/;

/** An IP literal or a DNS name (letters, digits, dashes, dots; IPv4 is a name of digit labels). */
export const isHost = (v: unknown): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= 253 && (isIPv6(v) || DNS_NAME.test(v));

/** A WebSocket path: "/" then URL path characters only, at most SERVER_LIMITS.path. */
export const isPath = (v: unknown): v is string =>
  typeof v === 'string' &&
  v.length <= SERVER_LIMITS.path &&
  /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/.test(v);

/** RFC 7230 token: what Sec-WebSocket-Protocol values must be. */
export const isToken = (v: unknown): v is string =>
  typeof v === 'string' &&
  v.length > 0 &&
  v.length <= SERVER_LIMITS.protocol &&
  /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(v);

/** A serialised origin as browsers send it: scheme://host[:port], or "null". */
export const isOrigin = (v: unknown): v is string =>
  typeof v === 'string' &&
  v.length <= SERVER_LIMITS.origin &&
  (v === 'null' || /^[a-z][a-z0-9+.-]*:\/\/(\[[0-9a-fA-F:.]+\]|[^\s/:?#[\]]+)(:\d{1,5})?$/.test(v));

/** An absolute file path: "/..." (POSIX), "C:\..." or "\\server\..." (Windows). */
export const isAbsolutePath = (v: unknown): v is string =>
  typeof v === 'string' &&
  v.length > 0 &&
  v.length <= SERVER_LIMITS.clientCaFile &&
  !v.includes('\0') &&
  (v.startsWith('/') || /^[A-Za-z]:[\\/]/.test(v) || v.startsWith('\\\\'));
