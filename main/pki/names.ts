// Over 400 lines: one table of name rules (DNS, wildcard, IP, email, URI, constraints) whose predicates call each other.
// Subject-alternative-name input: classification, normalisation and validation.
// Pure functions that never throw (ws's validation.js style): each returns a verdict with the error, the
// hint that names the fix, or a warning. Callers turn verdicts into WssErrors.
import net from 'node:net';
import { domainToASCII } from 'node:url';
import { q } from '../../shared/errors';
import type { NameVerdict } from '../../shared/api';

/** One name's verdict: the wire's NameVerdict (names.check returns these as they are). */
export type NameCheck = NameVerdict;
export type NameKind = NonNullable<NameVerdict['kind']>;
/** Why a name is refused, as a stable error code (callers branch on it, never on the sentence). */
export type NameErrorCode = NonNullable<NameVerdict['code']>;

/** Top-level names reserved for local use (RFC 2606, RFC 6761, RFC 6762, RFC 8375, ICANN .internal). */
export const LOCAL_TLDS = new Set([
  'test',
  'localhost',
  'local',
  'internal',
  'invalid',
  'example',
  'lan',
  'home.arpa',
]);

/** The CA's default permitted subtrees: local names, loopback and private address ranges. */
export const DEFAULT_PERMITTED = [
  'localhost',
  '.localhost',
  '.test',
  '.local',
  '.internal',
  '.home.arpa',
  '127.0.0.0/8',
  '::1/128',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  'fc00::/7',
];

/** Longest URI accepted in a certificate (a practical bound; browsers cap URLs near 2 MB, servers ~8 KB). */
export const MAX_URI_LENGTH = 2048;

function charName(c: string): string {
  const cp = c.codePointAt(0) as number;
  if (cp === 0) return 'a NUL byte';
  if (cp < 0x20 || cp === 0x7f)
    return `a control character (U+${cp.toString(16).padStart(4, '0').toUpperCase()})`;
  if (cp === 0x20) return 'a space';
  return `the non-ASCII character ${q(c)}`;
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function dnsError(label: string, input: string): string | undefined {
  if (!LABEL.test(label)) {
    if (label.length === 0)
      return `${q(input)} has an empty label (two dots in a row, or a leading dot)`;
    if (label.length > 63) return `${q(input)} has a label longer than 63 characters`;
    if (label.startsWith('-') || label.endsWith('-'))
      return `${q(input)} has a label that starts or ends with "-"`;
    return `${q(input)} contains characters not allowed in a host name (${q(label)})`;
  }
  return undefined;
}

/** Classify and normalise one name; never throws. A refused name carries `code: 'INVALID_NAME'`. */
export function checkName(raw: string): NameCheck {
  const c = classify(raw);
  return c.error ? { ...c, code: 'INVALID_NAME' } : c;
}

function classify(raw: string): NameCheck {
  const input = raw;
  const s = raw.trim();
  if (s.length === 0) {
    return {
      input,
      error: 'the name is empty',
      hint: 'give a host name such as "localhost", "app.test" or "127.0.0.1"',
    };
  }
  if (/^uri:/i.test(s)) {
    const uri = s.slice(4);
    // A URI SAN is an IA5String: 7-bit ASCII only, and no control characters or spaces.
    const bad = /[^\x21-\x7e]/.exec(uri);
    if (bad) {
      return {
        input,
        error: `${q(uri)} contains ${charName(bad[0])}, which a URI in a certificate cannot hold`,
        hint: 'percent-encode it (RFC 3986), e.g. "%C3%A9" for "é", "%20" for a space',
      };
    }
    if (uri.length > MAX_URI_LENGTH) {
      return {
        input,
        error: `the URI is ${uri.length} characters long (at most ${MAX_URI_LENGTH})`,
        hint: 'use a shorter URI',
      };
    }
    try {
      const u = new URL(uri);
      if (!u.protocol) throw new Error('no scheme');
      return { input, kind: 'uri', normalized: uri };
    } catch {
      return {
        input,
        error: `${q(uri)} is not a valid URI`,
        hint: 'write a full URI after "uri:", e.g. "uri:spiffe://app.test/web"',
      };
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) {
    let host = s;
    try {
      host = new URL(s).hostname.replace(/^\[|\]$/g, '');
    } catch {
      /* keep s */
    }
    return {
      input,
      error: `${q(s)} is a URL, not a host name`,
      hint: `give the host alone (${q(host)}); for a URI subject-alternative-name write ${q('uri:' + s)}`,
    };
  }
  if (/\s/.test(s)) {
    return {
      input,
      error: `${q(s)} contains white space`,
      hint: `remove the spaces (${q(s.replace(/\s+/g, ''))}?)`,
    };
  }
  if (s.includes('@')) {
    const email = s.replace(/^email:/i, '');
    const at = email.lastIndexOf('@');
    const local = email.slice(0, at);
    const domain = email.slice(at + 1);
    // rfc822Name is an IA5String: the local part must be printable ASCII. (Internationalised mailboxes
    // need the SmtpUTF8Mailbox otherName of RFC 9598, which clients rarely check; not issued.)
    const badChar = /[^\x21-\x7e]/.exec(local);
    if (badChar) {
      return {
        input,
        error: `${q(email)} contains ${charName(badChar[0])} before the "@", which an email name in a certificate cannot hold`,
        hint: 'use an ASCII mailbox such as "dev@app.test"',
      };
    }
    const d = checkName(domain);
    if (local.length > 64) {
      return {
        input,
        error: `${q(email)} has ${local.length} characters before the "@" (at most 64, RFC 5321)`,
        hint: 'use a shorter mailbox name',
      };
    }
    if (
      !local ||
      /[\s<>()[\]\\,;:"@]/.test(local) ||
      d.error ||
      (d.kind !== 'dns' && d.kind !== 'ip')
    ) {
      return {
        input,
        error: `${q(email)} is not a valid email address`,
        hint: 'write it as "name@example.test"',
      };
    }
    return { input, kind: 'email', normalized: `${local}@${d.normalized}` };
  }
  // IPv6, bracketed or not (a zone id like %eth0 is meaningless in a certificate).
  const unbracketed = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  const zone = /^([0-9a-f:.]+)%(.*)$/i.exec(unbracketed);
  if (zone) {
    return {
      input,
      error: `${q(s)} carries a zone id (${q('%' + zone[2])})`,
      hint: `give the address without it (${q(zone[1] as string)}); a certificate holds the 16 address bytes only`,
    };
  }
  if (unbracketed.includes(':')) {
    if (isIPv6(unbracketed)) return { input, kind: 'ip', normalized: normalizeIPv6(unbracketed) };
    const m = /^(.*):(\d+)$/.exec(s);
    if (m && !s.startsWith('[') && !(m[1] as string).includes(':')) {
      return {
        input,
        error: `${q(s)} carries a port`,
        hint: `give the name without the port (${q(m[1] as string)}); a certificate covers every port of a host`,
      };
    }
    const m6 = /^\[(.*)\]:(\d+)$/.exec(s);
    if (m6) {
      return {
        input,
        error: `${q(s)} carries a port`,
        hint: `give the address without the port (${q(m6[1] as string)}); a certificate covers every port of a host`,
      };
    }
    return {
      input,
      error: `${q(s)} is not a valid IPv6 address or host name`,
      hint: 'write IPv6 addresses like "::1" or "fd00::10"',
    };
  }
  if (/^[0-9.]+$/.test(s)) {
    if (net.isIPv4(s)) return { input, kind: 'ip', normalized: s };
    return {
      input,
      error: `${q(s)} is not a valid IPv4 address`,
      hint: 'each of the four parts must be a number from 0 to 255, e.g. "192.168.1.20"',
    };
  }
  if (s.includes('/')) {
    return { input, error: `${q(s)} contains "/"`, hint: 'give a host name only, without a path' };
  }
  let name = s.endsWith('.') ? s.slice(0, -1) : s;
  const wildcard = name.startsWith('*.');
  const rest = wildcard ? name.slice(2) : name;
  if (rest.includes('*')) {
    return {
      input,
      error: `${q(s)} has a wildcard in the wrong place`,
      hint: 'a wildcard may only be the whole leftmost label, once: "*.app.test"',
    };
  }
  const ascii = domainToASCII(rest);
  if (!ascii) {
    const label = rest.split('.').find((l) => !domainToASCII(l)) ?? rest;
    return {
      input,
      error: dnsError(label.toLowerCase(), s) ?? `${q(s)} is not a valid host name`,
      hint: 'host names use letters, digits and "-" in dot-separated labels, e.g. "my-app.test"',
    };
  }
  for (const label of ascii.split('.')) {
    const err = dnsError(label, s);
    if (err)
      return {
        input,
        error: err,
        hint: 'host names use letters, digits and "-" in dot-separated labels, e.g. "my-app.test"',
      };
  }
  if (ascii.length > 253)
    return { input, error: `${q(s)} is longer than 253 characters`, hint: 'use a shorter name' };
  name = ascii;
  if (!wildcard) return { input, kind: 'dns', normalized: name };
  // Wildcards: never directly under a public suffix (*.com, *.co.uk): browsers refuse them and a CA must not
  // issue them. Directly under a local-use TLD (*.test) we allow it with a warning.
  const labels = name.split('.');
  if (labels.length === 1 || (labels.length === 2 && LOCAL_TLDS.has(name))) {
    if (LOCAL_TLDS.has(name)) {
      return {
        input,
        kind: 'wildcard',
        normalized: `*.${name}`,
        warning: `browsers may reject ${q('*.' + name)}: a wildcard directly under a top-level name is not honoured by every client; prefer "*.app.${name}"`,
      };
    }
    return {
      input,
      error: `${q(s)} is a wildcard for a whole public suffix (".${name}")`,
      hint: `browsers refuse such certificates; use a wildcard one level lower, e.g. "*.example.${name}", or a local name like "*.app.test"`,
    };
  }
  if (isMultiLabelPublicSuffix(name)) {
    return {
      input,
      error: `${q(s)} is a wildcard for a whole public suffix (".${name}")`,
      hint: `browsers refuse such certificates; use a wildcard one level lower, e.g. "*.example.${name}"`,
    };
  }
  return { input, kind: 'wildcard', normalized: `*.${name}` };
}

// Common multi-label public suffixes (second-level registries). Enough to catch "*.co.uk"-style mistakes
// without shipping the whole Public Suffix List; single-label TLDs are caught above.
const SECOND_LEVEL = new Set([
  'co',
  'com',
  'net',
  'org',
  'gov',
  'edu',
  'ac',
  'or',
  'ne',
  'go',
  'mil',
  'gob',
  'nic',
  'ltd',
  'plc',
  'sch',
]);
function isMultiLabelPublicSuffix(name: string): boolean {
  const labels = name.split('.');
  return (
    labels.length === 2 &&
    SECOND_LEVEL.has(labels[0] as string) &&
    (labels[1] as string).length === 2
  );
}

/** Canonical IPv6 text (lower case, shortest form) via the URL parser. */
/**
 * net.isIPv6 without its regular expression: Node 20 compiles that (very large) expression on the first
 * call, 4-20 ms of every CLI run that checks a name or the CA's default ranges (bench/certs). SocketAddress
 * parses with libuv's inet_pton and accepts the same addresses.
 */
export function isIPv6(s: string): boolean {
  if (!s.includes(':')) return false;
  try {
    new net.SocketAddress({ address: s, family: 'ipv6' });
    return true;
  } catch {
    return false;
  }
}

export function normalizeIPv6(addr: string): string {
  return new URL(`http://[${addr}]/`).hostname.slice(1, -1);
}

/** Bytes of an IP address (4 or 16). */
export function ipBytes(addr: string): Buffer {
  if (net.isIPv4(addr)) return Buffer.from(addr.split('.').map(Number));
  const full = expandIPv6(addr);
  return Buffer.from(full.flatMap((h) => [h >> 8, h & 0xff]));
}

function expandIPv6(addr: string): number[] {
  let a = addr;
  // embedded IPv4 tail (::ffff:1.2.3.4)
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (v4) {
    const b = (v4[1] as string).split('.').map(Number);
    a =
      a.slice(0, -(v4[1] as string).length) +
      `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const missing = 8 - h.length - t.length;
  const parts = tail === undefined ? h : [...h, ...Array(missing).fill('0'), ...t];
  return parts.map((p) => parseInt(p, 16));
}

// ---- Name constraints -------------------------------------------------------------------------------

export type Constraint =
  | { kind: 'dns'; value: string; text: string }
  | { kind: 'ip'; addr: Buffer; mask: Buffer; text: string };

export interface ConstraintCheck {
  input: string;
  constraint?: Constraint;
  error?: string;
  hint?: string;
}

/** Parse one permitted subtree: a DNS name ("localhost", ".test") or a CIDR ("10.0.0.0/8", "fc00::/7"). */
export function parseConstraint(raw: string): ConstraintCheck {
  const s = raw.trim();
  const hint =
    'give a DNS name ("example.test", or ".test" for every name under it) or an address range ("10.0.0.0/8", "fd00::/8")';
  if (!s) return { input: raw, error: 'the permitted name is empty', hint };
  if (s.includes('/')) {
    const [addr, bitsText] = s.split('/') as [string, string];
    const family = net.isIPv4(addr) ? 4 : isIPv6(addr) ? 6 : 0;
    const max = family === 4 ? 32 : 128;
    const bits = /^\d+$/.test(bitsText ?? '') ? Number(bitsText) : NaN;
    if (!family || !Number.isInteger(bits) || bits < 0 || bits > max) {
      return { input: raw, error: `${q(s)} is not a valid address range`, hint };
    }
    const a = ipBytes(addr);
    const mask = Buffer.alloc(a.length);
    for (let i = 0; i < bits; i++) mask[i >> 3]! |= 0x80 >> (i & 7);
    const base = Buffer.from(a.map((b, i) => b & mask[i]!));
    return { input: raw, constraint: { kind: 'ip', addr: base, mask, text: s } };
  }
  if (net.isIPv4(s) || isIPv6(s)) {
    const bits = net.isIPv4(s) ? 32 : 128;
    return parseConstraint(`${s}/${bits}`);
  }
  const lead = s.startsWith('.');
  const c = checkName(lead ? s.slice(1) : s);
  if (c.error || c.kind !== 'dns')
    return { input: raw, error: `${q(s)} is not a valid permitted name`, hint };
  return {
    input: raw,
    constraint: {
      kind: 'dns',
      value: (lead ? '.' : '') + c.normalized,
      text: (lead ? '.' : '') + c.normalized,
    },
  };
}

/**
 * Would a name pass the CA's permitted subtrees? Mirrors RFC 5280 as OpenSSL and Chromium apply it:
 * "example.test" permits itself and its subdomains, ".test" permits only subdomains. Email and URI names
 * are unconstrained by DNS/IP subtrees (no subtree of their type is present).
 */
export function permittedBy(check: NameCheck, constraints: Constraint[]): boolean {
  if (!check.normalized || !check.kind) return false;
  if (check.kind === 'email' || check.kind === 'uri') return true;
  if (check.kind === 'ip') {
    const b = ipBytes(check.normalized);
    return constraints.some(
      (c) =>
        c.kind === 'ip' &&
        c.addr.length === b.length &&
        b.every((x, i) => (x & c.mask[i]!) === c.addr[i]),
    );
  }
  const name = check.kind === 'wildcard' ? check.normalized.slice(2) : check.normalized;
  const needsSub = check.kind === 'wildcard';
  return constraints.some((c) => {
    if (c.kind !== 'dns') return false;
    if (c.value.startsWith('.'))
      return name.endsWith(c.value) || (needsSub && ('.' + name).endsWith(c.value));
    return name === c.value || name.endsWith('.' + c.value);
  });
}
