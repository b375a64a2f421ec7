// Replaced CAs must not stay trusted: "ca init --force" names the removal, "trust status" shows the old
// CA still trusted, and "trust uninstall --all-ours" removes every WSS Studio CA (current and replaced)
// from a real NSS database (certutil) and a temp copy of the JDK's cacerts (keytool), matched by
// certificate bytes: a foreign CA with the very same common name stays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { runInProcess } from './testing';
import { nssCertificates, requireTool, runTool, tempDir } from '../../e2e/helpers/tools';
import { foreignCa } from '../trust/testing';

describe('trust uninstall --all-ours (certutil + keytool on temp stores)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let nssdb: string;
  let cacerts: string;
  let foreignPem: string;

  const cli = (argv: string[]) => runInProcess(argv, { env, cwd: tmp.dir });

  /** DER (base64) of every certificate in the NSS database, by nickname. */
  const nssCerts = () =>
    new Map(
      [...nssCertificates(nssdb)].map(([n, xs]) => [n, xs.map((x) => x.raw.toString('base64'))]),
    );
  const nssAll = () => new Set([...nssCerts().values()].flat());
  const javaCerts = (): string[] =>
    runTool('keytool', [
      '-list',
      '-rfc',
      '-keystore',
      cacerts,
      '-storepass',
      'changeit',
      '-J-Duser.language=en',
    ])
      .stdout.split('-----BEGIN CERTIFICATE-----')
      .slice(1)
      .map((b) => b.split('-----END CERTIFICATE-----')[0]!.replace(/\s+/g, ''));
  const der64 = (pem: string) => new X509Certificate(pem).raw.toString('base64');

  beforeAll(() => {
    requireTool('certutil');
    const keytool = fs.realpathSync(requireTool('keytool'));
    tmp = tempDir('wss-allours-');
    home = path.join(tmp.dir, 'state');
    const userHome = path.join(tmp.dir, 'user');
    const javaHome = path.join(tmp.dir, 'jdk');
    fs.mkdirSync(path.join(javaHome, 'bin'), { recursive: true });
    fs.mkdirSync(path.join(javaHome, 'lib', 'security'), { recursive: true });
    fs.symlinkSync(keytool, path.join(javaHome, 'bin', 'keytool'));
    cacerts = path.join(javaHome, 'lib', 'security', 'cacerts');
    fs.copyFileSync(
      path.join(path.dirname(path.dirname(keytool)), 'lib', 'security', 'cacerts'),
      cacerts,
    );
    fs.chmodSync(cacerts, 0o644);
    env = {
      ...process.env,
      WSS_STUDIO_HOME: home,
      HOME: userHome,
      JAVA_HOME: javaHome,
      WSS_STUDIO_TRUST_ROOT: path.join(tmp.dir, 'root'),
    };
    delete env.NODE_EXTRA_CA_CERTS;
    nssdb = path.join(userHome, '.pki', 'nssdb');
  });
  afterAll(() => tmp.cleanup());

  it('tracks the replaced CA, shows it still trusted, and removes only ours', async () => {
    const stores = ['--stores', 'nss,java'];
    const a = JSON.parse((await cli(['ca', 'init', '--json'])).stdout);
    // A foreign CA with our CA's very common name, in both stores before we touch them.
    const foreign = foreignCa(tmp.dir, a.commonName).certPath;
    foreignPem = fs.readFileSync(foreign, 'utf8');
    fs.mkdirSync(nssdb, { recursive: true });
    expect(runTool('certutil', ['-N', '-d', `sql:${nssdb}`, '--empty-password']).status).toBe(0);
    expect(
      runTool('certutil', ['-A', '-d', `sql:${nssdb}`, '-t', 'C,,', '-n', 'foreign', '-i', foreign])
        .status,
    ).toBe(0);
    expect(
      runTool('keytool', [
        '-importcert',
        '-noprompt',
        '-alias',
        'foreign-same-cn',
        '-file',
        foreign,
        '-keystore',
        cacerts,
        '-storepass',
        'changeit',
      ]).status,
    ).toBe(0);
    const javaBefore = javaCerts();

    const inst = await cli(['trust', 'install', ...stores]);
    expect(inst.code, inst.stderr).toBe(0);
    const pemA = fs.readFileSync(path.join(home, 'ca', 'ca.pem'), 'utf8');
    expect(nssAll().has(der64(pemA))).toBe(true);

    const replaced = await cli(['ca', 'init', '--force']);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(replaced.stderr).toContain(
      `note: the replaced CA "${a.commonName}" (SHA-256 ${a.fingerprint256}) stays trusted`,
    );
    expect(replaced.stderr).toMatch(/remove it with: wss-studio trust uninstall --all-ours$/m);

    const status = await cli(['trust', 'status', ...stores]);
    expect(status.stdout).toMatch(
      new RegExp(
        `replaced CA ".*" \\(SHA-256 ${a.fingerprint256}\\) is STILL trusted by: nss, java`,
      ),
    );
    expect(status.stdout).toMatch(/^fix: wss-studio trust uninstall --all-ours$/m);
    const sj = JSON.parse((await cli(['trust', 'status', ...stores, '--json'])).stdout);
    // trust.replaced's ReplacedCaDto.
    expect(sj.replaced).toEqual([
      expect.objectContaining({ fingerprint256: a.fingerprint256, trustedBy: ['nss', 'java'] }),
    ]);

    // The new CA is trusted too; then everything of ours goes, nothing else does.
    expect((await cli(['trust', 'install', ...stores])).code).toBe(0);
    const pemB = fs.readFileSync(path.join(home, 'ca', 'ca.pem'), 'utf8');
    expect(javaCerts()).toEqual(expect.arrayContaining([der64(pemA), der64(pemB)]));

    const un = await cli(['trust', 'uninstall', '--all-ours', ...stores]);
    expect(un.code, un.stderr + un.stdout).toBe(0);
    expect(un.stdout).toMatch(/^current CA /m);
    expect(un.stdout).toMatch(/^replaced CA /m);
    expect([...nssCerts().keys()]).toEqual(['foreign']);
    expect([...nssAll()]).toEqual([der64(foreignPem)]);
    expect(javaCerts().sort()).toEqual(javaBefore.sort()); // foreign + the JDK's own, untouched
    expect(javaCerts()).toContain(der64(foreignPem));
    // Out of every store: the records are pruned (a later --all-ours has nothing left to do).
    expect(fs.readdirSync(path.join(home, 'trusted-cas'))).toEqual([]);

    const after = JSON.parse((await cli(['trust', 'status', ...stores, '--json'])).stdout);
    expect(after.replaced).toEqual([]);
    expect(after.stores.map((s: { state: string }) => s.state)).toEqual([
      'not-trusted',
      'not-trusted',
    ]);
  }, 180_000);

  it('keeps the record of a replaced CA while a store outside --stores still trusts it', async () => {
    const trustedCas = () => fs.readdirSync(path.join(home, 'trusted-cas'));
    expect((await cli(['trust', 'install', '--stores', 'nss,java'])).code).toBe(0);
    const old = JSON.parse((await cli(['ca', 'show', '--json'])).stdout);
    expect((await cli(['ca', 'init', '--force'])).code).toBe(0);
    expect(trustedCas()).toHaveLength(1);

    // Only nss is selected: the old CA leaves nss, java still trusts it, so its record stays.
    const nssOnly = await cli(['trust', 'uninstall', '--all-ours', '--stores', 'nss']);
    expect(nssOnly.code, nssOnly.stderr).toBe(0);
    expect(nssOnly.stdout).toContain(
      'still trusted in java (not selected): kept in the list of CAs to remove; run: wss-studio trust uninstall --all-ours --stores java',
    );
    expect([...nssAll()]).toEqual([der64(foreignPem)]);
    expect(trustedCas()).toHaveLength(1);
    const status = JSON.parse(
      (await cli(['trust', 'status', '--stores', 'nss,java', '--json'])).stdout,
    );
    expect(status.replaced).toEqual([
      expect.objectContaining({ fingerprint256: old.fingerprint256, trustedBy: ['java'] }),
    ]);

    // Out of java too: the record is pruned and status has no replaced CA left.
    const rest = await cli(['trust', 'uninstall', '--all-ours', '--stores', 'java', '--json']);
    expect(rest.code, rest.stderr).toBe(0);
    expect(JSON.parse(rest.stdout).cas).toEqual([
      expect.objectContaining({ current: true, keptFor: [] }),
      expect.objectContaining({ current: false, keptFor: [] }),
    ]);
    expect(trustedCas()).toEqual([]);
    const after = JSON.parse(
      (await cli(['trust', 'status', '--stores', 'nss,java', '--json'])).stdout,
    );
    expect(after.replaced).toEqual([]);
  }, 180_000);
});
