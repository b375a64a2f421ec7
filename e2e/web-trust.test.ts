// trust.* through the web RPC against the real NSS tooling: a temp HOME with a fresh NSS database
// (what Chromium reads on Linux), certutil proving the CA lands there and leaves again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import type { Client } from '../shared/client';
import type { TaskProgress, TrustStoreStatus } from '../shared/api';
import { parseCertutilList } from '../main/trust/nss';
import { startRig, type WebRig } from './helpers/web';

let rig: WebRig;
let api: Client;
let db: string;

function certutil(args: string[]) {
  const r = spawnSync('certutil', args, { encoding: 'utf8' });
  if (r.error) throw new Error('certutil is missing: install it with "apt install libnss3-tools"');
  return r;
}

/** Every certificate in the temp NSS db: nickname, trust flags, SHA-256 fingerprint of its bytes. */
function nssEntries(): { nickname: string; trust: string; fingerprint: string }[] {
  const out = [];
  // The trust engineer's parser of `certutil -L` (tested on its own against real output).
  for (const { nickname, trust } of parseCertutilList(certutil(['-L', '-d', `sql:${db}`]).stdout)) {
    const pem = certutil(['-L', '-d', `sql:${db}`, '-n', nickname, '-a']).stdout;
    out.push({ nickname, trust, fingerprint: new X509Certificate(pem).fingerprint256 });
  }
  return out;
}

beforeAll(async () => {
  rig = await startRig();
  api = (await rig.connect()).client;
  db = path.join(rig.user, '.pki', 'nssdb');
  mkdirSync(db, { recursive: true });
  const r = certutil(['-N', '-d', `sql:${db}`, '--empty-password']);
  expect(r.status, r.stderr).toBe(0);
});
afterAll(async () => {
  await rig?.close();
});

describe('trust over the web RPC (NSS, real certutil)', () => {
  it('installs with progress, measures trusted, uninstalls', async () => {
    const ca = await api.call('ca.create', { keyType: 'ecdsa' });
    const pushed: TrustStoreStatus[][] = [];
    const updates: TaskProgress[] = [];
    api.on('trust.status', (b) => pushed.push(b.stores));
    api.on('task.progress', (b) => updates.push(...b.updates));

    const before = await api.call('trust.status');
    expect(before.find((s) => s.store === 'nss')?.state).toBe('not-trusted');

    const taskId = api.newTaskId();
    const inst = await api.call('trust.install', { stores: ['nss'], taskId });
    expect(inst.stores).toHaveLength(1);
    expect(inst.stores[0]).toMatchObject({ store: 'nss', state: 'trusted', changed: true });
    // The database holds our CA's exact bytes, trusted for TLS servers ("C").
    const ours = nssEntries().filter((e) => e.fingerprint === ca.fingerprint256);
    expect(ours).toHaveLength(1);
    expect(ours[0]?.trust).toMatch(/^C/);
    expect((await api.call('trust.status')).find((s) => s.store === 'nss')?.state).toBe('trusted');
    await expect.poll(() => updates.filter((u) => u.taskId === taskId).at(-1)?.state).toBe('done');
    expect(pushed.some((p) => p.some((s) => s.store === 'nss' && s.state === 'trusted'))).toBe(
      true,
    );

    const again = await api.call('trust.install', { stores: ['nss'] });
    expect(again.stores[0]).toMatchObject({ state: 'trusted', changed: false });

    const un = await api.call('trust.uninstall', { stores: ['nss'] });
    expect(un.stores[0]).toMatchObject({ store: 'nss', state: 'not-trusted', changed: true });
    expect(nssEntries().filter((e) => e.fingerprint === ca.fingerprint256)).toEqual([]);
  });

  it('without a CA, install names the fix', async () => {
    const rig2 = await startRig();
    try {
      const c = (await rig2.connect()).client;
      const e = await c.call('trust.install', { stores: ['nss'] }).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: 'NO_CA' });
      expect(String((e as { hint?: string }).hint)).toContain('ca init');
      expect(await c.call('trust.status')).toEqual([]);
    } finally {
      await rig2.close();
    }
  });
});
