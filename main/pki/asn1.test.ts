// Our DER writer and reader (asn1.ts) against node-forge's ASN.1 module, which wrote every certificate and
// PKCS#12 file before: each constructor gives the bytes forge gave, forge reads back exactly what we wrote,
// and we read exactly what forge and OpenSSL wrote.
import { describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import forgeAsn1 from 'node-forge/lib/asn1';
import type forge from 'node-forge';
import {
  bitString,
  bmp,
  bool,
  ctx,
  fromDer,
  integer,
  nul,
  octets,
  oid,
  oidText,
  seq,
  set,
  smallInt,
  time,
  toDer,
  utf8,
  type Asn1,
} from './asn1';
import fs from 'node:fs';
import path from 'node:path';
import { opensslLeaf, tempDir } from '../../e2e/helpers/tools';
import { opensslRootCa } from '../trust/testing';

const F = forgeAsn1;
const bin = (b: Buffer) => b.toString('binary');
const forgeDer = (n: forge.asn1.Asn1): Buffer => Buffer.from(F.toDer(n).getBytes(), 'binary');

/** The same node built with forge's encoder, the way asn1.ts built it before (binary strings). */
function viaForge(n: Asn1): forge.asn1.Asn1 {
  // forge's BMPSTRING value is the JS string (it writes the UTF-16BE bytes itself).
  const bmpText = (b: Buffer) => Buffer.from(b).swap16().toString('utf16le');
  const value = Array.isArray(n.value)
    ? n.value.map(viaForge)
    : n.type === F.Type.BMPSTRING && n.tagClass === 0
      ? bmpText(n.value)
      : bin(n.value);
  return F.create(n.tagClass, n.type, n.constructed, value);
}

const OIDS = [
  '2.5.4.3',
  '1.2.840.113549.1.1.11',
  '1.2.840.10045.4.3.2',
  '1.3.6.1.5.5.7.3.1',
  '2.16.840.1.101.3.4.1.42',
  '1.2.840.113549.1.9.22.1',
  '2.999.16384.2097151.4294967295', // multi-byte arcs (forge stops at 32 bits) and a first arc of 2 over 79
  '0.9.2342.19200300.100.1.1',
];

describe('DER writer: byte for byte what forge wrote', () => {
  const lengths = [0, 1, 127, 128, 255, 256, 65535, 65536, 70000];
  const cases: Array<[string, Asn1, forge.asn1.Asn1]> = [
    ...OIDS.map((o): [string, Asn1, forge.asn1.Asn1] => [
      `oid ${o}`,
      oid(o),
      F.create(0, F.Type.OID, false, F.oidToDer(o).getBytes()),
    ]),
    ...lengths.map((n): [string, Asn1, forge.asn1.Asn1] => {
      const b = crypto.randomBytes(n);
      return [`octets of ${n} bytes`, octets(b), F.create(0, F.Type.OCTETSTRING, false, bin(b))];
    }),
    ['bool true', bool(true), F.create(0, F.Type.BOOLEAN, false, '\xff')],
    ['bool false', bool(false), F.create(0, F.Type.BOOLEAN, false, '\x00')],
    ['null', nul(), F.create(0, F.Type.NULL, false, '')],
    [
      'utf8 with non-ASCII',
      utf8('Zoë – 東京 🔒'),
      F.create(0, F.Type.UTF8, false, Buffer.from('Zoë – 東京 🔒').toString('binary')),
    ],
    // forge turned each UTF-16 code unit of a BMPSTRING value into two bytes itself.
    ['bmp', bmp('café.test ü 東 🔒'), F.create(0, F.Type.BMPSTRING, false, 'café.test ü 東 🔒')],
    [
      'context [2] primitive',
      ctx(2, false, Buffer.from('app.test')),
      F.create(F.Class.CONTEXT_SPECIFIC, 2, false, 'app.test'),
    ],
    [
      'context [0] constructed',
      ctx(0, true, [smallInt(2)]),
      F.create(F.Class.CONTEXT_SPECIFIC, 0, true, [F.create(0, F.Type.INTEGER, false, '\x02')]),
    ],
  ];
  it.each(cases)('%s', (_name, ours, theirs) => {
    expect(toDer(ours).toString('hex')).toBe(forgeDer(theirs).toString('hex'));
    expect(toDer(ours).toString('hex')).toBe(forgeDer(viaForge(ours)).toString('hex'));
  });

  it('integers: leading zeros trimmed, a zero added before a high bit', () => {
    const vals = [
      '00',
      '7f',
      '80',
      'ff',
      '0000ff',
      '00007f01',
      '01' + '00'.repeat(20),
      'ff'.repeat(16),
    ];
    const want = [
      '00',
      '7f',
      '0080',
      '00ff',
      '00ff',
      '7f01',
      '01' + '00'.repeat(20),
      '00' + 'ff'.repeat(16),
    ];
    vals.forEach((v, i) => {
      const der = toDer(integer(Buffer.from(v, 'hex')));
      expect(der.subarray(2).toString('hex'), v).toBe(want[i]);
      expect(der[0]).toBe(0x02);
    });
    for (const n of [0, 1, 127, 128, 255, 256, 2048, 65537]) {
      const der = toDer(smallInt(n));
      expect(BigInt('0x' + der.subarray(2).toString('hex'))).toBe(BigInt(n));
      expect(der.toString('hex')).toBe(forgeDer(viaForge(smallInt(n))).toString('hex'));
    }
  });

  it('times: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280)', () => {
    expect(toDer(time(new Date('2049-12-31T23:59:59.999Z'))).toString('latin1')).toBe(
      '\x17\x0d491231235959Z',
    );
    expect(toDer(time(new Date('2050-01-01T00:00:00Z'))).toString('latin1')).toBe(
      '\x18\x0f20500101000000Z',
    );
  });

  it('a nested structure, and forge reads back exactly what we wrote', () => {
    const tree = seq([
      set([seq([oid('2.5.4.3'), utf8('x'.repeat(300))])]),
      bitString(crypto.randomBytes(65), 0),
      bitString(Buffer.from([0x86]), 1),
      ctx(3, true, [seq([seq([oid('2.5.29.19'), bool(true), octets(toDer(seq([])))])])]),
    ]);
    const der = toDer(tree);
    expect(der.toString('hex')).toBe(forgeDer(viaForge(tree)).toString('hex'));
    const back = F.fromDer(bin(der), { decodeBitStrings: false } as unknown as boolean);
    expect(forgeDer(back).toString('hex')).toBe(der.toString('hex'));
  });
});

describe('DER reader', () => {
  it('reads what OpenSSL wrote the way forge does, and writes it back unchanged', () => {
    const tmp = tempDir('wss-asn1-');
    try {
      const caKey = path.join(tmp.dir, 'ca.key');
      const caCert = path.join(tmp.dir, 'ca.pem');
      opensslRootCa(caKey, caCert, '/CN=reader test CA');
      const { cert } = opensslLeaf(tmp.dir, caCert, caKey, 'app.test');
      const der = new crypto.X509Certificate(fs.readFileSync(cert)).raw;
      const ours = fromDer(der);
      const theirs = F.fromDer(bin(der), { decodeBitStrings: false } as unknown as boolean);
      const shape = (n: Asn1): unknown =>
        Array.isArray(n.value)
          ? [n.tagClass, n.type, n.value.map(shape)]
          : [n.tagClass, n.type, n.value.toString('hex')];
      const forgeShape = (n: forge.asn1.Asn1): unknown =>
        Array.isArray(n.value)
          ? [n.tagClass, n.type, n.value.map(forgeShape)]
          : [n.tagClass, n.type, Buffer.from(n.value, 'binary').toString('hex')];
      expect(shape(ours)).toEqual(forgeShape(theirs));
      expect(toDer(ours).equals(der)).toBe(true);
      // Rebuilt from the parsed values alone (no kept DER), the bytes are the same too.
      const strip = (n: Asn1): Asn1 => ({
        tagClass: n.tagClass,
        type: n.type,
        constructed: n.constructed,
        value: Array.isArray(n.value) ? n.value.map(strip) : n.value,
      });
      expect(toDer(strip(ours)).equals(der)).toBe(true);
    } finally {
      tmp.cleanup();
    }
  });

  it('OIDs round-trip', () => {
    for (const o of OIDS) expect(oidText(fromDer(toDer(oid(o))))).toBe(o);
  });

  it.each([
    ['truncated', '3005020101', /length 5 past the end/],
    ['indefinite length', '3080020101 0000', /indefinite length/],
    ['bytes after the value', '020101 00', /1 bytes after the DER value/],
    ['empty input', '', /missing tag/],
    ['a child past its parent', '3003 020201', /past the end/],
  ])('refuses %s', (_name, hex, error) => {
    expect(() => fromDer(Buffer.from(hex.replace(/ /g, ''), 'hex'))).toThrow(error);
  });
});
