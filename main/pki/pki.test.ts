// The certificate engine against real OpenSSL and Node's TLS stack.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { openStore, type Store } from '../store';
import {
  createCa,
  exportCa,
  exportLeaf,
  issueLeaf,
  listLeaves,
  renewLeaf,
  deleteLeaf,
  getLeaf,
  readLeafKeyPem,
  loadCa,
} from './index';
import { opensslLeaf, runTool, tempDir, snapshotTree } from '../../e2e/helpers/tools';

function openssl(args: string[], input?: string) {
  return runTool('openssl', args, input !== undefined ? { input } : {});
}

async function handshake(
  certPem: string,
  keyPem: string,
  caPem: string,
  servername: string,
  host = '127.0.0.1',
) {
  const server = https.createServer({ cert: certPem, key: keyPem }, (_q, s) =>
    s.end('hello over tls'),
  );
  await new Promise<void>((r) => server.listen(0, host, r));
  const port = (server.address() as AddressInfo).port;
  try {
    return await new Promise<string>((resolve, reject) => {
      const req = https.get(
        { host, port, servername, ca: caPem, path: '/', headers: { host: servername } },
        (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve(body));
        },
      );
      req.on('error', reject);
    });
  } finally {
    server.close();
  }
}

describe.each(['ecdsa', 'rsa'] as const)('with an %s CA', (caKey) => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;

  beforeAll(async () => {
    tmp = tempDir();
    store = openStore(path.join(tmp.dir, 'home'));
    await createCa(store, { keyType: caKey });
  });
  afterAll(() => tmp.cleanup());

  it('writes a CA that OpenSSL reads with every required extension', () => {
    const ca = loadCa(store)!;
    const text = openssl(['x509', '-in', ca.certPath, '-noout', '-text']).stdout;
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(text).toMatch(/X509v3 Subject Key Identifier/);
    expect(text).toMatch(
      /X509v3 Name Constraints: critical\s+Permitted:\s+DNS:localhost\s+DNS:\.localhost\s+DNS:\.test/,
    );
    expect(text).toMatch(/IP:127\.0\.0\.0\/255\.0\.0\.0/);
    expect(text).toMatch(/IP:FC00:0:0:0:0:0:0:0\/FE00:0:0:0:0:0:0:0/);
    expect(text).toMatch(
      /Subject: O ?= ?WSS Studio development CA, OU ?= ?\S+@\S+, CN ?= ?WSS Studio /,
    );
    expect(text).toMatch(caKey === 'rsa' ? /Public-Key: \(3072 bit\)/ : /ASN1 OID: prime256v1/);
    // 128-bit serial, 10-year validity
    expect(ca.serialHex.replace(/^0+/, '').length).toBeGreaterThanOrEqual(31);
    const years = (Date.parse(ca.notAfter) - Date.parse(ca.notBefore)) / (365.25 * 86_400_000);
    expect(years).toBeGreaterThan(9.99);
    expect(years).toBeLessThan(10.01);
    // key 0600 in a 0700 folder
    expect(fs.statSync(store.caDir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(store.caDir, 'ca-key.pem')).mode & 0o777).toBe(0o600);
  });

  it.each(['ecdsa', 'rsa'] as const)(
    'issues a %s leaf that openssl verify accepts, with every extension',
    async (leafKey) => {
      const { leaf } = await issueLeaf(store, {
        names: [
          'localhost',
          '127.0.0.1',
          '::1',
          '*.app.test',
          'café.test',
          'dev@app.test',
          'uri:spiffe://app.test/web',
        ],
        keyType: leafKey,
        client: leafKey === 'rsa',
        days: 30,
      });
      const ca = loadCa(store)!;
      const v = openssl(['verify', '-CAfile', ca.certPath, leaf.certPath]);
      expect(v.stdout + v.stderr).toMatch(/: OK/);
      const text = openssl(['x509', '-in', leaf.certPath, '-noout', '-text']).stdout;
      expect(text).toMatch(/Subject: .*CN ?= ?localhost/);
      expect(text).toMatch(
        /DNS:localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1, DNS:\*\.app\.test, DNS:xn--caf-dma\.test, email:dev@app\.test, URI:spiffe:\/\/app\.test\/web/,
      );
      expect(text).toMatch(
        leafKey === 'rsa'
          ? /X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment/
          : /X509v3 Key Usage: critical\s+Digital Signature\n/,
      );
      expect(text).toMatch(
        leafKey === 'rsa'
          ? /Extended Key Usage: \s*TLS Web Server Authentication, TLS Web Client Authentication, E-mail Protection\n/
          : /Extended Key Usage: \s*TLS Web Server Authentication, E-mail Protection\n/,
      );
      expect(text).toMatch(/X509v3 Authority Key Identifier/);
      expect(text).toMatch(/X509v3 Subject Key Identifier/);
      expect(text).toMatch(leafKey === 'rsa' ? /Public-Key: \(2048 bit\)/ : /prime256v1/);
      const days = (Date.parse(leaf.notAfter) - Date.parse(leaf.notBefore)) / 86_400_000;
      expect(days).toBe(30);
      expect(fs.statSync(leaf.keyPath).mode & 0o777).toBe(0o600);
      // The SKI OpenSSL computes from the key equals ours, and the leaf's AKI equals the CA's SKI.
      const caText = openssl(['x509', '-in', ca.certPath, '-noout', '-text']).stdout;
      const caSki = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(caText)?.[1];
      const aki = /Authority Key Identifier:\s+(?:keyid:)?([0-9A-F:]+)/.exec(text)?.[1];
      expect(caSki).toMatch(/^[0-9A-F:]{59}$/);
      expect(aki).toBe(caSki);
    },
  );

  it('adds emailProtection only for email names: openssl cms verifies S/MIME with it and refuses without', async () => {
    const ca = loadCa(store)!;
    const msg = path.join(tmp.dir, 'msg.txt');
    fs.writeFileSync(msg, 'signed mail\n');
    for (const [names, ok] of [
      [['dev@app.test', 'mail.test'], true],
      [['mail.test'], false],
    ] as const) {
      const { leaf } = await issueLeaf(store, { names: [...names] });
      const text = openssl([
        'x509',
        '-in',
        leaf.certPath,
        '-noout',
        '-ext',
        'extendedKeyUsage',
      ]).stdout;
      expect(/E-mail Protection/.test(text), text).toBe(ok);
      const signed = path.join(tmp.dir, `signed-${ok}.p7m`);
      const sign = openssl([
        'cms',
        '-sign',
        '-in',
        msg,
        '-signer',
        leaf.certPath,
        '-inkey',
        leaf.keyPath,
        '-out',
        signed,
      ]);
      expect(sign.status, sign.stderr).toBe(0);
      const verify = openssl([
        'cms',
        '-verify',
        '-in',
        signed,
        '-CAfile',
        ca.certPath,
        '-out',
        '/dev/null',
      ]);
      expect(verify.status === 0, verify.stderr).toBe(ok);
      if (!ok) expect(verify.stderr).toMatch(/unsuitable certificate purpose/);
    }
  });

  it('issues IP-only leaves that openssl verify accepts under the name constraints (no CN to misread)', async () => {
    const ca = loadCa(store)!;
    for (const names of [['127.0.0.1'], ['::1'], ['192.168.1.20', '10.1.2.3']]) {
      const { leaf } = await issueLeaf(store, { names });
      const v = openssl(['verify', '-CAfile', ca.certPath, leaf.certPath]);
      expect(v.stdout + v.stderr, names.join(' ')).toMatch(/: OK/);
      expect(openssl(['x509', '-in', leaf.certPath, '-noout', '-subject']).stdout).not.toMatch(
        /CN ?=/,
      );
    }
  });

  it('serves TLS to a Node client that trusts only the CA, for a DNS name and an IP', async () => {
    const { leaf } = await issueLeaf(store, { names: ['localhost', '127.0.0.1'] });
    const key = readLeafKeyPem(store, leaf.id);
    const ca = loadCa(store)!;
    expect(await handshake(leaf.certPem, key, ca.certPem, 'localhost')).toBe('hello over tls');
    // and a client that does not trust our CA refuses it
    await expect(
      handshake(leaf.certPem, key, tls.rootCertificates.join('\n'), 'localhost'),
    ).rejects.toThrow(/self.signed|unable to (get|verify)/i);
  });

  it('exports PKCS#12 that openssl (no legacy provider) and Node read, and a --legacy one', async () => {
    const { leaf } = await issueLeaf(store, { names: ['p12.test'] });
    for (const legacy of [false, true]) {
      const e = exportLeaf(store, leaf.id, 'p12', { password: 's3cret pw', legacy });
      const file = path.join(tmp.dir, `x-${legacy}.p12`);
      fs.writeFileSync(file, e.data);
      const info = openssl(['pkcs12', '-in', file, '-info', '-noout', '-passin', 'pass:s3cret pw']);
      expect(info.status, info.stderr).toBe(0);
      const all = info.stdout + info.stderr;
      expect(all).toMatch(
        legacy ? /pbeWithSHA1And3-KeyTripleDES-CBC/ : /PBES2, PBKDF2, AES-256-CBC/,
      );
      expect(all).toMatch(legacy ? /MAC: sha1/ : /MAC: sha256/);
      const certs = openssl(['pkcs12', '-in', file, '-nokeys', '-passin', 'pass:s3cret pw']).stdout;
      expect(certs.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
      const wrong = openssl(['pkcs12', '-in', file, '-info', '-noout', '-passin', 'pass:nope']);
      expect(wrong.status).not.toBe(0);
      if (!legacy) {
        const ctx = tls.createSecureContext({ pfx: e.data, passphrase: 's3cret pw' });
        expect(ctx).toBeTruthy();
        expect(() => tls.createSecureContext({ pfx: e.data, passphrase: 'nope' })).toThrow(
          /mac verify failure/i,
        );
      }
    }
    // default password is mkcert's "changeit", and is reported
    const d = exportLeaf(store, leaf.id, 'p12');
    expect(d.password).toBe('changeit');
    expect(() => tls.createSecureContext({ pfx: d.data, passphrase: 'changeit' })).not.toThrow();
    expect(d.usage.join('\n')).toMatch(/NODE_EXTRA_CA_CERTS=.*ca\.pem node app\.js/);
  });

  it('exports pem, key, fullchain, der and the CA in pem and der', async () => {
    const { leaf } = await issueLeaf(store, { names: ['formats.test'] });
    const ca = loadCa(store)!;
    expect(exportLeaf(store, leaf.id, 'pem').data.toString()).toBe(leaf.certPem);
    expect(exportLeaf(store, leaf.id, 'key').data.toString()).toMatch(
      /^-----BEGIN PRIVATE KEY-----/,
    );
    expect(exportLeaf(store, leaf.id, 'fullchain').data.toString()).toBe(leaf.certPem + ca.certPem);
    const der = path.join(tmp.dir, 'leaf.crt');
    fs.writeFileSync(der, exportLeaf(store, leaf.id, 'der').data);
    expect(openssl(['x509', '-inform', 'DER', '-in', der, '-noout', '-subject']).stdout).toMatch(
      /formats\.test/,
    );
    const caDer = path.join(tmp.dir, 'ca.cer');
    fs.writeFileSync(caDer, exportCa(store, 'der').data);
    expect(openssl(['x509', '-inform', 'DER', '-in', caDer, '-noout', '-subject']).stdout).toMatch(
      /WSS Studio/,
    );
    const caExp = exportCa(store, 'pem');
    expect(caExp.data.toString()).toBe(ca.certPem);
    expect(caExp.usage).toEqual([
      'wscat -c wss://localhost:8443 --ca wss-studio-ca.pem',
      'curl --cacert wss-studio-ca.pem https://localhost:8443/',
      'NODE_EXTRA_CA_CERTS=wss-studio-ca.pem node app.js',
      'openssl s_client -connect localhost:8443 -servername localhost -CAfile wss-studio-ca.pem',
    ]);
  });

  it('renews (same names, new key and serial, same id) and deletes', async () => {
    const { leaf } = await issueLeaf(store, { names: ['renew.test', '10.0.0.5'] });
    const oldKey = readLeafKeyPem(store, leaf.id);
    const renewed = await renewLeaf(store, leaf.id);
    expect(renewed.id).toBe(leaf.id);
    expect(renewed.names).toEqual(['renew.test', '10.0.0.5']);
    expect(renewed.serialHex).not.toBe(leaf.serialHex);
    expect(readLeafKeyPem(store, leaf.id)).not.toBe(oldKey);
    await deleteLeaf(store, leaf.id);
    expect(() => getLeaf(store, leaf.id)).toThrow(/no certificate with id/);
    expect(listLeaves(store).some((l) => l.id === leaf.id)).toBe(false);
  });
});

describe('name constraints, enforced by OpenSSL', () => {
  it('a leaf for example.com signed with the constrained CA key fails openssl verify', async () => {
    const tmp = tempDir();
    try {
      const store = openStore(path.join(tmp.dir, 'home'));
      const ca = await createCa(store, { keyType: 'ecdsa' });
      const caKey = path.join(store.caDir, 'ca-key.pem');
      const d = tmp.dir;
      const evil = opensslLeaf(d, ca.certPath, caKey, 'example.com');
      const v = openssl(['verify', '-CAfile', ca.certPath, evil.cert]);
      expect(v.status).not.toBe(0);
      expect(v.stdout + v.stderr).toMatch(/permitted subtree violation/);
      // and the same CA key signing an allowed name verifies: the failure is the constraint, not the setup
      const ok = opensslLeaf(d, ca.certPath, caKey, 'ok.test');
      expect(openssl(['verify', '-CAfile', ca.certPath, ok.cert]).status).toBe(0);
    } finally {
      tmp.cleanup();
    }
  });

  it('an unconstrained CA has no nameConstraints extension and issues any valid name', async () => {
    const tmp = tempDir();
    try {
      const store = openStore(path.join(tmp.dir, 'home'));
      const ca = await createCa(store, { constrained: false });
      expect(openssl(['x509', '-in', ca.certPath, '-noout', '-text']).stdout).not.toMatch(
        /Name Constraints/,
      );
      const { leaf } = await issueLeaf(store, { names: ['example.com'] });
      expect(openssl(['verify', '-CAfile', ca.certPath, leaf.certPath]).status).toBe(0);
    } finally {
      tmp.cleanup();
    }
  });

  it('a custom permitted list replaces the defaults', async () => {
    const tmp = tempDir();
    try {
      const store = openStore(path.join(tmp.dir, 'home'));
      const ca = await createCa(store, { permitted: ['corp.example', '10.20.0.0/16'] });
      expect(ca.permitted).toEqual(['corp.example', '10.20.0.0/16']);
      const { leaf } = await issueLeaf(store, { names: ['api.corp.example', '10.20.3.4'] });
      expect(openssl(['verify', '-CAfile', ca.certPath, leaf.certPath]).status).toBe(0);
      const before = snapshotTree(store.root);
      await expect(issueLeaf(store, { names: ['localhost'] })).rejects.toThrow(
        /outside the CA's name constraints/,
      );
      expect(snapshotTree(store.root)).toEqual(before);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('issuance error codes come from the name verdicts', () => {
  it('NAME_NOT_PERMITTED outside the constraints; INVALID_NAME for a bad name whose sentence mentions them', async () => {
    const tmp = tempDir();
    try {
      const store = openStore(path.join(tmp.dir, 'home'));
      await createCa(store, { keyType: 'ecdsa' });
      const before = snapshotTree(store.root);
      const outside = await issueLeaf(store, { names: ['example.com'] }).catch((e: unknown) => e);
      expect(outside).toMatchObject({ code: 'NAME_NOT_PERMITTED', field: 'names', kind: 'input' });
      // leaf.ts used to pick the code by searching the sentence for "name constraints".
      const bad = await issueLeaf(store, { names: ['name constraints'] }).catch((e: unknown) => e);
      expect((bad as Error).message).toBe(
        'failed to issue certificate: "name constraints" contains white space',
      );
      expect(bad).toMatchObject({ code: 'INVALID_NAME', field: 'names', kind: 'input' });
      expect(snapshotTree(store.root)).toEqual(before);
    } finally {
      tmp.cleanup();
    }
  });
});
