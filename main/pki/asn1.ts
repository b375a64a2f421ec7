// DER (X.690) building blocks on Buffers, shared by the certificate builder (x509.ts) and the PKCS#12 writer
// (pkcs12.ts). Our own small writer and reader instead of node-forge's ASN.1 module: forge (its util, asn1,
// oids and baseN modules) cost several milliseconds of every "cert issue" just to load, for the few node
// types a certificate needs. asn1.test.ts checks every constructor byte for byte against forge's encoder.

/** Tag classes as they appear in the identifier octet. */
export const CLASS = { UNIVERSAL: 0x00, CONTEXT: 0x80 } as const;
/** Universal tag numbers used here. */
export const TAG = {
  BOOLEAN: 1,
  INTEGER: 2,
  BITSTRING: 3,
  OCTETSTRING: 4,
  NULL: 5,
  OID: 6,
  UTF8: 12,
  SEQUENCE: 16,
  SET: 17,
  UTCTIME: 23,
  GENERALIZEDTIME: 24,
  BMPSTRING: 30,
} as const;

export interface Asn1 {
  tagClass: number;
  /** The tag number ([n] for context-specific tags). */
  type: number;
  constructed: boolean;
  /** Primitive: the content octets. Constructed: the children. */
  value: Buffer | Asn1[];
  /** Set on parsed nodes: the node's own DER, written back as it was (an issuer Name, a public key). */
  der?: Buffer;
}

function node(tagClass: number, type: number, constructed: boolean, value: Buffer | Asn1[]): Asn1 {
  return { tagClass, type, constructed, value };
}

function lengthOctets(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let x = n; x > 0; x = Math.floor(x / 256)) bytes.unshift(x % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function toDer(n: Asn1): Buffer {
  if (n.der) return n.der;
  if (n.type > 30) throw new Error(`ASN.1 tag number ${n.type} is not supported`);
  const content = Array.isArray(n.value) ? Buffer.concat(n.value.map(toDer)) : n.value;
  const id = n.tagClass | (n.constructed ? 0x20 : 0) | n.type;
  return Buffer.concat([Buffer.from([id]), lengthOctets(content.length), content]);
}

/**
 * Parse one DER node, the whole input. Strict: definite lengths only, no bytes after the node. BIT and
 * OCTET STRINGs stay opaque (their content is not parsed as ASN.1).
 */
export function fromDer(der: Buffer): Asn1 {
  const { node: n, end } = parseAt(der, 0, der.length, 0);
  if (end !== der.length) throw new Error(`ASN.1: ${der.length - end} bytes after the DER value`);
  return n;
}

function parseAt(
  der: Buffer,
  start: number,
  limit: number,
  depth: number,
): { node: Asn1; end: number } {
  if (depth > 32) throw new Error('ASN.1: nested too deeply');
  const fail = (what: string): never => {
    throw new Error(`ASN.1: ${what} at byte ${start}`);
  };
  let p = start;
  if (p >= limit) fail('missing tag');
  const id = der[p++]!;
  let type = id & 0x1f;
  if (type === 0x1f) {
    type = 0;
    let b: number;
    do {
      if (p >= limit) fail('truncated tag');
      b = der[p++]!;
      type = type * 128 + (b & 0x7f);
    } while (b & 0x80);
  }
  if (p >= limit) fail('missing length');
  let len = der[p++]!;
  if (len === 0x80) fail('indefinite length (not DER)');
  if (len > 0x80) {
    const count = len & 0x7f;
    if (count > 4 || p + count > limit) fail('bad length');
    len = 0;
    for (let i = 0; i < count; i++) len = len * 256 + der[p++]!;
  }
  const end = p + len;
  if (end > limit) fail(`length ${len} past the end of its container`);
  const constructed = (id & 0x20) !== 0;
  let value: Buffer | Asn1[];
  if (constructed) {
    const children: Asn1[] = [];
    for (let q = p; q < end;) {
      const c = parseAt(der, q, end, depth + 1);
      children.push(c.node);
      q = c.end;
    }
    value = children;
  } else {
    value = der.subarray(p, end);
  }
  return {
    node: { ...node(id & 0xc0, type, constructed, value), der: der.subarray(start, end) },
    end,
  };
}

/** True for a context-specific tag ([0], [3], …), as in a TBSCertificate's optional fields. */
export const isContext = (n: Asn1): boolean => n.tagClass === CLASS.CONTEXT;
/** The content octets of a primitive node. */
export const bytesOf = (n: Asn1): Buffer => {
  if (Array.isArray(n.value)) throw new Error('ASN.1: expected a primitive value');
  return n.value;
};
/** The children of a constructed node. */
export const childrenOf = (n: Asn1): Asn1[] => {
  if (!Array.isArray(n.value)) throw new Error('ASN.1: expected a constructed value');
  return n.value;
};

/** The dotted text of an OBJECT IDENTIFIER node. */
export function oidText(n: Asn1): string {
  const b = bytesOf(n);
  const arcs: number[] = [];
  let x = 0;
  for (const byte of b) {
    x = x * 128 + (byte & 0x7f);
    if (byte & 0x80) continue;
    if (arcs.length === 0) {
      const first = x < 80 ? Math.floor(x / 40) : 2;
      arcs.push(first, x - first * 40);
    } else arcs.push(x);
    x = 0;
  }
  return arcs.join('.');
}

function oidBytes(o: string): Buffer {
  const arcs = o.split('.').map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) {
    throw new Error(`invalid OID ${JSON.stringify(o)}`);
  }
  const out: number[] = [];
  const push = (n: number) => {
    const groups = [n % 128];
    for (let x = Math.floor(n / 128); x > 0; x = Math.floor(x / 128))
      groups.unshift(0x80 | (x % 128));
    out.push(...groups);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  return Buffer.from(out);
}

const U = CLASS.UNIVERSAL;
export const seq = (items: Asn1[]): Asn1 => node(U, TAG.SEQUENCE, true, items);
export const set = (items: Asn1[]): Asn1 => node(U, TAG.SET, true, items);
export const oid = (o: string): Asn1 => node(U, TAG.OID, false, oidBytes(o));
export const octets = (b: Buffer): Asn1 => node(U, TAG.OCTETSTRING, false, b);
export const bool = (v: boolean): Asn1 => node(U, TAG.BOOLEAN, false, Buffer.from([v ? 0xff : 0]));
export const nul = (): Asn1 => node(U, TAG.NULL, false, Buffer.alloc(0));
export const utf8 = (s: string): Asn1 => node(U, TAG.UTF8, false, Buffer.from(s, 'utf8'));
/** BMPString: each UTF-16 code unit as two bytes, big-endian (what keytool and openssl read back). */
export const bmp = (s: string): Asn1 =>
  node(U, TAG.BMPSTRING, false, Buffer.from(s, 'utf16le').swap16());
/** A context-specific tag [tag]: constructed (EXPLICIT or IMPLICIT SEQUENCE) or primitive bytes. */
export const ctx = (tag: number, constructed: boolean, value: Buffer | Asn1[]): Asn1 =>
  node(CLASS.CONTEXT, tag, constructed, value);
/** The bytes of an IA5String-like value (host names, URIs, emails: ASCII after normalization). */
export const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');

/** DER INTEGER from unsigned big-endian bytes (adds the leading zero a positive value needs). */
export function integer(bytes: Buffer): Asn1 {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && (b[1]! & 0x80) === 0) b = b.subarray(1);
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return node(U, TAG.INTEGER, false, b);
}

/** DER INTEGER from a small non-negative number (versions, iteration counts). */
export function smallInt(n: number): Asn1 {
  const hex = n.toString(16);
  return integer(Buffer.from(hex.length % 2 ? '0' + hex : hex, 'hex'));
}

export function bitString(bytes: Buffer, unusedBits = 0): Asn1 {
  return node(U, TAG.BITSTRING, false, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

/** Certificate validity times: UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
export function time(d: Date): Asn1 {
  const iso = d.toISOString(); // 2026-11-22T02:50:22.123Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z'; // 20261122025022Z
  if (d.getUTCFullYear() < 2050) return node(U, TAG.UTCTIME, false, ascii(digits.slice(2)));
  return node(U, TAG.GENERALIZEDTIME, false, ascii(digits));
}
