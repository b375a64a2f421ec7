// The engine side of "replaced CAs must not stay trusted" (what the UI calls): trust.replaced lists a
// replaced CA still in a real temp NSS database, and trust.uninstall {scope} removes it and the current
// one by bytes (scope "replaced" keeps the current one), leaving a foreign certificate alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { createEngine, type Engine } from './index';
import {
  nssDbTrusting,
  nssFingerprints as nssFingerprintsOf,
  tempDir,
} from '../../e2e/helpers/tools';
import { foreignCa } from '../trust/testing';

describe('engine: trust.replaced and trust.uninstall {scope}', () => {
  let tmp: ReturnType<typeof tempDir>;
  let engine: Engine;
  let nssdb: string;
  const confirms: string[] = [];

  const call = async (name: string, input: unknown = {}) => {
    const r = await engine.call(name, input);
    if (!r.ok) throw new Error(`${name}: ${r.error.code} ${r.error.cause}`);
    return r.result as never;
  };
  const nssFingerprints = () => nssFingerprintsOf(nssdb);

  beforeAll(() => {
    tmp = tempDir('wss-engine-allours-');
    const user = path.join(tmp.dir, 'user');
    const foreign = foreignCa(tmp.dir).certPath;
    nssdb = nssDbTrusting(user, foreign, 'foreign');
    fs.mkdirSync(path.join(tmp.dir, 'trust-root'));
    engine = createEngine({
      home: path.join(tmp.dir, 'state'),
      shell: 'electron',
      env: {
        ...process.env,
        HOME: user,
        WSS_STUDIO_TRUST_ROOT: path.join(tmp.dir, 'trust-root'),
        PATH: process.env.PATH,
        JAVA_HOME: '',
      },
      hooks: { confirm: async (q) => (confirms.push(q.title), true) },
    });
  });
  afterAll(async () => {
    await engine?.close();
    tmp?.cleanup();
  });

  it('lists the replaced CA still trusted, then removes every CA of ours and nothing else', async () => {
    const foreignFp = nssFingerprints()[0];
    const a = (await call('ca.create', { keyType: 'ecdsa' })) as { fingerprint256: string };
    await call('trust.install', { stores: ['nss'] });
    expect(await call('trust.replaced')).toEqual([]);
    const b = (await call('ca.create', { keyType: 'ecdsa', force: true })) as {
      fingerprint256: string;
    };
    await call('trust.install', { stores: ['nss'] });
    expect(nssFingerprints().sort()).toEqual(
      [a.fingerprint256, b.fingerprint256, foreignFp].sort(),
    );

    const replaced = (await call('trust.replaced')) as Array<{ fingerprint256: string }>;
    expect(replaced).toEqual([
      expect.objectContaining({ fingerprint256: a.fingerprint256, trustedBy: ['nss'] }),
    ]);

    // "replaced": the old CA goes, the current one stays trusted.
    const r1 = (await call('trust.uninstall', { stores: ['nss'], scope: 'replaced' })) as {
      stores: Array<{ store: string; state: string; changed: boolean }>;
    };
    expect(r1.stores).toEqual([expect.objectContaining({ store: 'nss', changed: true })]);
    expect(confirms).toContain('Remove replaced WSS Studio CAs?');
    expect(nssFingerprints().sort()).toEqual([b.fingerprint256, foreignFp].sort());
    expect(await call('trust.replaced')).toEqual([]);

    // A third CA; "all" removes it and the one it replaced, never the foreign certificate.
    await call('ca.create', { keyType: 'ecdsa', force: true });
    await call('trust.install', { stores: ['nss'] });
    const r = (await call('trust.uninstall', { stores: ['nss'], scope: 'all' })) as {
      stores: Array<{ store: string; state: string; changed: boolean }>;
    };
    expect(r.stores).toEqual([
      expect.objectContaining({ store: 'nss', state: 'not-trusted', changed: true }),
    ]);
    expect(confirms).toContain('Remove every WSS Studio CA?');
    expect(nssFingerprints()).toEqual([foreignFp]);
    expect(await call('trust.replaced')).toEqual([]);
  });
});
