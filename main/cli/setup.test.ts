// "wss-studio setup": the engine's setup.localhost task in a terminal, against a real temp NSS database
// (certutil) under a temp HOME and WSS_STUDIO_TRUST_ROOT: progress lines on stderr, the API's SetupResult
// with --json, a re-run that reuses everything, bad input refused (exit 2) with the store untouched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { runInProcess } from './testing';
import type { SetupResult } from '../../shared/api';
import { nssFingerprints, requireTool, snapshotTree, tempDir } from '../../e2e/helpers/tools';

describe('wss-studio setup', () => {
  let tmp: ReturnType<typeof tempDir>;
  let env: NodeJS.ProcessEnv;
  let home: string;

  const cli = (argv: string[]) => runInProcess(argv, { env, cwd: tmp.dir });

  beforeAll(() => {
    requireTool('certutil');
    tmp = tempDir('wss-cli-setup-');
    home = path.join(tmp.dir, 'state');
    fs.mkdirSync(path.join(tmp.dir, 'user'));
    fs.mkdirSync(path.join(tmp.dir, 'root'));
    env = {
      WSS_STUDIO_HOME: home,
      HOME: path.join(tmp.dir, 'user'),
      WSS_STUDIO_TRUST_ROOT: path.join(tmp.dir, 'root'),
      PATH: process.env.PATH,
    };
  });

  afterAll(() => tmp?.cleanup());

  it('refuses bad input with exit 2 and creates nothing', async () => {
    const before = snapshotTree(tmp.dir);
    const stores = await cli(['setup', '--stores', 'nss,bogus']);
    expect(stores.code).toBe(2);
    expect(stores.stderr).toMatch(/^error: failed to select trust stores: unknown store "bogus"/);
    const key = await cli(['setup', '--key', 'dsa']);
    expect(key.code).toBe(2);
    expect(key.stderr).toMatch(/key type "dsa" is not supported\nhint: use "--key rsa"/);
    expect(snapshotTree(tmp.dir)).toEqual(before);
  });

  it('makes localhost trusted step by step, then reuses everything', async () => {
    const first = await cli(['setup', '--stores', 'nss']);
    expect(first.code, first.stderr).toBe(0);
    const lines = first.stderr.split('\n');
    for (const l of [
      'CA           running: generating the key',
      'CA           done: created "',
      'trust        running: installing into NSS',
      'trust        done: trusted in NSS',
      'certificate  done: issued localhost-',
      'server       skipped: not asked for',
    ]) {
      expect(
        lines.some((x) => x.startsWith(l)),
        `${l}\n${first.stderr}`,
      ).toBe(true);
    }
    const id = /^certificate: (\S+) for localhost, 127\.0\.0\.1, ::1$/m.exec(first.stdout)?.[1];
    expect(id, first.stdout).toBeTruthy();
    expect(first.stdout).toContain(`next: wss-studio serve --wss 8443 --cert ${id}`);

    const again = await cli(['setup', '--stores', 'nss', '--json']);
    expect(again.code, again.stderr).toBe(0);
    const r = JSON.parse(again.stdout) as SetupResult;
    expect(r.steps.map((s) => `${s.id}=${s.state}`)).toEqual([
      'ca=skipped',
      'trust=done',
      'cert=skipped',
      'server=skipped',
    ]);
    expect(r.leaf.id).toBe(id);
    expect(r.steps[2]!.detail).toBe(`reusing certificate ${id}`);
    expect(r.trust.find((s) => s.store === 'nss')?.state).toBe('trusted');
    expect(nssFingerprints(path.join(tmp.dir, 'user', '.pki', 'nssdb'))).toContain(
      r.ca.fingerprint256,
    );
    // One shape: the CA is ca.get's, the certificate cert.list's.
    const list = await cli(['cert', 'list', '--json']);
    expect(JSON.parse(list.stdout)).toEqual([r.leaf]);
  });
});
