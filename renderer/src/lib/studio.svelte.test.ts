// The app-wide trust rows follow the trust.status stream. A per-store install or uninstall measures (and
// pushes) only the stores it touched: those rows change, the others stay as they were.
import { describe, expect, it } from 'vitest';
import type { TrustStoreStatus } from '../../../shared/api';
import { Studio } from './studio.svelte';
import { fakeEngine } from './testing';

const row = (
  store: TrustStoreStatus['store'],
  state: TrustStoreStatus['state'],
): TrustStoreStatus => ({
  store,
  label: store,
  state,
  detail: `${store} ${state}`,
});

describe('Studio trust rows', () => {
  it('a push of some stores replaces those rows and keeps the others, in order', async () => {
    const eng = fakeEngine({
      'app.info': () => ({}) as never,
      'ca.get': () => null,
      'cert.list': () => [],
      'server.list': () => [],
    });
    const studio = new Studio(eng.api);
    await studio.start();
    eng.push('trust.status', {
      stores: [row('system', 'not-trusted'), row('nss', 'not-trusted'), row('java', 'not-present')],
    });
    expect(studio.trust.map((s) => s.state)).toEqual(['not-trusted', 'not-trusted', 'not-present']);
    expect(studio.allTrusted).toBe(false);

    // trust install --stores nss (from the CLI, another window or this one): only nss is pushed.
    eng.push('trust.status', { stores: [row('nss', 'trusted')] });
    expect(studio.trust.map((s) => `${s.store}:${s.state}`)).toEqual([
      'system:not-trusted',
      'nss:trusted',
      'java:not-present',
    ]);
    eng.push('trust.status', { stores: [row('system', 'trusted'), row('macos', 'not-present')] });
    expect(studio.trust.map((s) => `${s.store}:${s.state}`)).toEqual([
      'system:trusted',
      'nss:trusted',
      'java:not-present',
      'macos:not-present',
    ]);
    expect(studio.allTrusted).toBe(true);
    // No reload: the stream alone.
    expect(eng.inputs('trust.status')).toEqual([]);
    studio.stop();
  });
});
