// "Front a server" as a task: every bad input is refused with the field and the fix before anything is
// written or started; a good one picks or issues a certificate, persists, and starts.
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FrameLog } from '../echo/frame-log';
import { storeCertSource } from '../echo';
import { useTestbed } from './testing';
import { listLeaves } from '../pki';
import { snapshotTree } from '../../e2e/helpers/tools';
import { isWssError } from '../../shared/errors';
import { FaultRegistry } from '../faults';
import { ProxyManager } from './proxy-manager';
import { storeCerts } from './index';

const bed = useTestbed();

function manager(lookup: (h: string) => Promise<string[]> = async () => ['127.0.0.1']) {
  const m = new ProxyManager({
    log: new FrameLog(),
    settings: bed.pki.store,
    certs: storeCerts(bed.pki.store),
    faults: new FaultRegistry(),
    lookup,
  });
  bed.defer(() => m.stopAll());
  return m;
}

const plainTarget = () => bed.listen(http.createServer((_q, s) => s.end('ok')));

async function refusedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function rejects(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    if (isWssError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('bad input: clear error naming the field and the fix, nothing written, nothing started', () => {
  it.each([
    [
      'a target that refuses',
      async () => ({
        publicUrl: 'https://app.test:0',
        target: `http://localhost:${await refusedPort()}`,
      }),
      'TARGET_REFUSED',
      'target',
      /start your server so it listens on localhost:\d+/,
    ],
    [
      'http:// given but the target speaks TLS',
      async () => {
        const m = storeCertSource(bed.pki.store)(bed.pki.leafId);
        const port = await bed.listen(
          https.createServer({ key: m.keyPem, cert: m.certPem }, (_q, s) => s.end('tls')),
        );
        return { publicUrl: 'https://app.test:0', target: `http://localhost:${port}` };
      },
      'TARGET_SPEAKS_TLS',
      'target',
      /change the target to "https:\/\/localhost:\d+"/,
    ],
    [
      'https:// given but the target speaks plain HTTP',
      async () => ({
        publicUrl: 'https://app.test:0',
        target: `https://localhost:${await plainTarget()}`,
      }),
      'TARGET_SPEAKS_PLAIN',
      'target',
      /change the target to "http:\/\/localhost:\d+"/,
    ],
    [
      'a public name outside the CA constraints',
      async () => ({
        publicUrl: 'https://www.example.com:0',
        target: `http://localhost:${await plainTarget()}`,
      }),
      'NAME_NOT_PERMITTED',
      'publicUrl',
      /app\.test|--permit/,
    ],
    [
      'a busy public port',
      async () => {
        const busy = await bed.listen(net.createServer());
        return {
          publicUrl: `https://app.test:${busy}`,
          target: `http://localhost:${await plainTarget()}`,
        };
      },
      'PORT_IN_USE',
      'publicUrl',
      /pick another port/,
    ],
    [
      'a public URL with a path',
      async () => ({ publicUrl: 'https://app.test:8443/app', target: 'http://localhost:5173' }),
      'INVALID_PROXY',
      'publicUrl',
      /whole origin/,
    ],
    [
      'a target that is not a URL',
      async () => ({ publicUrl: 'https://app.test:8443', target: 'localhost 5173' }),
      'INVALID_PROXY',
      'target',
      /http:\/\/localhost:5173/,
    ],
  ])('%s', async (_name, input, code, field, hint) => {
    const before = snapshotTree(bed.pki.home);
    const m = manager(async () => []);
    const e = await rejects(m.add({ ...(await input()), start: true }));
    expect(e.code).toBe(code);
    expect(e.field).toBe(field);
    expect(e.message).toMatch(/^failed to /);
    expect(e.hint ?? '').toMatch(hint);
    expect(m.list()).toEqual([]);
    expect(snapshotTree(bed.pki.home)).toEqual(before);
  });
});

describe('a public port taken after the checks passed (another program was faster)', () => {
  /** The store's certificates, except that issuing one lets another program take `port` meanwhile. */
  function racing(port: number, removeFails = false) {
    const certs = storeCerts(bed.pki.store);
    const issued: string[] = [];
    const m = new ProxyManager({
      log: new FrameLog(),
      settings: bed.pki.store,
      certs: {
        ...certs,
        issue: async (host) => {
          const id = await certs.issue(host);
          issued.push(id);
          const other = net.createServer();
          await new Promise<void>((r) => other.listen(port, '127.0.0.1', r));
          bed.defer(() => new Promise<void>((r) => other.close(() => r())));
          return id;
        },
        remove: async (id) => {
          if (removeFails) throw new Error('disk gone');
          await certs.remove(id);
        },
      },
      lookup: async () => [],
    });
    bed.defer(() => m.stopAll());
    return { m, issued };
  }

  it('PORT_IN_USE naming publicUrl and the fix; the certificate issued on the spot is deleted, the store byte-for-byte unchanged', async () => {
    const target = await plainTarget();
    const port = await refusedPort();
    const { m, issued } = racing(port);
    const before = snapshotTree(bed.pki.home);
    const e = await rejects(
      m.add({
        publicUrl: `https://race.test:${port}`,
        target: `http://localhost:${target}`,
        start: true,
      }),
    );
    expect(issued).toHaveLength(1);
    expect([e.code, e.field]).toEqual(['PORT_IN_USE', 'publicUrl']);
    expect(e.message).toContain(`port ${port} is already in use`);
    expect(e.hint).toMatch(/pick another port/);
    expect(m.list()).toEqual([]);
    expect(listLeaves(bed.pki.store).map((l) => l.id)).not.toContain(issued[0]);
    expect(snapshotTree(bed.pki.home)).toEqual(before);
  });

  it('a certificate that cannot be deleted is named in the error with the command that deletes it', async () => {
    const target = await plainTarget();
    const port = await refusedPort();
    const { m, issued } = racing(port, true);
    const e = await rejects(
      m.add({
        publicUrl: `https://race2.test:${port}`,
        target: `http://localhost:${target}`,
        start: true,
      }),
    );
    expect([e.code, e.field]).toEqual(['PORT_IN_USE', 'publicUrl']);
    expect(e.message).toContain(
      `the certificate "${issued[0]}" issued for it is left in the store`,
    );
    expect(e.hint).toContain(`wss-studio cert delete ${issued[0]}`);
    expect(m.list()).toEqual([]);
    expect(bed.pki.store.readSettings().proxies ?? []).toEqual([]);
    storeCerts(bed.pki.store).remove(issued[0]!);
  });
});

describe('front a server', () => {
  it('issues a certificate for a new name, gives the /etc/hosts line, persists, starts; the next add picks the same certificate', async () => {
    const target = await plainTarget();
    const m = manager(async () => []);
    const before = listLeaves(bed.pki.store).length;
    const r = await m.add({
      publicUrl: 'https://shop.test:0',
      target: `http://localhost:${target}`,
      start: true,
    });
    expect(r.issuedCertId).toBeDefined();
    expect(r.proxy.definition.certId).toBe(r.issuedCertId);
    expect(r.hostsLine).toBe('127.0.0.1 shop.test');
    expect(r.proxy.state).toBe('running');
    expect(r.proxy.url).toMatch(/^https:\/\/shop\.test:\d+$/);
    expect(listLeaves(bed.pki.store).length).toBe(before + 1);
    expect(bed.pki.store.readSettings().proxies).toEqual([
      expect.objectContaining({ id: r.proxy.id, enabled: true, certId: r.issuedCertId }),
    ]);
    const r2 = await m.add({
      publicUrl: 'https://shop.test:0',
      target: `http://localhost:${target}`,
    });
    expect(r2.issuedCertId).toBeUndefined();
    expect(r2.proxy.definition.certId).toBe(r.issuedCertId);
    // A new manager over the same store sees both, and starts the enabled one.
    await m.stopAll();
    const m2 = manager();
    expect(
      m2
        .list()
        .map((p) => p.id)
        .sort(),
    ).toEqual([r.proxy.id, r2.proxy.id].sort());
    await m2.startEnabled();
    expect(m2.status(r.proxy.id).state).toBe('running');
    expect(m2.status(r2.proxy.id).state).toBe('stopped');
    await m2.remove(r.proxy.id);
    await m2.remove(r2.proxy.id);
    expect(bed.pki.store.readSettings().proxies).toEqual([]);
  });

  it('reports the target health on check: up, then refused once the target stops', async () => {
    const srv = http.createServer((_q, s) => s.end('ok'));
    const port = await bed.listen(srv);
    const m = manager();
    const r = await m.add({ publicUrl: 'http://localhost:0', target: `http://127.0.0.1:${port}` });
    expect((await m.check(r.proxy.id)).state).toBe('up');
    await new Promise<void>((res) => srv.close(() => res()));
    const h = await m.check(r.proxy.id);
    expect(h.state).toBe('refused');
    expect(h.fix).toMatch(/start your server/);
    await m.remove(r.proxy.id);
  });

  it('health follows real traffic: a refused request turns the card to refused, the next answer back to up', async () => {
    const srv = http.createServer((_q, s) => s.end('ok'));
    const port = await bed.listen(srv);
    const m = manager();
    const r = await m.add({
      publicUrl: 'http://localhost:0',
      target: `http://127.0.0.1:${port}`,
      start: true,
    });
    const via = (path: string) =>
      new Promise<number>((resolve, reject) =>
        http
          .get(
            { host: '127.0.0.1', port: r.proxy.port, path },
            (res) => (res.resume(), resolve(res.statusCode ?? 0)),
          )
          .on('error', reject),
      );
    expect(await via('/')).toBe(200);
    await new Promise<void>((res) => {
      srv.closeAllConnections();
      srv.close(() => res());
    });
    expect(await via('/again')).toBe(502);
    expect(m.status(r.proxy.id).health).toMatchObject({
      state: 'refused',
      fix: expect.stringContaining('start your server'),
    });
    const srv2 = http.createServer((_q, s) => s.end('back'));
    await new Promise<void>((res) => srv2.listen(port, '127.0.0.1', () => res()));
    bed.defer(
      () => new Promise<void>((res) => (srv2.closeAllConnections(), srv2.close(() => res()))),
    );
    expect(await via('/third')).toBe(200);
    expect(m.status(r.proxy.id).health.state).toBe('up');
  });

  it('an update keeps the name and the certificate fitting together, and writes nothing when they do not', async () => {
    const target = await plainTarget();
    const m = manager(async () => []);
    const r = await m.add({
      publicUrl: 'https://localhost:0',
      target: `http://localhost:${target}`,
    });
    expect(r.proxy.definition.certId).toBe(bed.pki.leafId);
    const before = snapshotTree(bed.pki.home);
    const e1 = await rejects(m.update(r.proxy.id, { publicUrl: 'https://shop.test:0' }));
    expect([e1.code, e1.field]).toEqual(['CERT_MISMATCH', 'certId']);
    const e2 = await rejects(
      m.update(r.proxy.id, { publicUrl: 'https://evil.example:0', certId: null }),
    );
    expect([e2.code, e2.field]).toEqual(['NAME_NOT_PERMITTED', 'publicUrl']);
    expect(snapshotTree(bed.pki.home)).toEqual(before);
    const ok = await m.update(r.proxy.id, { preserveHost: false });
    expect(ok.definition.preserveHost).toBe(false);
    await m.remove(r.proxy.id);
  });
});
