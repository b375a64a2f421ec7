// The trust-state cache's key (cache.ts storeInputs): it must change whenever anything a store's
// measurement reads changes, and the file must be ignored when damaged. Temp HOME, root and JAVA_HOME only.
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTrustCache, storeInputs, writeTrustCache } from './cache';
import { foreignCa, makeFixture, tempContext, type Fixture } from './testing';
import type { TrustContext } from './types';

let fx: Fixture;
let ctx: TrustContext;
const later = new Date(Date.now() + 60_000);

beforeAll(async () => {
  fx = await makeFixture('wss-trust-cache-');
  const java = path.join(fx.tmp, 'java');
  mkdirSync(path.join(java, 'bin'), { recursive: true });
  mkdirSync(path.join(java, 'lib', 'security'), { recursive: true });
  writeFileSync(path.join(java, 'bin', 'keytool'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
  writeFileSync(path.join(java, 'lib', 'security', 'cacerts'), 'x');
  ctx = tempContext(fx.tmp, { env: { PATH: '/nonexistent', JAVA_HOME: java } });
  mkdirSync(path.join(ctx.root, 'usr/local/share/ca-certificates'), { recursive: true });
  mkdirSync(path.join(ctx.root, 'etc/ssl/certs'), { recursive: true });
  writeFileSync(path.join(ctx.root, 'etc/ssl/certs/ca-certificates.crt'), 'aaaa');
  mkdirSync(path.join(ctx.home, '.pki/nssdb'), { recursive: true });
  writeFileSync(path.join(ctx.home, '.pki/nssdb/cert9.db'), 'db');
});
afterAll(() => fx?.cleanup());

/** Whether `change` changes the key of `store`. */
function changes(store: 'system' | 'nss' | 'java', change: () => void): boolean {
  const before = storeInputs(store, fx.ca, ctx);
  expect(before).toMatch(/^[0-9a-f]{64}$/);
  change();
  return storeInputs(store, fx.ca, ctx) !== before;
}

describe('storeInputs: the cache key', () => {
  it('is stable while nothing changes, and differs per CA and per store', () => {
    expect(storeInputs('nss', fx.ca, ctx)).toBe(storeInputs('nss', fx.ca, ctx));
    expect(storeInputs('nss', foreignCa(fx.tmp), ctx)).not.toBe(storeInputs('nss', fx.ca, ctx));
    expect(storeInputs('system', fx.ca, ctx)).not.toBe(storeInputs('nss', fx.ca, ctx));
  });

  it('changes with the system bundle (same size, new time) and with a new anchor file', () => {
    const bundle = path.join(ctx.root, 'etc/ssl/certs/ca-certificates.crt');
    expect(changes('system', () => utimesSync(bundle, later, later))).toBe(true);
    const anchor = path.join(ctx.root, 'usr/local/share/ca-certificates/x.crt');
    expect(changes('system', () => writeFileSync(anchor, 'x'))).toBe(true);
  });

  it('changes with an NSS database file, a new Firefox profile, and a Firefox policies.json', () => {
    const db = path.join(ctx.home, '.pki/nssdb/cert9.db');
    expect(changes('nss', () => utimesSync(db, later, later))).toBe(true);
    const profile = path.join(ctx.home, '.mozilla/firefox/p.default');
    expect(changes('nss', () => mkdirSync(profile, { recursive: true }))).toBe(true);
    expect(changes('nss', () => writeFileSync(path.join(profile, 'cert9.db'), 'db'))).toBe(true);
    const ini = path.join(ctx.home, '.mozilla/firefox/profiles.ini');
    expect(changes('nss', () => writeFileSync(ini, '[Profile0]\nPath=p.default\n'))).toBe(true);
    // A profile named by an absolute path outside the Firefox folder, created after profiles.ini.
    const far = path.join(fx.tmp, 'elsewhere', 'far.profile');
    writeFileSync(ini, `[Profile0]\nPath=p.default\n[Profile1]\nPath=${far}\nIsRelative=0\n`);
    expect(changes('nss', () => mkdirSync(far, { recursive: true }))).toBe(true);
    expect(changes('nss', () => writeFileSync(path.join(far, 'cert9.db'), 'db'))).toBe(true);
    const policy = path.join(ctx.root, 'etc/firefox/policies/policies.json');
    mkdirSync(path.dirname(policy), { recursive: true });
    expect(changes('nss', () => writeFileSync(policy, '{}'))).toBe(true);
  });

  it('changes with the Java cacerts and with PATH (another certutil or keytool)', () => {
    const cacerts = path.join(ctx.env.JAVA_HOME as string, 'lib', 'security', 'cacerts');
    expect(changes('java', () => utimesSync(cacerts, later, later))).toBe(true);
    expect(changes('nss', () => (ctx.env.PATH = `${fx.tmp}:/nonexistent`))).toBe(true);
  });

  it('never caches stores whose state is not in files (macOS, Windows) nor off Linux', () => {
    expect(storeInputs('macos', fx.ca, ctx)).toBeNull();
    expect(storeInputs('windows', fx.ca, ctx)).toBeNull();
    expect(storeInputs('nss', fx.ca, { ...ctx, platform: 'darwin' })).toBeNull();
  });
});

describe('the cache file', () => {
  it('reads a missing or damaged file as empty, and merges per store on write', () => {
    const file = path.join(fx.tmp, 'trust-cache.json');
    expect(readTrustCache(file)).toEqual([]);
    writeFileSync(file, '[1,2]');
    expect(readTrustCache(file)).toEqual([]);
    const k = 'a'.repeat(64);
    writeTrustCache(file, [
      { store: 'nss', inputs: k, state: 'trusted' },
      { store: 'windows', inputs: null, state: 'trusted' },
    ]);
    writeTrustCache(file, [{ store: 'system', inputs: k, state: 'not-trusted' }]);
    expect(readTrustCache(file)).toEqual([
      { store: 'nss', inputs: k, state: 'trusted' },
      { store: 'system', inputs: k, state: 'not-trusted' },
    ]);
  });
});
