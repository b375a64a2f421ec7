// The trust-state cache behind "cert issue"'s "not trusted by" warning (main/trust/cache.ts), end to end
// through the CLI: a warm cache runs no certutil, a changed NSS database or a damaged cache file measures
// again, and the warning is the same with and without the cache. Everything lives in temp folders: HOME
// (with a real NSS database), WSS_STUDIO_TRUST_ROOT, JAVA_HOME; certutil is a wrapper that logs each call.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { runTool, tempDir } from '../../e2e/helpers/tools';
import { TrustCacheSchema } from '../store';
import { requireTool } from '../trust/testing';
import { runInProcess } from './testing';

let tmp: ReturnType<typeof tempDir>;
let env: NodeJS.ProcessEnv;
let work: string;
let nssdb: string;
let log: string;
let cacheFile: string;

const cli = (...argv: string[]) => runInProcess(argv, { env, cwd: work });
const certutilCalls = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '');
const issue = async () => {
  fs.rmSync(log, { force: true });
  const r = await cli('cert', 'issue', 'app.test', '--out-dir', work);
  expect(r.code, r.stderr).toBe(0);
  return { warning: r.stderr, certutil: certutilCalls() };
};

beforeAll(async () => {
  requireTool('certutil', ['--help'], 'apt install libnss3-tools');
  tmp = tempDir('wss-trust-cache-');
  const home = path.join(tmp.dir, 'user');
  const root = path.join(tmp.dir, 'root');
  const bin = path.join(tmp.dir, 'bin');
  work = path.join(tmp.dir, 'work');
  log = path.join(tmp.dir, 'certutil.log');
  nssdb = path.join(home, '.pki', 'nssdb');
  for (const d of [nssdb, bin, work, path.join(root, 'usr/local/share/ca-certificates')]) {
    fs.mkdirSync(d, { recursive: true });
  }
  fs.mkdirSync(path.join(root, 'etc/ssl/certs'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), '');
  const real = runTool('sh', ['-c', 'command -v certutil']).stdout.trim();
  fs.writeFileSync(
    path.join(bin, 'certutil'),
    `#!/bin/sh\necho "$*" >> '${log}'\nexec '${real}' "$@"\n`,
    { mode: 0o755 },
  );
  expect(runTool(real, ['-N', '-d', `sql:${nssdb}`, '--empty-password']).status).toBe(0);
  env = {
    PATH: `${bin}:${process.env.PATH}`,
    HOME: home,
    WSS_STUDIO_HOME: path.join(tmp.dir, 'state'),
    WSS_STUDIO_TRUST_ROOT: root,
    JAVA_HOME: path.join(tmp.dir, 'java'),
  };
  cacheFile = path.join(env.WSS_STUDIO_HOME as string, 'trust-cache.json');
  expect((await cli('ca', 'init')).code).toBe(0);
});
afterAll(() => tmp?.cleanup());

describe('cert issue: the trust-state cache', () => {
  it('measures once, then answers from the cache with no certutil and the same warning', async () => {
    const cold = await issue();
    expect(cold.warning).toMatch(/warning: the CA is not trusted by system, nss;/);
    expect(cold.certutil).toMatch(/^-L -d sql:/m);
    expect(fs.statSync(cacheFile).mode & 0o777).toBe(0o600);
    const entries = v.parse(
      TrustCacheSchema,
      JSON.parse(fs.readFileSync(cacheFile, 'utf8')),
    ).entries;
    expect(entries.map((e) => [e.store, e.state]).sort()).toEqual([
      ['java', 'not-present'],
      ['nss', 'not-trusted'],
      ['system', 'not-trusted'],
    ]);
    const warm = await issue();
    expect(warm.certutil).toBe('');
    expect(warm.warning).toBe(cold.warning);
  });

  it('a changed NSS database (certutil -A) measures again: the warning drops nss, as without a cache', async () => {
    await issue(); // warm
    const ca = path.join(env.WSS_STUDIO_HOME as string, 'ca', 'ca.pem');
    const add = runTool('certutil', ['-A', '-d', `sql:${nssdb}`, '-t', 'C,,', '-n', 'x', '-i', ca]);
    expect(add.status, add.stderr).toBe(0);
    const after = await issue();
    expect(after.certutil).toMatch(/^-L -d sql:/m);
    expect(after.warning).toMatch(/warning: the CA is not trusted by system;/);
    fs.rmSync(cacheFile);
    const uncached = await issue();
    expect(uncached.certutil).toMatch(/^-L -d sql:/m);
    expect(uncached.warning).toBe(after.warning);
    expect((await issue()).certutil).toBe('');
    expect(runTool('certutil', ['-D', '-d', `sql:${nssdb}`, '-n', 'x']).status).toBe(0);
    expect((await issue()).warning).toMatch(/warning: the CA is not trusted by system, nss;/);
  });

  it('a damaged cache file (not JSON, wrong shape) is ignored and rewritten', async () => {
    const reference = (await issue()).warning;
    for (const bad of ['{not json', JSON.stringify({ schema: 1, entries: [{ store: 'nss' }] })]) {
      fs.writeFileSync(cacheFile, bad);
      const r = await issue();
      expect(r.certutil).toMatch(/^-L -d sql:/m);
      expect(r.warning).toBe(reference);
      expect(
        v.safeParse(TrustCacheSchema, JSON.parse(fs.readFileSync(cacheFile, 'utf8'))).success,
      ).toBe(true);
      expect((await issue()).certutil).toBe('');
    }
  });

  it('trust status measures for real and refreshes the cache that cert issue then reads', async () => {
    fs.rmSync(cacheFile, { force: true });
    fs.rmSync(log, { force: true });
    const s = await cli('trust', 'status');
    expect(s.code).toBe(0);
    expect(certutilCalls()).toMatch(/^-L -d sql:/m);
    fs.rmSync(log, { force: true });
    await cli('trust', 'status');
    expect(certutilCalls(), 'trust status never answers from the cache').toMatch(/^-L -d sql:/m);
    expect((await issue()).certutil).toBe('');
  });

  it('trust install and uninstall drop the entries of the stores they change', async () => {
    await issue(); // warm
    const stores = () =>
      v
        .parse(TrustCacheSchema, JSON.parse(fs.readFileSync(cacheFile, 'utf8')))
        .entries.map((e) => e.store)
        .sort();
    expect(stores()).toEqual(['java', 'nss', 'system']);
    expect((await cli('trust', 'install', '--stores', 'nss')).code).toBe(0);
    expect(stores()).toEqual(['java', 'system']);
    const trusted = await issue();
    expect(trusted.certutil).toMatch(/^-L -d sql:/m);
    expect(trusted.warning).toMatch(/warning: the CA is not trusted by system;/);
    expect((await cli('trust', 'uninstall', '--stores', 'nss')).code).toBe(0);
    expect(stores()).toEqual(['java', 'system']);
    expect((await issue()).warning).toMatch(/warning: the CA is not trusted by system, nss;/);
  });
});
