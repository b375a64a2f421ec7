// X.509 certificate building: our DER writer (asn1.ts) for the structure, Node's native crypto for keys
// and signatures. Building the TBSCertificate ourselves lets one code path sign with RSA or ECDSA P-256
// through OpenSSL (fast, constant-time) and encode every extension we need (nameConstraints included).
import crypto, { type KeyObject } from 'node:crypto';
import {
  ascii,
  bitString,
  bool,
  bytesOf,
  childrenOf,
  ctx,
  fromDer,
  integer,
  isContext,
  nul,
  octets,
  oid,
  oidText,
  seq,
  set,
  time,
  toDer,
  utf8,
  type Asn1,
} from './asn1';
import { ipBytes } from './names';
import type { Constraint, NameCheck } from './names';

export const OID = {
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  organizationalUnitName: '2.5.4.11',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecPublicKey: '1.2.840.10045.2.1',
} as const;

export type DistinguishedName = Array<[keyof typeof NAME_OIDS, string]>;
const NAME_OIDS = {
  CN: OID.commonName,
  O: OID.organizationName,
  OU: OID.organizationalUnitName,
} as const;

function name(dn: DistinguishedName): Asn1 {
  return seq(dn.map(([k, v]) => set([seq([oid(NAME_OIDS[k]), utf8(v)])])));
}

export interface Extension {
  oid: string;
  critical: boolean;
  value: Asn1;
}

const ext = (o: string, critical: boolean, value: Asn1): Extension => ({ oid: o, critical, value });

export function basicConstraintsCa(pathLen: number): Extension {
  return ext(OID.basicConstraints, true, seq([bool(true), integer(Buffer.from([pathLen]))]));
}

export function basicConstraintsLeaf(): Extension {
  return ext(OID.basicConstraints, true, seq([]));
}

export const KU = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 } as const;

/** keyUsage as a DER BIT STRING with the trailing zero bits trimmed (X.690 11.2.2). */
export function keyUsage(bits: Array<keyof typeof KU>): Extension {
  const positions = bits.map((b) => KU[b]);
  const highest = Math.max(...positions);
  const len = (highest >> 3) + 1;
  const bytes = Buffer.alloc(len);
  for (const p of positions) bytes[p >> 3]! |= 0x80 >> (p & 7);
  const unused = 7 - (highest & 7);
  return ext(OID.keyUsage, true, bitString(bytes, unused));
}

export function extKeyUsage(purposes: string[]): Extension {
  return ext(OID.extKeyUsage, false, seq(purposes.map(oid)));
}

export function subjectKeyIdentifier(id: Buffer): Extension {
  return ext(OID.subjectKeyIdentifier, false, octets(id));
}

export function authorityKeyIdentifier(id: Buffer): Extension {
  return ext(OID.authorityKeyIdentifier, false, seq([ctx(0, false, id)]));
}

function generalName(n: NameCheck): Asn1 {
  const v = n.normalized as string;
  switch (n.kind) {
    case 'dns':
    case 'wildcard':
      return ctx(2, false, ascii(v));
    case 'email':
      return ctx(1, false, ascii(v));
    case 'uri':
      return ctx(6, false, ascii(v));
    case 'ip':
      return ctx(7, false, ipBytes(v));
    default:
      throw new Error(`unclassified name ${JSON.stringify(n.input)}`);
  }
}

export function subjectAltName(names: NameCheck[]): Extension {
  return ext(OID.subjectAltName, false, seq(names.map(generalName)));
}

/**
 * nameConstraints (RFC 5280 4.2.1.10) with permitted subtrees only, marked critical as the RFC requires.
 * GeneralSubtree ::= SEQUENCE { base GeneralName, minimum [0] DEFAULT 0, maximum [1] OPTIONAL }; DER omits
 * the default minimum. IP subtrees are address followed by mask (8 bytes for IPv4, 32 for IPv6).
 */
export function nameConstraints(permitted: Constraint[]): Extension {
  const subtrees = permitted.map((c) =>
    seq([
      c.kind === 'dns'
        ? ctx(2, false, ascii(c.value))
        : ctx(7, false, Buffer.concat([c.addr, c.mask])),
    ]),
  );
  return ext(OID.nameConstraints, true, seq([ctx(0, true, subtrees)]));
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's value. */
export function keyIdentifier(spkiDer: Buffer): Buffer {
  const bits = childrenOf(fromDer(spkiDer))[1] as Asn1;
  const raw = bytesOf(bits).subarray(1); // drop the unused-bits byte
  return crypto.createHash('sha1').update(raw).digest();
}

export function signatureAlgorithm(key: KeyObject): { oid: string; node: Asn1 } {
  const t = key.asymmetricKeyType;
  if (t === 'rsa')
    return {
      oid: OID.sha256WithRSAEncryption,
      node: seq([oid(OID.sha256WithRSAEncryption), nul()]),
    };
  if (t === 'ec') return { oid: OID.ecdsaWithSHA256, node: seq([oid(OID.ecdsaWithSHA256)]) };
  throw new Error(`unsupported signing key type ${JSON.stringify(t)}`);
}

export interface CertificateSpec {
  serial: Buffer;
  issuer: DistinguishedName | Asn1;
  subject: DistinguishedName;
  notBefore: Date;
  notAfter: Date;
  /** SubjectPublicKeyInfo DER of the certified key. */
  spkiDer: Buffer;
  extensions: Extension[];
  /** Issuer's private key. */
  signingKey: KeyObject;
}

/** Build and sign a v3 certificate; returns its DER. */
export function buildCertificate(spec: CertificateSpec): Buffer {
  const alg = signatureAlgorithm(spec.signingKey);
  const issuer = Array.isArray(spec.issuer) ? name(spec.issuer) : spec.issuer;
  const tbs = seq([
    ctx(0, true, [integer(Buffer.from([2]))]), // version v3
    integer(spec.serial),
    alg.node,
    issuer,
    seq([time(spec.notBefore), time(spec.notAfter)]),
    name(spec.subject),
    fromDer(spec.spkiDer),
    ctx(3, true, [
      seq(
        spec.extensions.map((e) =>
          seq([oid(e.oid), ...(e.critical ? [bool(true)] : []), octets(toDer(e.value))]),
        ),
      ),
    ]),
  ]);
  const tbsDer = toDer(tbs);
  // RSA: PKCS#1 v1.5; EC: DER-encoded ECDSA-Sig-Value (Node's default dsaEncoding), as X.509 wants.
  const signature = crypto.sign('sha256', tbsDer, spec.signingKey);
  return toDer(seq([fromDer(tbsDer), alg.node, bitString(signature)]));
}

/** The issuer Name of a certificate we sign with: the CA certificate's own subject, byte for byte. */
export function subjectNameOf(certDer: Buffer): Asn1 {
  const fields = childrenOf(childrenOf(fromDer(certDer))[0] as Asn1);
  // version [0] is present in v3 certificates: subject is the 6th field, else the 5th.
  const offset = isContext(fields[0]!) ? 1 : 0;
  return fields[4 + offset] as Asn1;
}

/** The value (inner DER) of an extension in a certificate, or undefined. */
export function extensionValue(certDer: Buffer, extOid: string): Buffer | undefined {
  const tbs = childrenOf(fromDer(certDer))[0] as Asn1;
  for (const f of childrenOf(tbs)) {
    if (!isContext(f) || f.type !== 3) continue;
    for (const e of childrenOf(childrenOf(f)[0] as Asn1)) {
      const parts = childrenOf(e);
      if (oidText(parts[0]!) === extOid) return Buffer.from(bytesOf(parts[parts.length - 1]!));
    }
  }
  return undefined;
}

/** The subject key identifier of a certificate (from its extension, else computed from its key). */
export function subjectKeyIdOf(certDer: Buffer, spkiDer: Buffer): Buffer {
  const v = extensionValue(certDer, OID.subjectKeyIdentifier);
  if (v) return Buffer.from(bytesOf(fromDer(v)));
  return keyIdentifier(spkiDer);
}

/** Permitted DNS/IP subtrees of a CA certificate's nameConstraints, as text ("localhost", "10.0.0.0/8"). */
export function permittedSubtreesOf(certDer: Buffer): string[] | undefined {
  const v = extensionValue(certDer, OID.nameConstraints);
  if (!v) return undefined;
  const out: string[] = [];
  for (const part of childrenOf(fromDer(v))) {
    if (part.type !== 0) continue; // [0] permittedSubtrees
    for (const sub of childrenOf(part)) {
      const base = childrenOf(sub)[0] as Asn1;
      if (base.type === 2) out.push(bytesOf(base).toString('latin1'));
      else if (base.type === 7) out.push(ipRangeText(bytesOf(base)));
    }
  }
  return out;
}

function ipRangeText(b: Buffer): string {
  const half = b.length / 2;
  const addr = b.subarray(0, half);
  const mask = b.subarray(half);
  let bits = 0;
  for (const x of mask) for (let i = 7; i >= 0; i--) if (x & (1 << i)) bits++;
  if (half === 4) return `${[...addr].join('.')}/${bits}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((addr[i]! << 8) | addr[i + 1]!).toString(16));
  return `${new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1)}/${bits}`;
}

export function randomSerial(): Buffer {
  // 128 random bits; positive (top bit clear) and never starting with a zero byte so DER keeps 16 bytes.
  const b = crypto.randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b;
}
