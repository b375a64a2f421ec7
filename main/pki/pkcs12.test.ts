// PKCS#12 exports read by the two readers people actually point at them: Java's keytool (Tomcat, Spring Boot)
// and openssl. The alias must be the certificate's first name, and key and certificate must pair up by
// localKeyId, in the modern (PBES2/AES) and the --legacy (3DES/SHA-1) encodings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { openStore, type Store } from '../store';
import { createCa, exportLeaf, issueLeaf } from './index';
import { fromDer } from './pkcs12';
import { runTool, tempDir } from '../../e2e/helpers/tools';

const PW = 'pw with spaces';

describe('PKCS#12 friendly name and localKeyId', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;

  beforeAll(async () => {
    tmp = tempDir('wss-p12-');
    store = openStore(path.join(tmp.dir, 'home'));
    await createCa(store, {});
  });
  afterAll(() => tmp.cleanup());

  it.each([false, true])('keytool -list -alias finds the key entry (legacy=%s)', async (legacy) => {
    const { leaf } = await issueLeaf(store, { names: ['app.test', '*.app.test'] });
    const file = path.join(tmp.dir, `app-${legacy}.p12`);
    fs.writeFileSync(file, exportLeaf(store, leaf.id, 'p12', { password: PW, legacy }).data);
    // keytool writes nothing outside the keystore for -list, but keep its HOME ours anyway.
    const env = { ...process.env, HOME: tmp.dir };
    const ok = runTool(
      'keytool',
      [
        '-list',
        '-v',
        '-keystore',
        file,
        '-storetype',
        'PKCS12',
        '-storepass',
        PW,
        '-alias',
        'app.test',
      ],
      { env },
    );
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/Alias name: app\.test/);
    // A key entry (not a trusted-cert entry): the key and its certificate paired up, with the CA in the chain.
    expect(ok.stdout).toMatch(/Entry type: PrivateKeyEntry/);
    expect(ok.stdout).toMatch(/Certificate chain length: 2/);
    const missing = runTool(
      'keytool',
      ['-list', '-keystore', file, '-storetype', 'PKCS12', '-storepass', PW, '-alias', 'nope.test'],
      { env },
    );
    expect(missing.status).not.toBe(0);
    expect(missing.stdout + missing.stderr).toMatch(/Alias <nope\.test> does not exist/);

    const info = runTool('openssl', [
      'pkcs12',
      '-in',
      file,
      '-info',
      '-nodes',
      '-passin',
      `pass:${PW}`,
    ]);
    expect(info.status, info.stderr).toBe(0);
    // Bag attributes of the leaf certificate and of the key: same friendlyName, same localKeyID.
    const bags = [...info.stdout.matchAll(/Bag Attributes\n((?:\s+\S.*\n)+)/g)].map((m) => m[1]!);
    const named = bags.filter((b) => /friendlyName: app\.test\n/.test(b));
    expect(named).toHaveLength(2);
    const ids = named.map((b) => /localKeyID: ([0-9A-F ]+)/.exec(b)?.[1]?.trim());
    expect(ids[0]).toMatch(/^([0-9A-F]{2} ){19}[0-9A-F]{2}$/);
    expect(ids[1]).toBe(ids[0]);
    // One of the two is the key bag: its attributes are followed by the key.
    expect(info.stdout).toMatch(
      /localKeyID: [0-9A-F ]+\n(?:Key Attributes: .*\n)?-----BEGIN PRIVATE KEY/,
    );
  });

  it('writes the friendly name as one BMPString of the name, nothing else', async () => {
    const { leaf } = await issueLeaf(store, { names: ['café.test'] });
    const der = exportLeaf(store, leaf.id, 'p12', { password: PW }).data;
    // The BMPString tag (0x1e) with the UTF-16BE bytes of the (IDNA) name, found verbatim in the key bag,
    // which is stored unencrypted-outside (only its PKCS#8 payload is encrypted).
    const name = leaf.names[0]!;
    const be = Buffer.from(name, 'utf16le').swap16();
    const needle = Buffer.concat([Buffer.from([0x1e, be.length]), be]);
    expect(der.includes(needle)).toBe(true);
    expect(fromDer(der)).toBeTruthy();
  });
});
