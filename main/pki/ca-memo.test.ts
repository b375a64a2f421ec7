// loadCa reads, parses and key-checks the CA once per store while its files are unchanged ("cert issue"
// loads it for the trust warning and again to sign), and reads it again as soon as any of them changes.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { openStore } from '../store';
import { tempDir } from '../../e2e/helpers/tools';
import { createCa, issueLeaf, loadCa } from './index';

const tmp = tempDir('wss-ca-memo-');
afterAll(() => tmp.cleanup());

describe('loadCa per store', () => {
  it('gives the same CA while the files are unchanged, and re-reads a changed one', async () => {
    const store = openStore(path.join(tmp.dir, 'a'));
    const created = await createCa(store, { keyType: 'ecdsa' });
    const first = loadCa(store);
    expect(first?.fingerprint256).toBe(created.fingerprint256);
    expect(loadCa(store)).toBe(first); // not read again
    await issueLeaf(store, { names: ['a.test'] }); // signs with the loaded CA

    // A key that no longer belongs to the certificate is refused at once, not hidden by the memo.
    const other = openStore(path.join(tmp.dir, 'b'));
    await createCa(other, { keyType: 'ecdsa' });
    fs.copyFileSync(path.join(other.caDir, 'ca-key.pem'), path.join(store.caDir, 'ca-key.pem'));
    expect(() => loadCa(store)).toThrow(/does not belong to the certificate/);

    // A CA replaced as a whole (ca init --force from another process) is the one loaded next.
    const replaced = await createCa(openStore(store.root), { keyType: 'ecdsa', force: true });
    expect(replaced.fingerprint256).not.toBe(created.fingerprint256);
    expect(loadCa(store)?.fingerprint256).toBe(replaced.fingerprint256);
  });

  it('a read that straddles another process switching the CA folder is read again, not a mismatch', async () => {
    const store = openStore(path.join(tmp.dir, 'switch'));
    await createCa(store, { keyType: 'ecdsa' });
    const next = openStore(path.join(tmp.dir, 'switch-next'));
    const replacement = await createCa(next, { keyType: 'ecdsa' });
    const read = fs.readFileSync;
    const key = path.join(store.caDir, 'ca-key.pem');
    let switched = false;
    // Between reading ca.pem and ca-key.pem, "ca init --force" elsewhere swaps the whole folder in.
    const spy = vi.spyOn(fs, 'readFileSync').mockImplementation(((
      f: fs.PathOrFileDescriptor,
      o?: unknown,
    ) => {
      if (!switched && f === key) {
        switched = true;
        fs.renameSync(store.caDir, `${store.caDir}.old`);
        fs.renameSync(next.caDir, store.caDir);
      }
      return (read as (f: fs.PathOrFileDescriptor, o?: unknown) => string | Buffer)(f, o);
    }) as typeof fs.readFileSync);
    try {
      const ca = loadCa(openStore(store.root));
      expect(switched).toBe(true);
      expect(ca?.fingerprint256).toBe(replacement.fingerprint256);
    } finally {
      spy.mockRestore();
    }
  });
});
