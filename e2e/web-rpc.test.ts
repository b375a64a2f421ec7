// The contract round trip through web mode's RPC against a real engine in a temp WSS_STUDIO_HOME, and
// bad input over the API: a validation error naming the field, the disk untouched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocket } from 'ws';
import type { Client } from '../shared/client';
import { WssError } from '../shared/errors';
import type { ClientEvent, LogEventDto, TaskProgress } from '../shared/api';
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
    // Usages and issuer are read from the certificate itself.
    expect(issued.leaf.keyUsage).toContain('digitalSignature');
    expect(issued.leaf.keyUsage).not.toContain('keyCertSign');
    expect(issued.leaf.extKeyUsage).toEqual(['serverAuth']);
    expect(issued.leaf.issuer).toContain(`CN=${ca.commonName}`);
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

    // The task's progress and store.changed arrive as pushes (batched on a 50 ms timer): poll for them.
    const ours = () => updates.filter((u) => u.taskId === taskId);
    await expect
      .poll(() => ours().at(-1)?.state === 'done' && changed.includes('certs'))
      .toBe(true);
    const mine = ours();
    expect(mine[0]?.step).toBe('started');
    expect(mine.some((u) => /key/.test(u.step))).toBe(true);
    expect(mine.at(-1)?.state).toBe('done');
    expect(changed).toContain('ca');
    expect(changed).toContain('certs');
  });

  it('starts a ws and a wss server, echoes through them, streams frame-log batches and status, stops them', async () => {
    const batches: { events: LogEventDto[]; dropped: number }[] = [];
    const statuses: string[][] = [];
    api.on('log.batch', (b) => batches.push(b));
    api.on('server.status', (b) => statuses.push(b.servers.map((s) => `${s.id}:${s.state}`)));
    const { leaf } = await api.call('cert.issue', { names: ['localhost', '127.0.0.1'] });
    const ca = await api.call('ca.get');
    const plain = await api.call('server.add', { scheme: 'ws', port: 0, name: 'plain' });
    const tls = await api.call('server.add', {
      scheme: 'wss',
      port: 0,
      certId: leaf.id,
      name: 'tls',
    });
    expect(plain.state).toBe('stopped');
    const a = await api.call('server.start', { id: plain.id });
    const b = await api.call('server.start', { id: tls.id });
    expect(a.state).toBe('running');
    expect(b.url).toMatch(/^wss:\/\//);
    for (const [url, ca_] of [
      [a.url, undefined],
      [b.url?.replace('127.0.0.1', 'localhost'), ca?.certPem],
    ] as const) {
      const ws = new WebSocket(String(url), ca_ ? { ca: ca_ } : {});
      const echo = await new Promise<string>((res, rej) => {
        ws.on('open', () => ws.send('hello over ' + url));
        ws.on('message', (d) => res(String(d)));
        ws.on('error', rej);
      });
      expect(echo).toBe('hello over ' + url);
      ws.close(1000, 'done');
      await new Promise((res) => ws.on('close', res));
    }
    await expect
      .poll(() => batches.flatMap((x) => x.events).filter((e) => e.type === 'close').length)
      .toBe(2);
    const events = batches.flatMap((x) => x.events);
    const frames = events.filter(
      (e): e is Extract<LogEventDto, { type: 'frame' }> => e.type === 'frame',
    );
    expect(
      frames.some(
        (f) => f.serverId === plain.id && f.dir === 'in' && f.preview.startsWith('hello'),
      ),
    ).toBe(true);
    expect(
      frames.some((f) => f.serverId === tls.id && f.dir === 'out' && f.opcode === 'text'),
    ).toBe(true);
    const open = events.find((e) => e.type === 'open' && e.serverId === tls.id);
    expect(open && open.type === 'open' && open.tls?.version).toMatch(/TLS/);
    // Batches, not one push per event: far fewer pushes than events.
    expect(batches.length).toBeLessThan(events.length);
    const snap = await api.call('log.snapshot', { limit: 1000 });
    expect(snap.events.length).toBe(events.length);
    const har = await api.call('log.export', { format: 'har' });
    expect(JSON.parse(har.text ?? '{}').log.entries.length).toBe(2);

    expect((await api.call('server.stop', { id: plain.id })).state).toBe('stopped');
    expect((await api.call('server.stop', { id: tls.id })).state).toBe('stopped');
    // certId null clears the certificate.
    const cleared = await api.call('server.update', {
      id: tls.id,
      patch: { scheme: 'ws', certId: null },
    });
    expect(cleared.definition.certId).toBeUndefined();
    await expect.poll(() => statuses.at(-1)).toEqual([`${plain.id}:stopped`, `${tls.id}:stopped`]);
    expect(statuses.some((s) => s.includes(`${plain.id}:running`))).toBe(true);
    await api.call('server.remove', { id: plain.id });
    await api.call('server.remove', { id: tls.id });
    expect(await api.call('server.list')).toEqual([]);
  });

  it('runs the doctor with one progress update per step, and cancels it', async () => {
    const updates: TaskProgress[] = [];
    const off = api.on('task.progress', (b) => updates.push(...b.updates));
    const srv = await api.call('server.add', { scheme: 'ws', port: 0 });
    const on = await api.call('server.start', { id: srv.id });
    const taskId = api.newTaskId();
    // wss:// against the plain port: the seed scenario.
    const report = await api.call('doctor.run', {
      url: String(on.url).replace('ws:', 'wss:'),
      taskId,
    });
    expect(report.ok).toBe(false);
    expect(report.steps.map((s) => s.code)).toContain('TLS_ON_PLAIN_PORT');
    await expect.poll(() => updates.filter((u) => u.taskId === taskId).at(-1)?.state).toBe('done');
    const stepped = updates
      .filter((u) => u.taskId === taskId && u.doctorStep)
      .map((u) => u.doctorStep?.id);
    expect(stepped).toEqual(report.steps.map((s) => s.id));
    // Cancel: a port that accepts and then never answers keeps the doctor waiting (5 s per step);
    // task.cancel ends it at once with the steps so far.
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const slow = api.newTaskId();
      const pending = api.call('doctor.run', {
        url: `ws://127.0.0.1:${(silent.address() as AddressInfo).port}/`,
        taskId: slow,
      });
      await expect
        .poll(() => updates.some((u) => u.taskId === slow && u.doctorStep?.id))
        .toBe(true);
      expect(await api.call('task.cancel', { taskId: slow })).toEqual({ cancelled: true });
      const cancelled = await pending;
      expect(cancelled.cancelled).toBe(true);
      await expect
        .poll(() => updates.filter((u) => u.taskId === slow).at(-1)?.state)
        .toBe('cancelled');
    } finally {
      silent.close();
    }
    off();
    await api.call('server.remove', { id: srv.id });
  });

  it('the engine-side client sends text, binary and a ping, and closes with code 4000', async () => {
    const events: ClientEvent[] = [];
    const off = api.on('client.events', (b) => events.push(...b.events));
    const srv = await api.call('server.add', { scheme: 'ws', port: 0 });
    const on = await api.call('server.start', { id: srv.id });
    const { clientId } = await api.call('client.connect', { url: String(on.url) });
    await api.call('client.send', { clientId, text: 'héllo' });
    await api.call('client.send', {
      clientId,
      dataBase64: Buffer.from([0, 1, 2, 255]).toString('base64'),
    });
    await api.call('client.ping', { clientId, dataBase64: Buffer.from('p1').toString('base64') });
    await expect
      .poll(() => events.filter((e) => e.type === 'message' || e.type === 'pong').length)
      .toBe(3);
    expect(events.find((e) => e.opcode === 'text')?.text).toBe('héllo');
    expect(events.find((e) => e.opcode === 'binary')?.dataBase64).toBe('AAEC/w==');
    expect(events.find((e) => e.type === 'pong')?.dataBase64).toBe(
      Buffer.from('p1').toString('base64'),
    );
    await api.call('client.close', { clientId, code: 4000, reason: 'bye' });
    // The echo server sends the client's close code back.
    await expect.poll(() => events.find((e) => e.type === 'close')?.code).toBe(4000);
    const e = await api.call('client.send', { clientId, text: 'late' }).catch((x: unknown) => x);
    expect((e as WssError).code).toBe('CLIENT_NOT_FOUND');
    const bad = await api
      .call('client.send', { clientId, text: 'a', dataBase64: 'AA==' })
      .catch((x: unknown) => x);
    expect((bad as WssError).code).toBe('INVALID_INPUT');
    off();
    await api.call('server.remove', { id: srv.id });
  });

  it('checks names live without failing on bad ones', async () => {
    const v = await api.call('names.check', { names: ['localhost', 'bad name!'] });
    expect(v[0]?.error).toBeUndefined();
    expect(v[1]?.error).toBeTruthy();
  });
});

describe('bad input over the API', () => {
  async function rejects(name: Parameters<Client['call']>[0], input: unknown): Promise<WssError> {
    const before = snapshotTree(rig.home);
    const e = await (api.call as (n: string, i: unknown) => Promise<unknown>)(name, input).then(
      () => {
        throw new Error(`${name} accepted ${JSON.stringify(input).slice(0, 80)}`);
      },
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(WssError);
    expect(snapshotTree(rig.home)).toEqual(before);
    return e as WssError;
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
    const e4 = await rejects('doctor.run', {
      url: 'wss://x.test/',
      clients: ['edge'],
      taskId: 't1',
    });
    expect(e4.field).toBe('clients[0]');
    expect(e4.message).toContain('must be one of chrome, firefox');
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
    // A non-JSON message gets an error reply on that connection; the engine keeps serving.
    const ws = new WebSocket(`ws://127.0.0.1:${rig.web.port}/rpc?token=${rig.web.token}`, {
      origin: rig.web.origin,
    });
    const reply = await new Promise<string>((res) => {
      ws.on('open', () => ws.send('{not json'));
      ws.on('message', (d) => res(String(d)));
    });
    expect(JSON.parse(reply)).toMatchObject({
      t: 'result',
      id: -1,
      ok: false,
      error: { code: 'BAD_MESSAGE' },
    });
    ws.close();
    expect((await api.call('app.info')).shell).toBe('web');
  });
});
