// PKCS#12 (RFC 7292) writer for one private key, its certificate and the CA certificate.
//
// Modern (default), what `openssl pkcs12 -export` writes in OpenSSL 3 and what OpenSSL 3, Node, Java 11.0.12+
// and Windows 10+ read without OpenSSL's legacy provider: PBES2 (PBKDF2 with HMAC-SHA-256, AES-256-CBC) for
// the key bag and the certificate bag, and an HMAC-SHA-256 MAC (RFC 9579).
// Legacy (`--legacy`), for Windows 7/Server 2012 and Java 8: pbeWithSHAAnd3-KeyTripleDES-CBC for both bags and an
// HMAC-SHA-1 MAC. (OpenSSL's own -legacy uses RC2-40 for certificates, which needs its legacy provider to
// read back; 3DES is read everywhere.)
//
// forge's pkcs12 writer only takes forge RSA key objects, and our keys may be ECDSA and live in Node's
// crypto, so the structure is assembled here with our DER writer (asn1.ts) and encrypted with Node's crypto.
import crypto from 'node:crypto';
import {
  bmp,
  ctx,
  fromDer,
  nul,
  octets,
  oid,
  seq,
  set,
  smallInt as int,
  toDer,
  type Asn1,
} from './asn1';

const OIDS = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacWithSHA256: '1.2.840.113549.2.9',
  aes256CBC: '2.16.840.1.101.3.4.1.42',
  pbeWithSHAAnd3DES: '1.2.840.113549.1.12.1.3',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha1: '1.3.14.3.2.26',
} as const;

const explicit0 = (inner: Asn1): Asn1 => ctx(0, true, [inner]);

/** UTF-16BE with the two-byte NUL terminator PKCS#12's KDF expects. */
function bmpPassword(s: string): Buffer {
  const le = Buffer.from(s, 'utf16le');
  const be = Buffer.alloc(le.length);
  for (let i = 0; i < le.length; i += 2) {
    be[i] = le[i + 1]!;
    be[i + 1] = le[i]!;
  }
  return Buffer.concat([be, Buffer.alloc(2)]);
}

/** RFC 7292 appendix B.2 key derivation (used for the MAC key, and for keys/IVs in legacy mode). */
export function pkcs12Kdf(
  password: string,
  salt: Buffer,
  id: 1 | 2 | 3,
  iterations: number,
  length: number,
  hash: 'sha1' | 'sha256',
): Buffer {
  const u = hash === 'sha1' ? 20 : 32;
  const v = 64;
  const pw = bmpPassword(password);
  const D = Buffer.alloc(v, id);
  const fill = (src: Buffer): Buffer => {
    if (src.length === 0) return Buffer.alloc(0);
    const out = Buffer.alloc(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const I = Buffer.concat([fill(salt), fill(pw)]);
  const blocks: Buffer[] = [];
  for (let done = 0; done < length; done += u) {
    let A = crypto.createHash(hash).update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = crypto.createHash(hash).update(A).digest();
    blocks.push(A);
    const B = Buffer.alloc(v);
    for (let i = 0; i < v; i++) B[i] = A[i % u]!;
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const x = I[j + k]! + B[k]! + carry;
        I[j + k] = x & 0xff;
        carry = x >> 8;
      }
    }
  }
  return Buffer.concat(blocks).subarray(0, length);
}

interface Encrypted {
  algorithm: Asn1;
  data: Buffer;
}

const ITERATIONS = 2048;

function encryptPbes2(plain: Buffer, password: string): Encrypted {
  const salt = crypto.randomBytes(16);
  const iv = crypto.randomBytes(16);
  const key = crypto.pbkdf2Sync(Buffer.from(password, 'utf8'), salt, ITERATIONS, 32, 'sha256');
  const c = crypto.createCipheriv('aes-256-cbc', key, iv);
  const data = Buffer.concat([c.update(plain), c.final()]);
  const algorithm = seq([
    oid(OIDS.pbes2),
    seq([
      seq([
        oid(OIDS.pbkdf2),
        seq([octets(salt), int(ITERATIONS), seq([oid(OIDS.hmacWithSHA256), nul()])]),
      ]),
      seq([oid(OIDS.aes256CBC), octets(iv)]),
    ]),
  ]);
  return { algorithm, data };
}

function encrypt3des(plain: Buffer, password: string): Encrypted {
  const salt = crypto.randomBytes(8);
  const key = pkcs12Kdf(password, salt, 1, ITERATIONS, 24, 'sha1');
  const iv = pkcs12Kdf(password, salt, 2, ITERATIONS, 8, 'sha1');
  const c = crypto.createCipheriv('des-ede3-cbc', key, iv);
  const data = Buffer.concat([c.update(plain), c.final()]);
  return {
    algorithm: seq([oid(OIDS.pbeWithSHAAnd3DES), seq([octets(salt), int(ITERATIONS)])]),
    data,
  };
}

export interface Pkcs12Input {
  /** PKCS#8 DER of the private key (unencrypted). */
  keyPkcs8Der: Buffer;
  certDer: Buffer;
  caCertDers: Buffer[];
  password: string;
  friendlyName: string;
  legacy?: boolean;
}

export function buildPkcs12(input: Pkcs12Input): Buffer {
  const enc = input.legacy ? encrypt3des : encryptPbes2;
  const localKeyId = crypto.createHash('sha1').update(input.certDer).digest();
  const attrs = (withName: boolean): Asn1 =>
    set([
      ...(withName ? [seq([oid(OIDS.friendlyName), set([bmp(input.friendlyName)])])] : []),
      seq([oid(OIDS.localKeyId), set([octets(localKeyId)])]),
    ]);

  const certBag = (der: Buffer, withAttrs: boolean): Asn1 =>
    seq([
      oid(OIDS.certBag),
      explicit0(seq([oid(OIDS.x509Certificate), explicit0(octets(der))])),
      ...(withAttrs ? [attrs(true)] : []),
    ]);
  const certSafe = toDer(
    seq([certBag(input.certDer, true), ...input.caCertDers.map((d) => certBag(d, false))]),
  );
  const certEnc = enc(certSafe, input.password);
  const certInfo = seq([
    oid(OIDS.encryptedData),
    explicit0(seq([int(0), seq([oid(OIDS.data), certEnc.algorithm, ctx(0, false, certEnc.data)])])),
  ]);

  const keyEnc = enc(input.keyPkcs8Der, input.password);
  const keyBag = seq([
    oid(OIDS.pkcs8ShroudedKeyBag),
    explicit0(seq([keyEnc.algorithm, octets(keyEnc.data)])),
    attrs(true),
  ]);
  const keyInfo = seq([oid(OIDS.data), explicit0(octets(toDer(seq([keyBag]))))]);

  const authSafe = toDer(seq([certInfo, keyInfo]));
  const hash = input.legacy ? 'sha1' : 'sha256';
  const macSalt = crypto.randomBytes(input.legacy ? 8 : 16);
  const macKey = pkcs12Kdf(input.password, macSalt, 3, ITERATIONS, hash === 'sha1' ? 20 : 32, hash);
  const mac = crypto.createHmac(hash, macKey).update(authSafe).digest();
  const pfx = seq([
    int(3),
    seq([oid(OIDS.data), explicit0(octets(authSafe))]),
    seq([
      seq([seq([oid(hash === 'sha1' ? OIDS.sha1 : OIDS.sha256), nul()]), octets(mac)]),
      octets(macSalt),
      int(ITERATIONS),
    ]),
  ]);
  return toDer(pfx);
}

// Re-exported so tests can parse what we wrote.
export { fromDer };
