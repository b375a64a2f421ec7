// Test helpers shared by the echo tests (not shipped in any bundle: nothing imports it but tests).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCa, issueLeaf } from '../pki';
import { openStore, type Store } from '../store';

export interface TestPki {
  home: string;
  store: Store;
  caPem: string;
  caFile: string;
  leafId: string;
  cleanup: () => void;
}

/** A temp WSS_STUDIO_HOME with a CA and a leaf for the given names (default localhost, 127.0.0.1, ::1). */
export async function makeTestPki(names = ['localhost', '127.0.0.1', '::1']): Promise<TestPki> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'wss-echo-test-'));
  const store = openStore(home);
  const ca = await createCa(store, { keyType: 'ecdsa' });
  const { leaf } = await issueLeaf(store, { names, keyType: 'ecdsa' });
  const caFile = path.join(home, 'test-ca.pem');
  fs.writeFileSync(caFile, ca.certPem);
  return {
    home,
    store,
    caPem: ca.certPem,
    caFile,
    leafId: leaf.id,
    cleanup: () => fs.rmSync(home, { recursive: true, force: true }),
  };
}

/** Resolve when `cond()` is true, polling; reject with `what` after `ms`. */
export async function waitFor(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** mulberry32: a seeded generator of numbers in [0, 1), so a failing random case names its seed and replays. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
