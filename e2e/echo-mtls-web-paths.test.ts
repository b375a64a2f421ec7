// Web mode: a server's clientCaFile is a path typed into the page, so the page must not learn from the
// error which files exist or what they hold. Over a 'web' engine a missing file, a folder, a device, a text
// file and a certificate that is not a CA all give the same code and sentence (only the path given differs);
// the server card's status carries the same one. The CLI and desktop keep the exact cause (checked too).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../main/engine';
import { makeTestPki, type TestPki } from '../main/echo/testing';
import { getLeaf } from '../main/pki';

let pki: TestPki;
let cases: Record<string, string>;

beforeAll(async () => {
  pki = await makeTestPki(['localhost']);
  const put = (n: string, t: string) => {
    const f = path.join(pki.home, n);
    fs.writeFileSync(f, t);
    return f;
  };
  cases = {
    missing: path.join(pki.home, 'no-such-file.pem'),
    folder: pki.home,
    device: '/dev/zero',
    text: put('notes.txt', 'hello\n'),
    leaf: put('leaf.pem', getLeaf(pki.store, pki.leafId).certPem),
  };
}, 60_000);
afterAll(() => pki?.cleanup());

interface Err {
  code: string;
  cause: string;
}

async function startWith(shell: 'web' | 'test', clientCaFile: string) {
  const engine = createEngine({ home: pki.home, shell });
  try {
    const added = (await engine.call('server.add', {
      scheme: 'wss',
      certId: pki.leafId,
      requireClientCert: true,
      clientCaFile,
    })) as { ok: boolean; result: { id: string } };
    expect(added.ok).toBe(true);
    const id = added.result.id;
    const started = (await engine.call('server.start', { id })) as { ok: boolean; error: Err };
    expect(started.ok).toBe(false);
    const list = (await engine.call('server.list', {})) as {
      result: { id: string; error?: { cause: string } }[];
    };
    const status = list.result.find((s) => s.id === id)?.error?.cause;
    await engine.call('server.remove', { id });
    return { error: started.error, status };
  } finally {
    await engine.close();
  }
}

describe('clientCaFile errors over web mode', () => {
  it('one code and one sentence for missing, folder, device, text and non-CA files', async () => {
    const seen = new Set<string>();
    for (const [name, file] of Object.entries(cases)) {
      const { error, status } = await startWith('web', file);
      expect(error.code, name).toBe('CLIENT_CA_INVALID');
      const generic = error.cause.replace(JSON.stringify(file), '"FILE"');
      seen.add(generic);
      expect(status?.replace(JSON.stringify(file), '"FILE"'), name).toBe(generic);
      expect(error.cause, name).not.toMatch(/ENOENT|EISDIR|regular|no CA certificate|block/);
    }
    expect([...seen]).toEqual([
      expect.stringContaining(
        'client CA file "FILE" is not a readable PEM file of CA certificates',
      ),
    ]);
  });

  it('outside web mode the exact cause is still said', async () => {
    const missing = await startWith('test', cases.missing as string);
    expect(missing.error.cause).toMatch(/ENOENT/);
    const leaf = await startWith('test', cases.leaf as string);
    expect(leaf.error.code).toBe('CLIENT_CA_INVALID');
    expect(leaf.error.cause).toMatch(/holds no CA certificate/);
  });
});
