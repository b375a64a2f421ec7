// Engine values -> the contract's plain-JSON shapes. Buffers become base64, and nothing private is
// copied (a CaInfo's DER is dropped; a leaf carries its key's path, never the key).
import type { CaDto, ExportDto, LeafDto } from '../../shared/api';
import { unconstrainedCaWarning } from '../../shared/permits';
import { X509Certificate } from 'node:crypto';
import type { CaInfo, LeafInfo } from '../pki';
import { extensionValue, OID } from '../pki/x509';

const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];
const EKU_NAMES: Record<string, string> = {
  [OID.serverAuth]: 'serverAuth',
  [OID.clientAuth]: 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
};

/** Usages as the certificate states them (read, not assumed from the issuing options). */
export function certUsages(certPem: string): {
  issuer: string;
  keyUsage: string[];
  extKeyUsage: string[];
} {
  const x = new X509Certificate(certPem);
  const keyUsage: string[] = [];
  // The extension value is a DER BIT STRING: 0x03, length, unused-bit count, then the bits (MSB first).
  const ku = extensionValue(x.raw, OID.keyUsage);
  if (ku && ku[0] === 0x03 && ku.length >= 3) {
    const bits = ku.subarray(3);
    KEY_USAGE_BITS.forEach((name, i) => {
      const byte = bits[i >> 3];
      if (byte !== undefined && byte & (0x80 >> (i & 7))) keyUsage.push(name);
    });
  }
  const extKeyUsage = (x.keyUsage ?? []).map((o) => EKU_NAMES[o] ?? o);
  return { issuer: x.issuer.replace(/\n/g, ', '), keyUsage, extKeyUsage };
}

export function caDto(ca: CaInfo): CaDto {
  const warning = unconstrainedCaWarning(ca);
  return {
    fingerprint256: ca.fingerprint256,
    serialHex: ca.serialHex,
    subject: ca.subject,
    commonName: ca.commonName,
    notBefore: ca.notBefore,
    notAfter: ca.notAfter,
    keyType: ca.keyType,
    constrained: ca.constrained,
    permitted: [...ca.permitted],
    source: ca.source,
    certPem: ca.certPem,
    certPath: ca.certPath,
    ...(warning !== undefined ? { warning } : {}),
  };
}

export function leafDto(l: LeafInfo): LeafDto {
  return {
    id: l.id,
    names: [...l.names],
    commonName: l.commonName,
    keyType: l.keyType,
    client: l.client,
    notBefore: l.notBefore,
    notAfter: l.notAfter,
    serialHex: l.serialHex,
    fingerprint256: l.fingerprint256,
    certPem: l.certPem,
    caFingerprint256: l.caFingerprint256,
    certPath: l.certPath,
    keyPath: l.keyPath,
    ...certUsages(l.certPem),
  };
}

/** `isText`: pem/key/fullchain/jsonl/har (DER and PKCS#12 are binary; `.crt` may be either). */
export function exportDto(
  e: { data: Buffer; suggestedName: string; usage: string[]; password?: string },
  isText: boolean,
): ExportDto {
  const out: ExportDto = {
    dataBase64: e.data.toString('base64'),
    suggestedName: e.suggestedName,
    usage: [...e.usage],
  };
  if (isText) out.text = e.data.toString('utf8');
  if (e.password !== undefined) out.password = e.password;
  return out;
}
