// A damaged certificate folder is reported through the API (cert.damaged: id, path, what is wrong) instead of
// vanishing from the UI, never hides the healthy ones (cert.list), and can be deleted with cert.delete.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { DamagedLeafDto, LeafDto } from '../../shared/api';
import { tempDir } from '../../e2e/helpers/tools';
import { createEngine, type Engine } from './index';

describe('engine: cert.damaged', () => {
  let tmp: ReturnType<typeof tempDir>;
  let engine: Engine;
  let home: string;

  const call = async <T>(name: string, input: unknown = {}): Promise<T> => {
    const r = await engine.call(name, input);
    if (!r.ok) throw new Error(`${name}: ${r.error.code} ${r.error.cause}`);
    return r.result as T;
  };

  beforeAll(() => {
    tmp = tempDir('wss-engine-damaged-');
    home = path.join(tmp.dir, 'state');
    engine = createEngine({ home, shell: 'web', env: { PATH: process.env.PATH } });
  });
  afterAll(async () => {
    await engine?.close();
    tmp?.cleanup();
  });

  it('lists each damaged folder with its path and problem, keeps the others, and deletes it', async () => {
    await call('ca.create', { keyType: 'ecdsa' });
    const issue = async (name: string) =>
      (await call<{ leaf: LeafDto }>('cert.issue', { names: [name], keyType: 'ecdsa' })).leaf;
    const good = await issue('good.test');
    const nullMeta = await issue('null-meta.test');
    const noCert = await issue('no-cert.test');
    const badNames = await issue('bad-names.test');
    expect(await call('cert.damaged')).toEqual([]);

    const dir = (id: string) => path.join(home, 'certs', id);
    fs.writeFileSync(path.join(dir(nullMeta.id), 'meta.json'), 'null');
    fs.rmSync(path.join(dir(noCert.id), 'cert.pem'));
    const meta = JSON.parse(fs.readFileSync(path.join(dir(badNames.id), 'meta.json'), 'utf8'));
    fs.writeFileSync(
      path.join(dir(badNames.id), 'meta.json'),
      JSON.stringify({ ...meta, names: 'bad-names.test' }),
    );

    const list = await call<LeafDto[]>('cert.list');
    expect(list.map((l) => l.id)).toEqual([good.id]);

    const damaged = await call<DamagedLeafDto[]>('cert.damaged');
    const byId = new Map(damaged.map((d) => [d.id, d]));
    expect([...byId.keys()].sort()).toEqual([nullMeta.id, noCert.id, badNames.id].sort());
    for (const d of damaged) expect(d.path).toBe(dir(d.id));
    expect(byId.get(nullMeta.id)!.problem).toMatch(/meta\.json.*must be a JSON object/);
    expect(byId.get(noCert.id)!.problem).toBe('cert.pem missing');
    expect(byId.get(badNames.id)!.problem).toMatch(/"names" must be an array of names/);

    await call('cert.delete', { id: nullMeta.id });
    expect(fs.existsSync(dir(nullMeta.id))).toBe(false);
    expect((await call<DamagedLeafDto[]>('cert.damaged')).map((d) => d.id).sort()).toEqual(
      [noCert.id, badNames.id].sort(),
    );
    // The healthy certificate was never touched.
    expect((await call<LeafDto[]>('cert.list')).map((l) => l.fingerprint256)).toEqual([
      good.fingerprint256,
    ]);
  }, 60_000);
});
