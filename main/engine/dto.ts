// Engine values -> the contract's plain-JSON shapes. Buffers become base64, and nothing private is
// copied (a CaInfo's DER is dropped; a leaf carries its key's path, never the key).
import type { CaDto, ExportDto, LeafDto } from '../../shared/api';
import type { CaInfo, Exported, LeafInfo } from '../pki';

export function caDto(ca: CaInfo): CaDto {
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

export type { Exported };
