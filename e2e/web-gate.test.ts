// Over web mode, the operations that widen what a leaked token could do are refused unless `wss-studio ui`
// was started with the flag that allows them; the refusal names the flag and nothing on disk changes.
// With the flag they run, and a CA that can issue for public sites carries its warning in the RPC result.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opensslRootCa } from '../main/trust/testing';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '../shared/client';
import { WssError } from '../shared/errors';
import type { Input, RequestName } from '../shared/api';
import { createEngine } from '../main/engine';
import { snapshotTree, startRig, tempDir, type WebRig } from './helpers/web';

let locked: WebRig;
let open: WebRig;
let api: Client;
let openApi: Client;
let caroot: string;

beforeAll(async () => {
  locked = await startRig();
  open = await startRig({ allow: { unconstrained: true, lan: true } });
  api = (await locked.connect()).client;
  openApi = (await open.connect()).client;
  // An attacker's CA in a folder laid out like mkcert's CAROOT: no name constraints.
  caroot = tempDir('wss-evil-caroot-');
  mkdirSync(caroot, { recursive: true });
  opensslRootCa(
    path.join(caroot, 'rootCA-key.pem'),
    path.join(caroot, 'rootCA.pem'),
    '/O=evil/CN=evil root',
  );
}, 60_000);
afterAll(async () => {
  await locked?.close();
  await open?.close();
  if (caroot) rmSync(caroot, { recursive: true, force: true });
});

async function refusal<K extends RequestName>(name: K, input: Input<K>): Promise<WssError> {
  const before = snapshotTree(locked.home);
  const e = await api.call(name, ...([input] as never)).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e, name).toBeInstanceOf(WssError);
  expect(snapshotTree(locked.home), `${name} left the store as it was`).toEqual(before);
  return e as WssError;
}

describe('web mode without --allow-* flags', () => {
  it('refuses an unconstrained or effectively global CA, naming --allow-unconstrained', async () => {
    const inputs: Input<'ca.create'>[] = [
      { keyType: 'ecdsa', constrained: false },
      { keyType: 'ecdsa', permitted: ['.test', 'com'] },
      { keyType: 'ecdsa', permitted: ['0.0.0.0/0'] },
      { keyType: 'ecdsa', permitted: ['::/0'] },
    ];
    for (const input of inputs) {
      const e = await refusal('ca.create', input);
      expect(e.code, JSON.stringify(input)).toBe('NEEDS_FLAG');
      expect(e.message).toContain('--allow-unconstrained');
      expect(e.hint).toContain('wss-studio ui --allow-unconstrained');
    }
  });

  it('refuses to import an mkcert CA (never name-constrained)', async () => {
    const e = await refusal('ca.importMkcert', { caroot, force: true });
    expect(e.code).toBe('NEEDS_FLAG');
    expect(e.message).toMatch(/failed to import mkcert CA: .*--allow-unconstrained/);
  });

  it('refuses to trust a CA that can issue for public sites, but trusts a constrained one', async () => {
    // The user made an unconstrained CA outside the page (CLI, desktop app): the page cannot trust it.
    const made = await locked.engine.call(
      'ca.create',
      { keyType: 'ecdsa', constrained: false },
      { shell: 'test' },
    );
    expect(made.ok).toBe(true);
    const e = await refusal('trust.install', { stores: ['nss'] });
    expect(e.code).toBe('NEEDS_FLAG');
    expect(e.message).toContain('--allow-unconstrained');
    // A constrained CA: trust goes ahead (into the temp HOME's NSS database, or a store error, not a flag).
    await locked.engine.call('ca.create', { keyType: 'ecdsa', force: true }, { shell: 'test' });
    const ok = await api.call('trust.install', { stores: ['macos'] }).catch((x: WssError) => x);
    expect(ok instanceof WssError ? ok.code : 'ok').not.toBe('NEEDS_FLAG');
  });

  it('refuses a server on an address other machines can reach, naming --allow-lan', async () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10']) {
      const e = await refusal('server.add', { scheme: 'ws', host, port: 0 });
      expect(e.code, host).toBe('NEEDS_FLAG');
      expect(e.message).toContain('--allow-lan');
    }
    const s = await api.call('server.add', { scheme: 'ws', host: '127.0.0.1', port: 0 });
    const e = await refusal('server.update', { id: s.id, patch: { host: '0.0.0.0' } });
    expect(e.code).toBe('NEEDS_FLAG');
    expect(
      (await api.call('server.update', { id: s.id, patch: { host: '::1' } })).definition.host,
    ).toBe('::1');
  });

  it('refuses a proxy listening where other machines can reach it, naming --allow-lan', async () => {
    const input = {
      publicUrl: 'https://localhost:0',
      target: 'http://127.0.0.1:9',
      bindHost: '0.0.0.0',
    };
    const e = await refusal('proxy.add', input);
    expect(e.code).toBe('NEEDS_FLAG');
    expect(e.message).toContain('--allow-lan');
  });
});

describe('web mode started with --allow-unconstrained --allow-lan', () => {
  it('creates and imports unconstrained CAs, with the warning in the RPC result', async () => {
    const ca = await openApi.call('ca.create', { keyType: 'ecdsa', constrained: false });
    expect(ca.constrained).toBe(false);
    expect(ca.warning).toMatch(/ANY site/);
    const wide = await openApi.call('ca.create', {
      keyType: 'ecdsa',
      permitted: ['.test', '0.0.0.0/0'],
      force: true,
    });
    expect(wide.warning).toMatch(/names include "0\.0\.0\.0\/0"/);
    const imported = await openApi.call('ca.importMkcert', { caroot, force: true });
    expect(imported.commonName).toBe('evil root');
    expect(imported.warning).toMatch(/ANY site/);
    const local = await openApi.call('ca.create', { keyType: 'ecdsa', force: true });
    expect(local.warning).toBeUndefined();
  });

  it('adds a server on 0.0.0.0', async () => {
    expect(
      (await openApi.call('server.add', { scheme: 'ws', host: '0.0.0.0', port: 0 })).definition
        .host,
    ).toBe('0.0.0.0');
  });
});

describe('desktop app', () => {
  it('asks in a native dialog instead, and a "no" changes nothing', async () => {
    const root = tempDir('wss-gate-desktop-');
    const asked: string[] = [];
    let answer = false;
    const engine = createEngine({
      home: path.join(root, 'home'),
      shell: 'electron',
      env: { ...process.env, HOME: root },
      hooks: { confirm: async (q) => (asked.push(`${q.title} ${q.message}`), answer) },
    });
    try {
      const no = await engine.call('ca.create', { keyType: 'ecdsa', constrained: false });
      expect(no).toMatchObject({ ok: false, error: { code: 'CANCELLED' } });
      expect(snapshotTree(path.join(root, 'home'))).toEqual({});
      const lan = await engine.call('server.add', { scheme: 'ws', host: '0.0.0.0', port: 0 });
      expect(lan).toMatchObject({ ok: false, error: { code: 'CANCELLED' } });
      expect(asked).toEqual([
        'Create a CA that can sign for public sites? a CA without name constraints can impersonate any site.',
        'Open a server to your network? "0.0.0.0" is reachable from other machines.',
      ]);
      answer = true;
      const yes = await engine.call('ca.create', { keyType: 'ecdsa', constrained: false });
      expect(yes).toMatchObject({ ok: true, result: { constrained: false } });
      // An ordinary request asks nothing.
      await engine.call('server.add', { scheme: 'ws', port: 0 });
      expect(asked).toHaveLength(3);
    } finally {
      await engine.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
