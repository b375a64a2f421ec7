// setup.localhost, `serve` (pickLeafFor) and the proxy (storeCerts.pick) share one rule for reusing a
// certificate (main/pki/reuse.ts): given the same store they must agree on every kind of leaf.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pickLeafFor } from '../echo';
import { makeTestPki, type TestPki } from '../echo/testing';
import { issueLeaf, listLeaves, loadCa, scanLeaves } from '../pki';
import { storeCerts } from '../proxy';
import { LOCALHOST_NAMES, reusableLocalhostLeaf } from './setup-rules';

let pki: TestPki;
beforeAll(async () => {
  pki = await makeTestPki(['other.test']); // a CA and a leaf for another name
});
afterAll(() => pki?.cleanup());

/** What each of the three callers would reuse for localhost, as leaf ids (null: issue a new one). */
function picks(): { setup: string | null; serve: string | null; proxy: string | null } {
  const ca = loadCa(pki.store)!;
  return {
    setup: reusableLocalhostLeaf(listLeaves(pki.store), ca.fingerprint256)?.id ?? null,
    serve: pickLeafFor(pki.store, 'localhost')?.id ?? null,
    proxy: storeCerts(pki.store).pick('localhost'),
  };
}
const none = { setup: null, serve: null, proxy: null };
const issue = async (names: string[], days: number) =>
  (await issueLeaf(pki.store, { names, keyType: 'ecdsa', days })).leaf.id;

describe('one rule for reusing a certificate', () => {
  it('none of them reuses a leaf for another name, a wildcard, one expiring tomorrow or a damaged one', async () => {
    expect(picks()).toEqual(none);

    const wildcard = await issue(['*.localhost'], 30);
    expect(picks()).toEqual(none);
    expect(pickLeafFor(pki.store, 'a.localhost')).toBeNull();
    expect(storeCerts(pki.store).pick('a.localhost')).toBeNull();
    expect(wildcard).toBeTruthy();

    await issue(LOCALHOST_NAMES, 1); // valid now, but less than a day left
    expect(picks()).toEqual(none);

    const damaged = await issue(LOCALHOST_NAMES, 30);
    expect(picks()).toEqual({ setup: damaged, serve: damaged, proxy: damaged });
    fs.rmSync(path.join(pki.store.certsDir, damaged, 'cert.pem'));
    expect(scanLeaves(pki.store).damaged.map((d) => d.id)).toEqual([damaged]);
    expect(picks()).toEqual(none);
  });

  it('all of them take the same good leaf, the one valid longest', async () => {
    const shorter = await issue(LOCALHOST_NAMES, 30);
    expect(picks()).toEqual({ setup: shorter, serve: shorter, proxy: shorter });
    const longer = await issue(['LOCALHOST', '127.0.0.1', '::1'], 60);
    expect(picks()).toEqual({ setup: longer, serve: longer, proxy: longer });
    // Looking ahead: at 29.5 days only `longer` has a day left, at 59.5 days neither has.
    const ca = loadCa(pki.store)!;
    const leaves = listLeaves(pki.store);
    for (const [days, want] of [
      [29.5, longer],
      [59.5, null],
    ] as const) {
      const at = Date.now() + days * 86_400_000;
      expect(reusableLocalhostLeaf(leaves, ca.fingerprint256, at)?.id ?? null).toBe(want);
      expect(pickLeafFor(pki.store, 'localhost', new Date(at))?.id ?? null).toBe(want);
    }
  });
});
