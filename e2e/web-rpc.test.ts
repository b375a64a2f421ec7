// The contract round trip through web mode's RPC against a real engine in a temp WSS_STUDIO_HOME, and
// bad input over the API: a validation error naming the field, the disk untouched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { WebSocket } from 'ws';
import { ApiError, type Client } from '../shared/client';
import type { TaskProgress } from '../shared/api';
import { startRig, snapshotTree, type WebRig } from './helpers/web';

let rig: WebRig;
let api: Client;

beforeAll(async () => {
  rig = await startRig();
  api = (await rig.connect()).client;
});
afterAll(async () => {
  await rig?.close();
});

function openssl(args: string[]) {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.error) throw new Error('openssl is missing: install it with "apt install openssl"');
  return r;
}

describe('round trip', () => {
  it('app.info names the web shell and the temp home', async () => {
    const info = await api.call('app.info');
    expect(info.shell).toBe('web');
    expect(info.native).toBe(false);
    expect(info.home).toBe(rig.home);
  });

  it('creates a CA with progress events, issues a certificate, exports it', async () => {
    expect(await api.call('ca.get')).toBeNull();
    const updates: TaskProgress[] = [];
    const changed: string[] = [];
    api.on('task.progress', (b) => updates.push(...b.updates));
    api.on('store.changed', (b) => changed.push(...b.what));
    const taskId = api.newTaskId();
    const ca = await api.call('ca.create', { keyType: 'ecdsa', taskId });
    expect(ca.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(ca.constrained).toBe(true);
    expect(JSON.stringify(ca)).not.toContain('PRIVATE KEY');
    expect((await api.call('ca.get'))?.fingerprint256).toBe(ca.fingerprint256);

    const issued = await api.call('cert.issue', { names: ['localhost', '127.0.0.1', '::1'] });
    expect(issued.leaf.names).toEqual(['localhost', '127.0.0.1', '::1']);
    expect(issued.leaf.caFingerprint256).toBe(ca.fingerprint256);
    // The certificate the RPC returned is the one on disk and is signed by the CA.
    const x = new X509Certificate(issued.leaf.certPem);
    expect(x.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(JSON.stringify(issued)).not.toContain('PRIVATE KEY');

    const list = await api.call('cert.list');
    expect(list.map((l) => l.id)).toEqual([issued.leaf.id]);

    const p12 = await api.call('cert.export', {
      id: issued.leaf.id,
      format: 'p12',
      password: 's3cret',
    });
    const file = path.join(rig.home, 'out.p12');
    writeFileSync(file, Buffer.from(p12.dataBase64, 'base64'));
    const r = openssl(['pkcs12', '-in', file, '-passin', 'pass:s3cret', '-nokeys', '-clcerts']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(issued.leaf.certPem.split('\n')[1]);

    const key = await api.call('cert.export', { id: issued.leaf.id, format: 'key' });
    expect(key.text).toContain('PRIVATE KEY');

    await new Promise((res) => setTimeout(res, 150));
    const mine = updates.filter((u) => u.taskId === taskId);
    expect(mine[0]?.step).toBe('started');
    expect(mine.some((u) => /key/.test(u.step))).toBe(true);
    expect(mine.at(-1)?.state).toBe('done');
    expect(changed).toContain('ca');
    expect(changed).toContain('certs');
  });

  it('checks names live without failing on bad ones', async () => {
    const v = await api.call('names.check', { names: ['localhost', 'bad name!'] });
    expect(v[0]?.error).toBeUndefined();
    expect(v[1]?.error).toBeTruthy();
  });

  it('pushes at most one batch per stream per ~50 ms', async () => {
    const pushes: number[] = [];
    const off = api.on('store.changed', () => pushes.push(Date.now()));
    // Five store changes in a burst arrive as one push (renew + delete are real engine calls).
    const { leaf } = await api.call('cert.issue', { names: ['a.test'] });
    await api.call('cert.renew', { id: leaf.id });
    await api.call('cert.delete', { id: leaf.id });
    await new Promise((res) => setTimeout(res, 200));
    off();
    expect(pushes.length).toBeGreaterThanOrEqual(1);
    expect(pushes.length).toBeLessThanOrEqual(2);
  });
});

describe('bad input over the API', () => {
  async function rejects(name: Parameters<Client['call']>[0], input: unknown): Promise<ApiError> {
    const before = snapshotTree(rig.home);
    const e = await (api.call as (n: string, i: unknown) => Promise<unknown>)(name, input).then(
      () => {
        throw new Error(`${name} accepted ${JSON.stringify(input).slice(0, 80)}`);
      },
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(ApiError);
    expect(snapshotTree(rig.home)).toEqual(before);
    return e as ApiError;
  }

  it('wrong types name the field', async () => {
    const e = await rejects('cert.issue', { names: 'localhost' });
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.field).toBe('names');
    const e2 = await rejects('cert.issue', { names: ['ok.test', 7] });
    expect(e2.field).toBe('names[1]');
    const e3 = await rejects('ca.create', { keyType: 'dsa' });
    expect(e3.field).toBe('keyType');
    expect(e3.message).toContain('"rsa" or "ecdsa"');
  });

  it('a port of 70000', async () => {
    const e = await rejects('server.add', { scheme: 'ws', port: 70000 });
    expect(e.field).toBe('port');
    expect(e.message).toContain('from 0 to 65535');
  });

  it('an unknown certificate id', async () => {
    const e = await rejects('cert.get', { id: 'no-such-cert' });
    expect(e.code).toBe('CERT_NOT_FOUND');
    expect(e.message).toContain('no-such-cert');
    const e2 = await rejects('cert.delete', { id: 'no-such-cert' });
    expect(e2.code).toBe('CERT_NOT_FOUND');
  });

  it('a 10 MB string', async () => {
    const e = await rejects('cert.issue', { names: ['x'.repeat(10 * 1024 * 1024)] });
    expect(e.field).toBe('names[0]');
    expect(e.message).toContain('at most 253 characters');
    expect(e.message.length).toBeLessThan(300);
  });

  it('an unknown request name and a malformed message', async () => {
    const e = await rejects('no.such' as never, {});
    expect(e.code).toBe('UNKNOWN_REQUEST');
    // A non-JSON message closes that connection only; the engine keeps serving others.
    const ws = new WebSocket(`ws://127.0.0.1:${rig.web.port}/rpc?token=${rig.web.token}`);
    const code = await new Promise<number>((res) => {
      ws.on('open', () => ws.send('{not json'));
      ws.on('close', (c) => res(c));
    });
    expect(code).toBe(1003);
    expect((await api.call('app.info')).shell).toBe('web');
  });
});
