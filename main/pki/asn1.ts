// DER building blocks on node-forge's ASN.1 encoder, shared by the certificate builder (x509.ts) and the
// PKCS#12 writer (pkcs12.ts). forge works on binary strings; everything here takes and returns Buffers.
import asn1 from 'node-forge/lib/asn1';
import type forge from 'node-forge';

export type Asn1 = forge.asn1.Asn1;
const C = asn1.Class;
const T = asn1.Type;

export const bin = (b: Buffer): string => b.toString('binary');
export const buf = (s: string): Buffer => Buffer.from(s, 'binary');

export function toDer(node: Asn1): Buffer {
  return buf(asn1.toDer(node).getBytes());
}

/** Parse DER. BIT STRINGs stay opaque: forge would otherwise try to decode their contents as ASN.1. */
export function fromDer(der: Buffer): Asn1 {
  // @types/node-forge declares only the old boolean `strict` argument; forge also takes an options object.
  const parse = asn1.fromDer as unknown as (
    bytes: string,
    opts: { decodeBitStrings: boolean },
  ) => Asn1;
  return parse(bin(der), { decodeBitStrings: false });
}

/** True for a context-specific tag ([0], [3], …), as in a TBSCertificate's optional fields. */
export const isContext = (node: Asn1): boolean => node.tagClass === C.CONTEXT_SPECIFIC;
/** The dotted text of an OBJECT IDENTIFIER node. */
export const oidText = (node: Asn1): string => asn1.derToOid(node.value as string);

export const seq = (items: Asn1[]): Asn1 => asn1.create(C.UNIVERSAL, T.SEQUENCE, true, items);
export const set = (items: Asn1[]): Asn1 => asn1.create(C.UNIVERSAL, T.SET, true, items);
export const oid = (o: string): Asn1 =>
  asn1.create(C.UNIVERSAL, T.OID, false, asn1.oidToDer(o).getBytes());
export const octets = (b: Buffer): Asn1 => asn1.create(C.UNIVERSAL, T.OCTETSTRING, false, bin(b));
export const bool = (v: boolean): Asn1 =>
  asn1.create(C.UNIVERSAL, T.BOOLEAN, false, v ? '\xff' : '\x00');
export const nul = (): Asn1 => asn1.create(C.UNIVERSAL, T.NULL, false, '');
export const utf8 = (s: string): Asn1 =>
  asn1.create(C.UNIVERSAL, T.UTF8, false, Buffer.from(s, 'utf8').toString('binary'));
// forge's DER writer turns each UTF-16 code unit of a BMPSTRING value into two bytes itself, so the value is
// the JS string as is. (Passing it UTF-16BE bytes double-encoded the friendly name: keytool found no alias
// and openssl printed an empty friendlyName.)
export const bmp = (s: string): Asn1 => asn1.create(C.UNIVERSAL, T.BMPSTRING, false, s);
/** A context-specific tag [tag]: constructed (EXPLICIT or IMPLICIT SEQUENCE) or primitive bytes. */
export const ctx = (tag: number, constructed: boolean, value: string | Asn1[]): Asn1 =>
  asn1.create(C.CONTEXT_SPECIFIC, tag, constructed, value);

/** DER INTEGER from unsigned big-endian bytes (adds the leading zero a positive value needs). */
export function integer(bytes: Buffer): Asn1 {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && (b[1]! & 0x80) === 0) b = b.subarray(1);
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return asn1.create(C.UNIVERSAL, T.INTEGER, false, bin(b));
}

/** DER INTEGER from a small non-negative number (versions, iteration counts). */
export function smallInt(n: number): Asn1 {
  const hex = n.toString(16);
  return integer(Buffer.from(hex.length % 2 ? '0' + hex : hex, 'hex'));
}

export function bitString(bytes: Buffer, unusedBits = 0): Asn1 {
  return asn1.create(C.UNIVERSAL, T.BITSTRING, false, String.fromCharCode(unusedBits) + bin(bytes));
}

/** Certificate validity times: UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
export function time(d: Date): Asn1 {
  const iso = d.toISOString(); // 2026-11-22T02:50:22.123Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z'; // 20261122025022Z
  if (d.getUTCFullYear() < 2050) return asn1.create(C.UNIVERSAL, T.UTCTIME, false, digits.slice(2));
  return asn1.create(C.UNIVERSAL, T.GENERALIZEDTIME, false, digits);
}
