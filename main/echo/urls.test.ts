// Which URL a server is shown under, from its certificate's names and what they resolve to (lookup injected).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueLeaf, createCa } from '../pki';
import { openStore, type Store } from '../store';
import { tempDir } from '../../e2e/helpers/tools';
import path from 'node:path';
import { certView, certWarnings, covers, planUrl, type CertView, type Lookup } from './urls';

const hosts =
  (map: Record<string, string[]>): Lookup =>
  async (name) =>
    map[name] ?? [];

describe('server URLs from certificate names', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  const view = async (names: string[], days?: number): Promise<CertView> =>
    certView((await issueLeaf(store, { names, ...(days ? { days } : {}) })).leaf.certPem);

  beforeAll(async () => {
    tmp = tempDir('wss-urls-');
    store = openStore(path.join(tmp.dir, 'home'));
    await createCa(store, {});
  });
  afterAll(() => tmp.cleanup());

  it('an app.test, *.app.test certificate on 127.0.0.1 is shown as app.test, with the hosts line when needed', async () => {
    const cert = await view(['app.test', '*.app.test']);
    expect(await planUrl('127.0.0.1', cert, hosts({ localhost: ['127.0.0.1'] }))).toEqual({
      host: 'app.test',
      covered: true,
      hint: expect.stringContaining('add the line "127.0.0.1 app.test" to /etc/hosts'),
    });
    expect(await planUrl('127.0.0.1', cert, hosts({ 'app.test': ['127.0.0.1'] }))).toEqual({
      host: 'app.test',
      covered: true,
    });
    // Only the wildcard resolves: a name under it.
    const wild = await view(['*.app.test']);
    expect(await planUrl('127.0.0.1', wild, hosts({ 'www.app.test': ['127.0.0.1'] }))).toEqual({
      host: 'www.app.test',
      covered: true,
    });
    expect(certWarnings(cert, 'app.test', 'x')).toEqual([]);
    expect(certWarnings(cert, '127.0.0.1', 'x')[0]).toMatch(
      /does not cover "127\.0\.0\.1" \(its names: app\.test, \*\.app\.test\)/,
    );
  });

  it('a server bound to ::1 is [::1] unless localhost resolves there', async () => {
    const cert = await view(['localhost', '127.0.0.1', '::1']);
    expect(cert.ips).toEqual(['127.0.0.1', '::1']);
    expect(await planUrl('::1', cert, hosts({ localhost: ['127.0.0.1'] }))).toEqual({
      host: '::1',
      covered: true,
    });
    expect(await planUrl('::1', cert, hosts({ localhost: ['::1', '127.0.0.1'] }))).toEqual({
      host: 'localhost',
      covered: true,
    });
    expect(await planUrl('127.0.0.1', cert, hosts({ localhost: ['127.0.0.1'] }))).toEqual({
      host: 'localhost',
      covered: true,
    });
    // ws:// (no certificate) follows the same rule.
    expect(await planUrl('::1', undefined, hosts({ localhost: ['127.0.0.1'] }))).toEqual({
      host: '::1',
      covered: true,
    });
    expect(await planUrl('127.0.0.1', undefined, hosts({ localhost: ['127.0.0.1'] }))).toEqual({
      host: 'localhost',
      covered: true,
    });
  });

  it('a certificate that covers nothing reachable is flagged; expiry and not-yet-valid are warnings', async () => {
    const lan = await view(['10.1.2.3']);
    const plan = await planUrl('127.0.0.1', lan, hosts({}));
    expect(plan).toEqual({ host: '127.0.0.1', covered: false });
    expect(certWarnings(lan, plan.host, 'lan-id')[0]).toMatch(/does not cover "127\.0\.0\.1"/);
    const cert = await view(['localhost'], 1);
    const later = new Date(Date.parse(cert.notAfter) + 1000);
    expect(certWarnings(cert, 'localhost', 'abc', later)).toEqual([
      expect.stringMatching(/expired on .*renew it with "wss-studio cert renew abc"/),
    ]);
    const before = new Date(Date.parse(cert.notBefore) - 1000);
    expect(certWarnings(cert, 'localhost', 'abc', before)).toEqual([
      expect.stringMatching(/not valid until/),
    ]);
  });

  it('wildcards cover exactly one label', async () => {
    const cert = await view(['*.app.test']);
    expect(covers(cert, 'a.app.test')).toBe(true);
    expect(covers(cert, 'app.test')).toBe(false);
    expect(covers(cert, 'a.b.app.test')).toBe(false);
    expect(covers(cert, 'xapp.test')).toBe(false);
  });
});
