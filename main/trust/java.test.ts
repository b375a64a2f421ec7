// Java store against the JDK's real keytool and a temp copy of its cacerts, reached through a temp
// JAVA_HOME (bin/keytool -> the real one, lib/security/cacerts = the copy). Proves: install makes
// `keytool -list` show our fingerprint; uninstall removes only ours (the others' count is unchanged);
// a broken or missing Java is a state, never an exception.
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findJava, javaAlias, javaStore, parseKeytoolRfc, readJksEntries } from './java';
import { makeFixture, requireTool, tempContext, type Fixture } from './testing';
import type { TrustContext } from './types';

let fx: Fixture;
let ctx: TrustContext;
let javaHome: string;
let cacerts: string;

function keytoolList(): string {
  return execFileSync('keytool', ['-list', '-keystore', cacerts, '-storepass', 'changeit'], {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' },
  });
}

function entryCount(text: string): number {
  return (text.match(/^Certificate fingerprint \(SHA-256\):/gm) ?? []).length;
}

beforeAll(async () => {
  requireTool('keytool', ['-help'], 'apt install default-jre-headless (or set JAVA_HOME to a JDK)');
  fx = await makeFixture();
  const realKeytool = realpathSync(
    execFileSync('sh', ['-c', 'command -v keytool'], { encoding: 'utf8' }).trim(),
  );
  const realHome = path.dirname(path.dirname(realKeytool));
  javaHome = path.join(fx.tmp, 'jdk');
  mkdirSync(path.join(javaHome, 'bin'), { recursive: true });
  mkdirSync(path.join(javaHome, 'lib/security'), { recursive: true });
  symlinkSync(realKeytool, path.join(javaHome, 'bin/keytool'));
  cacerts = path.join(javaHome, 'lib/security/cacerts');
  copyFileSync(path.join(realHome, 'lib/security/cacerts'), cacerts);
  chmodSync(cacerts, 0o644);
  ctx = tempContext(fx.tmp, { env: { PATH: process.env.PATH, JAVA_HOME: javaHome } });
});

afterAll(() => fx?.cleanup());

describe('Java store with real keytool', () => {
  it('finds keytool and cacerts from JAVA_HOME', () => {
    expect(findJava(ctx)).toEqual({
      keytool: path.join(javaHome, 'bin/keytool'),
      javaHome,
      cacerts,
    });
  });

  it('install shows our fingerprint in keytool -list; uninstall removes only ours', async () => {
    const before = keytoolList();
    const othersBefore = entryCount(before);
    expect(othersBefore).toBeGreaterThan(10);
    expect(before).not.toContain(fx.ca.fingerprint256);
    expect((await javaStore.status(fx.ca, ctx)).state).toBe('not-trusted');

    const inst = await javaStore.install(fx.ca, ctx);
    expect(inst.state, inst.detail).toBe('trusted');
    expect(inst.changed).toBe(true);
    const after = keytoolList();
    expect(after).toContain(fx.ca.fingerprint256);
    expect(after).toContain(javaAlias(fx.ca));
    expect(entryCount(after)).toBe(othersBefore + 1);
    expect(await javaStore.install(fx.ca, ctx)).toMatchObject({ state: 'trusted', changed: false });

    const un = await javaStore.uninstall(fx.ca, ctx);
    expect(un.state, un.detail).toBe('not-trusted');
    expect(un.changed).toBe(true);
    const gone = keytoolList();
    expect(gone).not.toContain(fx.ca.fingerprint256);
    expect(entryCount(gone)).toBe(othersBefore);
    expect(
      gone
        .split('\n')
        .filter((l) => l.startsWith('Certificate fingerprint'))
        .sort(),
    ).toEqual(
      before
        .split('\n')
        .filter((l) => l.startsWith('Certificate fingerprint'))
        .sort(),
    );
    expect(await javaStore.uninstall(fx.ca, ctx)).toMatchObject({
      state: 'not-trusted',
      changed: false,
    });
  });

  it('finds our CA by fingerprint under an alias it did not choose and removes it', async () => {
    execFileSync(
      'keytool',
      [
        '-importcert',
        '-noprompt',
        '-alias',
        'debian:wss-studio.pem',
        '-keystore',
        cacerts,
        '-storepass',
        'changeit',
      ],
      { input: fx.ca.certPem, stdio: 'pipe' },
    );
    const s = await javaStore.status(fx.ca, ctx);
    expect(s.state).toBe('trusted');
    expect(s.detail).toContain('"debian:wss-studio.pem"');
    expect((await javaStore.uninstall(fx.ca, ctx)).state).toBe('not-trusted');
    expect(keytoolList()).not.toContain(fx.ca.fingerprint256);
  });

  it('reads JKS cacerts without a JVM, exactly as keytool lists it', () => {
    const entries = readJksEntries(readFileSync(cacerts));
    expect(entries).not.toBeNull();
    const rfc = parseKeytoolRfc(
      execFileSync(
        'keytool',
        ['-list', '-rfc', '-keystore', cacerts, '-storepass', 'changeit', '-J-Duser.language=en'],
        {
          encoding: 'utf8',
        },
      ),
    );
    expect(entries?.map((e) => `${e.alias} ${e.der64}`).sort()).toEqual(
      rfc.map((e) => `${e.alias} ${e.der64}`).sort(),
    );
    expect(readJksEntries(Buffer.from('not a keystore'))).toBeNull();
  });

  it('a PKCS12 cacerts goes through keytool -list -rfc: install, status, uninstall', async () => {
    const p12Home = path.join(fx.tmp, 'jdk-p12');
    mkdirSync(path.join(p12Home, 'bin'), { recursive: true });
    mkdirSync(path.join(p12Home, 'lib/security'), { recursive: true });
    symlinkSync(
      realpathSync(path.join(javaHome, 'bin/keytool')),
      path.join(p12Home, 'bin/keytool'),
    );
    const p12 = path.join(p12Home, 'lib/security/cacerts');
    execFileSync(
      'keytool',
      [
        '-importkeystore',
        '-srckeystore',
        cacerts,
        '-srcstorepass',
        'changeit',
        '-destkeystore',
        p12,
        '-deststoretype',
        'pkcs12',
        '-deststorepass',
        'changeit',
        '-noprompt',
      ],
      { stdio: 'pipe' },
    );
    expect(readJksEntries(readFileSync(p12))).toBeNull();
    const c = { ...ctx, env: { PATH: process.env.PATH, JAVA_HOME: p12Home } };
    expect((await javaStore.status(fx.ca, c)).state).toBe('not-trusted');
    expect((await javaStore.install(fx.ca, c)).state).toBe('trusted');
    expect((await javaStore.status(fx.ca, c)).detail).toContain(javaAlias(fx.ca));
    expect((await javaStore.uninstall(fx.ca, c)).state).toBe('not-trusted');
    // Wrong password: keytool refuses, and that is an error state, not an exception.
    const wrong = await javaStore.status(fx.ca, { ...c, javaStorePassword: 'wrong-pass' });
    expect(wrong.state).toBe('error');
    expect(wrong.detail).toMatch(/password|tampered/i);
    const r = await javaStore.install(fx.ca, { ...ctx, javaStorePassword: 'wrong-pass' });
    expect(r).toMatchObject({ state: 'error', changed: false });
  });

  it('a broken keytool or a missing Java is a state, never an exception', async () => {
    const broken = path.join(fx.tmp, 'broken-jdk');
    mkdirSync(path.join(broken, 'bin'), { recursive: true });
    mkdirSync(path.join(broken, 'lib/security'), { recursive: true });
    writeFileSync(
      path.join(broken, 'bin/keytool'),
      '#!/bin/sh\necho "Error: could not find libjava.so" >&2\nexit 1\n',
      {
        mode: 0o755,
      },
    );
    copyFileSync(cacerts, path.join(broken, 'lib/security/cacerts'));
    const bctx = { ...ctx, env: { PATH: '/nonexistent', JAVA_HOME: broken } };
    // Status reads the JKS file itself; a change needs keytool, whose failure comes back as a state.
    expect((await javaStore.status(fx.ca, bctx)).state).toBe('not-trusted');
    const b = await javaStore.install(fx.ca, bctx);
    expect(b.state).toBe('error');
    expect(b.detail).toContain('could not find libjava.so');

    const missing = { ...ctx, env: { PATH: '/nonexistent', JAVA_HOME: path.join(fx.tmp, 'nope') } };
    const m = await javaStore.status(fx.ca, missing);
    expect(m.state).toBe('tool-missing');
    expect(m.fix).toContain('JAVA_HOME');
    const none = { ...ctx, env: { PATH: '/nonexistent' } };
    expect((await javaStore.status(fx.ca, none)).state).toBe('not-present');
    expect(await javaStore.detect(none)).toBe(false);
  });

  it('parses keytool -list -rfc output', () => {
    const text = `Keystore type: JKS\nKeystore provider: SUN\n\nYour keystore contains 2 entries\n\nAlias name: a, b\nCreation date: Jun 24, 2025\nEntry type: trustedCertEntry\n\n-----BEGIN CERTIFICATE-----\nQUJD\nREVG\n-----END CERTIFICATE-----\n\n\n*******************************************\n*******************************************\n\n\nAlias name: second\nCreation date: Jun 24, 2025\nEntry type: trustedCertEntry\n\n-----BEGIN CERTIFICATE-----\nWFla\n-----END CERTIFICATE-----\n`;
    expect(parseKeytoolRfc(text)).toEqual([
      { alias: 'a, b', der64: 'QUJDREVG' },
      { alias: 'second', der64: 'WFla' },
    ]);
  });
});
