// Import a CAROOT made by Debian's real mkcert and issue from it.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { openStore } from '../store';
import { importMkcert, issueLeaf, loadCa, createCa } from './index';
import { runTool, tempDir, snapshotTree } from '../../e2e/helpers/tools';

describe('mkcert CA import', () => {
  it("imports rootCA.pem + rootCA-key.pem and issues leaves that verify against mkcert's rootCA.pem", async () => {
    const tmp = tempDir();
    try {
      const caroot = path.join(tmp.dir, 'caroot');
      fs.mkdirSync(caroot);
      // mkcert creates its CA on first use; -install is not needed for that (and would touch trust stores).
      const r = runTool(
        'mkcert',
        [
          '-cert-file',
          path.join(tmp.dir, 'm.pem'),
          '-key-file',
          path.join(tmp.dir, 'm-key.pem'),
          'localhost',
        ],
        {
          env: { ...process.env, CAROOT: caroot, HOME: tmp.dir, TRUST_STORES: 'none' },
          cwd: tmp.dir,
        },
      );
      expect(r.status, r.stderr).toBe(0);
      expect(fs.existsSync(path.join(caroot, 'rootCA-key.pem'))).toBe(true);

      const store = openStore(path.join(tmp.dir, 'home'));
      const ca = await importMkcert(store, caroot);
      expect(ca.source).toBe('mkcert');
      expect(ca.constrained).toBe(false);
      expect(ca.commonName).toMatch(/^mkcert /);
      const mk = runTool('openssl', [
        'x509',
        '-in',
        path.join(caroot, 'rootCA.pem'),
        '-noout',
        '-fingerprint',
        '-sha256',
      ]).stdout;
      expect(mk.toUpperCase()).toContain(ca.fingerprint256);

      const { leaf } = await issueLeaf(store, { names: ['app.test', '127.0.0.1'], keyType: 'rsa' });
      const v = runTool('openssl', [
        'verify',
        '-CAfile',
        path.join(caroot, 'rootCA.pem'),
        leaf.certPath,
      ]);
      expect(v.stdout + v.stderr).toMatch(/: OK/);
      expect(fs.statSync(path.join(store.caDir, 'ca-key.pem')).mode & 0o777).toBe(0o600);
      expect(loadCa(store)?.fingerprint256).toBe(ca.fingerprint256);
    } finally {
      tmp.cleanup();
    }
  });

  it('refuses a folder without mkcert files, and an existing CA without --force, leaving the store unchanged', async () => {
    const tmp = tempDir();
    try {
      const store = openStore(path.join(tmp.dir, 'home'));
      await expect(importMkcert(store, path.join(tmp.dir, 'nope'))).rejects.toThrow(
        /rootCA\.pem" does not exist/,
      );
      expect(fs.existsSync(store.root)).toBe(false);
      await createCa(store);
      const before = snapshotTree(store.root);
      const caroot = path.join(tmp.dir, 'caroot');
      fs.mkdirSync(caroot);
      runTool(
        'mkcert',
        [
          '-cert-file',
          path.join(tmp.dir, 'm.pem'),
          '-key-file',
          path.join(tmp.dir, 'm-key.pem'),
          'localhost',
        ],
        {
          env: { ...process.env, CAROOT: caroot, HOME: tmp.dir, TRUST_STORES: 'none' },
          cwd: tmp.dir,
        },
      );
      await expect(importMkcert(store, caroot)).rejects.toThrow(/a CA already exists/);
      expect(snapshotTree(store.root)).toEqual(before);
      // the key of another CA is refused
      fs.copyFileSync(path.join(store.caDir, 'ca-key.pem'), path.join(caroot, 'rootCA-key.pem'));
      await expect(importMkcert(store, caroot, { force: true })).rejects.toThrow(
        /does not belong to rootCA\.pem/,
      );
      expect(snapshotTree(store.root)).toEqual(before);
    } finally {
      tmp.cleanup();
    }
  });
});
