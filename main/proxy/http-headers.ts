// Header lines of a proxied HTTP request and its answer, as flat [name, value, name, value, ...] lists built
// from the raw lines Node parsed. Node writes such a list as it is: neither side builds a header object
// (IncomingMessage.headers is only made when read) nor validates and stores each header one call at a time
// (setHeader). A page load is dozens of small requests, and that per-header work was a good share of the
// proxy's CPU per request (bench/proxy.mjs, page load). Names keep the case the peer sent; repeated lines
// stay repeated (Set-Cookie), as a transparent proxy passes them.

/** Hop-by-hop headers (RFC 9110 7.6.1) plus the ones ws sets itself on the target leg. */
export const HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
  'http2-settings',
]);

/** Header names a Connection header lists (hop-by-hop too, RFC 9110 7.6.1), added to `into`. */
function connectionTokens(value: string, into: string[] | undefined): string[] | undefined {
  // Browsers send "keep-alive" (or "close"): nothing more to drop, nothing to allocate.
  if (value === 'keep-alive' || value === 'close') return into;
  for (const t of value.split(',')) {
    const k = t.trim().toLowerCase();
    if (k && !HOP.has(k)) (into ??= []).push(k);
  }
  return into;
}

export interface Forwarding {
  /** The client's address (X-Forwarded-For). */
  ip: string;
  /** The public side's scheme (X-Forwarded-Proto). */
  proto: string;
  /** The public host when the request names none (no Host, no :authority). */
  fallbackHost: string;
  /** The Host header the target gets, given the public one (kept, or the target's own host:port). */
  hostFor: (publicHost: string) => string;
}

/**
 * Request header lines for the target: hop-by-hop and HTTP/2 pseudo-headers removed, Host first (kept or
 * rewritten), the client's X-Forwarded-For lines merged into one with its address appended, X-Forwarded-Proto
 * and X-Forwarded-Host set by us (a client's own are dropped).
 */
export function forwardRequestLines(raw: string[], f: Forwarding): string[] {
  const n = raw.length;
  const names: string[] = new Array(n >> 1);
  let listed: string[] | undefined;
  let host: string | undefined;
  let authority: string | undefined;
  let prior: string | undefined;
  let cookie: string | undefined;
  let crumbs = false;
  let h2 = false;
  for (let i = 0; i < n; i += 2) {
    const k = raw[i]!.toLowerCase();
    names[i >> 1] = k;
    const v = raw[i + 1]!;
    if (k === 'connection') listed = connectionTokens(v, listed);
    else if (k === 'host') host ??= v;
    else if (k === ':authority') authority ??= v;
    else if (k === 'x-forwarded-for') prior = prior === undefined ? v : `${prior}, ${v}`;
    else if (k === 'cookie') {
      crumbs = cookie !== undefined;
      cookie = crumbs ? `${cookie}; ${v}` : v;
    } else if (k.charCodeAt(0) === 58) h2 = true;
  }
  // HTTP/2 clients (Chromium's and Firefox's HPACK encoders) split Cookie into one field per cookie; an
  // HTTP/1.1 request carries them as one line joined with "; " (RFC 9113 8.2.3). Passed on as separate
  // lines, servers that keep the first line or join repeats with "," (Python's http.server, werkzeug) lost
  // or mangled every cookie but one.
  const joinCookies = h2 && crumbs;
  const publicHost = host ?? authority ?? f.fallbackHost;
  const out = ['Host', f.hostFor(publicHost)];
  for (let i = 0; i < n; i += 2) {
    const k = names[i >> 1]!;
    if (
      HOP.has(k) ||
      k.charCodeAt(0) === 58 || // ":": HTTP/2 pseudo-headers are not headers for an HTTP/1.1 target
      k === 'host' ||
      k === 'x-forwarded-for' ||
      k === 'x-forwarded-proto' ||
      k === 'x-forwarded-host' ||
      (listed !== undefined && listed.includes(k))
    )
      continue;
    if (joinCookies && k === 'cookie') {
      if (cookie !== undefined) out.push(raw[i]!, cookie);
      cookie = undefined;
      continue;
    }
    out.push(raw[i]!, raw[i + 1]!);
  }
  out.push(
    'X-Forwarded-For',
    prior ? `${prior}, ${f.ip}` : f.ip,
    'X-Forwarded-Proto',
    f.proto,
    'X-Forwarded-Host',
    publicHost,
  );
  return out;
}

/** Response header lines for the client: hop-by-hop removed, each Location passed through `location`. */
export function relayResponseLines(raw: string[], location: (v: string) => string): string[] {
  const n = raw.length;
  let listed: string[] | undefined;
  for (let i = 0; i < n; i += 2) {
    const name = raw[i]!;
    if (name.length === 10 && name.toLowerCase() === 'connection')
      listed = connectionTokens(raw[i + 1]!, listed);
  }
  const out: string[] = [];
  for (let i = 0; i < n; i += 2) {
    const k = raw[i]!.toLowerCase();
    if (HOP.has(k) || (listed !== undefined && listed.includes(k))) continue;
    out.push(raw[i]!, k === 'location' ? location(raw[i + 1]!) : raw[i + 1]!);
  }
  return out;
}

/** Whether raw request lines frame a body (Content-Length or Transfer-Encoding), without a header object. */
export function framesBody(raw: string[]): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== 14 && name.length !== 17) continue;
    const k = name.toLowerCase();
    if (k === 'content-length' || k === 'transfer-encoding') return true;
  }
  return false;
}

/**
 * The link-values of Link header values ("<a>; rel=x, <b>; rel=y" is two): Node's writeEarlyHints() takes one
 * per array item and refuses a joined one. Commas inside <...> or a quoted parameter do not split.
 */
export function splitLinks(values: string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    let start = 0;
    let inUri = false;
    let inQuote = false;
    for (let i = 0; i <= v.length; i++) {
      const c = v[i];
      if (c === undefined || (c === ',' && !inUri && !inQuote)) {
        const one = v.slice(start, i).trim();
        if (one) out.push(one);
        start = i + 1;
      } else if (inQuote) {
        if (c === '\\') i++;
        else if (c === '"') inQuote = false;
      } else if (c === '<') inUri = true;
      else if (c === '>') inUri = false;
      else if (c === '"' && !inUri) inQuote = true;
    }
  }
  return out;
}

/** Whether header lines carry a Content-Length. */
export function hasLength(lines: string[]): boolean {
  for (let i = 0; i < lines.length; i += 2) {
    const name = lines[i]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') return true;
  }
  return false;
}

// What http.request refuses (and would have thrown out of the request handler): a method that is no token,
// a request target with a space or control character, a header name that is no token, a value with a
// control character other than tab. The same holds for the answers h1-server.ts writes.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_TARGET = /[^\u0021-\u00ff]/;
export const BAD_VALUE = /[^\t\u0020-\u007e\u0080-\u00ff]/;

/**
 * `first` (a request or status line) and header lines as an HTTP/1.1 head, the empty line included, or what
 * makes it one that cannot be written. Written as latin1: each character is the byte the peer sent.
 */
export function headOf(first: string, lines: string[], extra = ''): string | { problem: string } {
  let head = `${first}\r\n`;
  for (let i = 0; i < lines.length; i += 2) {
    const k = lines[i]!;
    const v = lines[i + 1]!;
    if (!TOKEN.test(k)) return { problem: `the header name ${JSON.stringify(k)} is not a token` };
    if (BAD_VALUE.test(v)) return { problem: `the value of ${k} has a control character` };
    head += `${k}: ${v}\r\n`;
  }
  return `${head}${extra}\r\n`;
}

/** The request head for the target (headOf), or what makes it one that cannot be written. */
export function requestHead(
  method: string,
  target: string,
  lines: string[],
): string | { problem: string } {
  if (!TOKEN.test(method))
    return { problem: `the method ${JSON.stringify(method)} is not a token` };
  if (BAD_TARGET.test(target))
    return {
      problem: `the path ${JSON.stringify(target.slice(0, 200))} has a space or control character`,
    };
  return headOf(`${method} ${target} HTTP/1.1`, lines);
}

/** Header names of which a response carries one value: a repeat is dropped (as Node's IncomingMessage does). */
const SINGLE = new Set([
  'content-type',
  'content-length',
  'user-agent',
  'referer',
  'host',
  'authorization',
  'proxy-authorization',
  'if-modified-since',
  'if-unmodified-since',
  'from',
  'location',
  'max-forwards',
  'retry-after',
  'etag',
  'last-modified',
  'server',
  'age',
  'expires',
]);

/**
 * Header lines as one header object for an HTTP/2 response, by Node's rules for an incoming message: the
 * first of a repeated single-value header, Set-Cookie as a list, Cookie joined with "; ", others with ", ".
 * Names in lower case; no prototype (a "__proto__" line is a header like any other).
 */
export function headerObject(lines: string[]): Record<string, string | string[]> {
  const out = Object.create(null) as Record<string, string | string[]>;
  for (let i = 0; i < lines.length; i += 2) {
    const k = lines[i]!.toLowerCase();
    const v = lines[i + 1]!;
    const prev = out[k];
    if (prev === undefined) out[k] = k === 'set-cookie' ? [v] : v;
    else if (k === 'set-cookie') (prev as string[]).push(v);
    else if (!SINGLE.has(k)) out[k] = `${prev as string}${k === 'cookie' ? '; ' : ', '}${v}`;
  }
  return out;
}

const CRLF = Buffer.from('\r\n', 'latin1');
/** The last chunk of a chunked body (no trailers). */
export const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

/** One chunk of a chunked body as the buffers to write: size line, the data (not copied), CRLF. */
export function chunkOf(data: Buffer): Buffer[] {
  return [Buffer.from(`${data.length.toString(16)}\r\n`, 'latin1'), data, CRLF];
}
