// The trust API the CLI, `ca show`, `cert issue` and the app call: store selection, detection,
// never-throwing status, the summary lines and the `cert issue` warnings.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWssError } from '../../shared/errors';
import {
  changeSucceeded,
  detectStores,
  parseStoreList,
  trustReport,
  trustStatusAll,
  trustSummaryLines,
  trustWarnings,
  type StoreChange,
  type StoreStatus,
} from './index';
import { makeFixture, tempContext, type Fixture } from './testing';

let fx: Fixture;
beforeAll(async () => {
  fx = await makeFixture();
});
afterAll(() => fx?.cleanup());

describe('parseStoreList', () => {
  it('accepts comma lists, repeats, case and spaces; de-duplicates in order', () => {
    expect(parseStoreList(['system,NSS', ' java ', 'nss'])).toEqual(['system', 'nss', 'java']);
    expect(parseStoreList([])).toEqual([]);
  });

  it('rejects an unknown store as input naming the valid ones', () => {
    let err: unknown;
    try {
      parseStoreList(['nss,firefox']);
    } catch (e) {
      err = e;
    }
    expect(isWssError(err)).toBe(true);
    expect(err).toMatchObject({
      code: 'UNKNOWN_STORE',
      kind: 'input',
      field: '--stores',
      message: 'failed to select trust stores: unknown store "firefox"',
      hint: 'use a comma-separated list of: system, nss, java, macos, windows',
    });
  });
});

const sample: StoreStatus[] = [
  {
    store: 'system',
    label: 'Linux system store (Debian/Ubuntu)',
    state: 'trusted',
    detail: 'in /b.crt',
  },
  {
    store: 'nss',
    label: 'NSS (Chrome/Chromium, Firefox)',
    state: 'not-trusted',
    detail: 'missing from 1 of 2 NSS databases: Firefox profile x',
    fix: 'wss-studio trust install --stores nss',
    warnings: ['Firefox is running with Firefox profile x: restart Firefox to pick up the change'],
    targets: [
      { label: 'Chrome/Chromium (~/.pki/nssdb)', path: '/h/.pki/nssdb', state: 'trusted' },
      { label: 'Firefox profile x', path: '/h/x', state: 'not-trusted', detail: 'missing' },
    ],
  },
  {
    store: 'java',
    label: 'Java (cacerts)',
    state: 'tool-missing',
    detail: '"keytool" not found',
    fix: 'set JAVA_HOME',
  },
  { store: 'macos', label: 'macOS keychain', state: 'not-present', detail: 'not macOS (linux)' },
];

describe('summary lines and warnings', () => {
  it('prints one aligned line per store, the fix under it, targets on request', () => {
    expect(trustSummaryLines(sample)).toEqual([
      'system  trusted          in /b.crt',
      'nss     not trusted      missing from 1 of 2 NSS databases: Firefox profile x',
      '                         fix: wss-studio trust install --stores nss',
      '                         warning: Firefox is running with Firefox profile x: restart Firefox to pick up the change',
      'java    tool missing     "keytool" not found',
      '                         fix: set JAVA_HOME',
      'macos   not present      not macOS (linux)',
    ]);
    expect(trustSummaryLines(sample, { targets: true })).toContain(
      '                         not trusted  Firefox profile x: missing',
    );
    expect(trustSummaryLines([])).toEqual(['no trust store detected']);
  });

  it('warns for cert issue only about detected stores that do not trust the CA', () => {
    expect(trustWarnings(sample)).toEqual([
      'the CA is not trusted by NSS (Chrome/Chromium, Firefox): missing from 1 of 2 NSS databases: Firefox profile x',
      'cannot tell whether Java (cacerts) trusts the CA (tool missing): "keytool" not found',
      'fix: wss-studio trust install --stores nss  |  set JAVA_HOME',
    ]);
    expect(trustWarnings([sample[0] as StoreStatus, sample[3] as StoreStatus])).toEqual([]);
  });

  it('an install succeeded only when every store is trusted; an uninstall when none is', () => {
    const c = (state: StoreStatus['state']): StoreChange => ({
      ...(sample[0] as StoreStatus),
      state,
      changed: true,
    });
    expect(changeSucceeded([c('trusted'), c('trusted')], 'install')).toBe(true);
    expect(changeSucceeded([c('trusted'), c('needs-permission')], 'install')).toBe(false);
    expect(changeSucceeded([c('not-trusted'), c('not-present')], 'uninstall')).toBe(true);
    expect(changeSucceeded([c('not-trusted'), c('error')], 'uninstall')).toBe(false);
  });
});

describe('detection and status through the registry', () => {
  it('detects only what exists under the injected HOME/root; status never throws', async () => {
    const ctx = tempContext(fx.tmp, {
      env: { PATH: '/nonexistent', HOME: path.join(fx.tmp, 'home') },
    });
    expect(await detectStores(ctx)).toEqual([]);
    mkdirSync(path.join(ctx.root, 'usr/local/share/ca-certificates'), { recursive: true });
    expect(await detectStores(ctx)).toEqual(['system']);
    expect(await detectStores({ ...ctx, platform: 'darwin' })).toEqual(['macos']);
    expect(await detectStores({ ...ctx, platform: 'win32' })).toEqual(['windows']);

    // A runner that blows up: the store reports an error state instead of throwing.
    const boom = {
      ...ctx,
      platform: 'darwin' as const,
      run: async () => {
        throw new Error('spawn exploded');
      },
    };
    const st = await trustStatusAll(fx.ca, { context: boom });
    expect(st).toHaveLength(1);
    expect(st[0]).toMatchObject({ store: 'macos', state: 'error' });
    expect(st[0]?.detail).toContain('spawn exploded');
  });

  it('trustReport gives ca show / cert issue their lines, JSON and untrusted ids from an env', async () => {
    const home = path.join(fx.tmp, 'report-home');
    const root = path.join(fx.tmp, 'report-root');
    mkdirSync(path.join(root, 'usr/local/share/ca-certificates'), { recursive: true });
    mkdirSync(path.join(root, 'etc/ssl/certs'), { recursive: true });
    writeFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), fx.ca.certPem);
    const r = await trustReport(fx.ca, {
      PATH: '/nonexistent',
      HOME: home,
      WSS_STUDIO_TRUST_ROOT: root,
    });
    expect(r.json.map((s) => [s.store, s.state])).toEqual([['system', 'trusted']]);
    expect(r.untrusted).toEqual([]);
    expect(r.lines[0]).toMatch(
      /^system {2}trusted {10}in .*report-root\/etc\/ssl\/certs\/ca-certificates\.crt$/,
    );
    writeFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), '');
    const r2 = await trustReport(fx.ca, {
      PATH: '/nonexistent',
      HOME: home,
      WSS_STUDIO_TRUST_ROOT: root,
    });
    expect(r2.untrusted).toEqual(['system']);
  });
});
