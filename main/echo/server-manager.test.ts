import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { isWssError } from '../../shared/errors';
import { issueLeaf } from '../pki';
import { openStore } from '../store';
import { createServerManager, pickLeafFor } from './index';
import type { ServerManager } from './server-manager';
import { makeTestPki, type TestPki } from './testing';
import type { ServerStatusEvent } from './types';

let pki: TestPki;
const managers: ServerManager[] = [];
beforeAll(async () => {
  pki = await makeTestPki();
});
afterAll(async () => {
  await Promise.all(managers.map((m) => m.stopAll()));
  pki?.cleanup();
});

function manager(home = pki.home) {
  const m = createServerManager(openStore(home));
  managers.push(m);
  return m;
}

async function echoOnce(url: string, ca?: string): Promise<string> {
  const ws = new WebSocket(url, ca ? { ca } : {});
  try {
    await new Promise((res, rej) => {
      ws.once('open', res);
      ws.once('error', rej);
    });
    const got = new Promise<string>((r) => ws.once('message', (d: Buffer) => r(d.toString())));
    ws.send('ping me');
    return await got;
  } finally {
    ws.terminate();
  }
}

describe('ServerManager', () => {
  it('persists definitions in settings.json and brings enabled servers back on the next start', async () => {
    const m1 = manager();
    const a = m1.add({ id: 'plain', scheme: 'ws', path: '/echo' });
    expect(a.state).toBe('stopped');
    m1.add({ id: 'tls', scheme: 'wss', certId: pki.leafId, protocols: ['chat'] });
    const running = await m1.start('plain');
    expect(running.state).toBe('running');
    // localhost resolves to 127.0.0.1 here (/etc/hosts), so the URL uses the name (see urls.ts).
    expect(running.url).toMatch(/^ws:\/\/localhost:\d+\/echo$/);
    expect(await echoOnce(running.url as string)).toBe('ping me');
    await m1.stopAll();
    expect(m1.status('plain').state).toBe('stopped');

    const saved = JSON.parse(fs.readFileSync(pki.store.settingsPath, 'utf8'));
    expect(saved.servers.map((s: { id: string; enabled: boolean }) => [s.id, s.enabled])).toEqual([
      ['plain', true],
      ['tls', false],
    ]);
    expect(saved.servers[1].protocols).toEqual(['chat']);

    const m2 = manager();
    expect(m2.list().map((s) => s.id)).toEqual(['plain', 'tls']);
    const back = await m2.startEnabled();
    expect(back.map((s) => [s.id, s.state])).toEqual([['plain', 'running']]);
    expect(m2.status('tls').state).toBe('stopped');
    await m2.stop('plain');
    await m2.remove('plain');
    await m2.remove('tls');
    expect(JSON.parse(fs.readFileSync(pki.store.settingsPath, 'utf8')).servers).toEqual([]);
  });

  it('swapping the certificate restarts only that server, on the same port', async () => {
    const m = manager();
    const events: ServerStatusEvent[] = [];
    m.onStatus((e) => events.push(e));
    m.add({ id: 'w1', scheme: 'ws' });
    m.add({ id: 's1', scheme: 'wss', certId: pki.leafId });
    const w = await m.start('w1');
    const s = await m.start('s1');
    expect(await echoOnce(`wss://localhost:${s.port}/`, pki.caPem)).toBe('ping me');
    const keep = new WebSocket(w.url as string);
    await new Promise((r) => keep.once('open', r));

    const { leaf: other } = await issueLeaf(pki.store, {
      names: ['localhost', 'other.test'],
      keyType: 'ecdsa',
    });
    // Connection-count events are coalesced over 50 ms: let those of the clients above pass first.
    await new Promise((r) => setTimeout(r, 150));
    events.length = 0;
    const s2 = await m.update('s1', { certId: other.id });
    expect(s2.state).toBe('running');
    expect(s2.port).toBe(s.port);
    expect(s2.definition.certId).toBe(other.id);
    // The new certificate is served: other.test is in its SAN.
    const sock = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const t = tls.connect({
        host: '127.0.0.1',
        port: s2.port,
        servername: 'other.test',
        ca: pki.caPem,
      });
      t.once('secureConnect', () => resolve(t));
      t.once('error', reject);
    });
    expect(sock.getPeerX509Certificate()?.subjectAltName).toContain('DNS:other.test');
    sock.destroy();
    // The ws server was not touched: its client is still open and no status event named it.
    expect(keep.readyState).toBe(WebSocket.OPEN);
    expect(events.every((e) => e.status.id === 's1')).toBe(true);
    expect(events.map((e) => e.status.state)).toEqual([
      'stopping',
      'stopped',
      'starting',
      'running',
      'running',
    ]);
    keep.terminate();
    await m.remove('w1');
    await m.remove('s1');
  });

  it('a failed start leaves the server in error with the reason, and nothing listening', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    const m = manager();
    try {
      m.add({ id: 'busy', port });
      const err = await m.start('busy').catch((e: unknown) => e);
      expect(isWssError(err) && err.code).toBe('PORT_IN_USE');
      const st = m.status('busy');
      expect(st.state).toBe('error');
      expect(st.error?.code).toBe('PORT_IN_USE');
      expect(st.port).toBeUndefined();
      // wss without a certificate: CERT_REQUIRED naming the cert command.
      m.add({ id: 'nocert', scheme: 'wss' });
      const e2 = await m.start('nocert').catch((e: unknown) => e);
      expect(isWssError(e2) && e2.code).toBe('CERT_REQUIRED');
      expect(isWssError(e2) && e2.hint).toContain('wss-studio cert issue localhost 127.0.0.1 ::1');
    } finally {
      blocker.close();
      await m.remove('busy');
      await m.remove('nocert');
    }
  });

  it('rejects bad definitions naming the field, and leaves settings.json as it was', () => {
    const m = manager();
    m.add({ id: 'keep' });
    const before = fs.readFileSync(pki.store.settingsPath, 'utf8');
    for (const [input, field] of [
      [{ port: 70000 }, 'port'],
      [{ scheme: 'http' }, 'scheme'],
      [{ path: 'no-slash' }, 'path'],
      [{ allowedOrigins: ['not an origin'] }, 'allowedOrigins'],
      [{ protocols: ['has space'] }, 'protocols'],
      [{ id: 'keep' }, 'id'],
    ] as const) {
      const err = (() => {
        try {
          m.add(input as never);
        } catch (e) {
          return e;
        }
      })();
      expect(isWssError(err) && err.field, JSON.stringify(input)).toBe(field);
      expect(isWssError(err) && err.kind).toBe('input');
    }
    expect(fs.readFileSync(pki.store.settingsPath, 'utf8')).toBe(before);
    return m.remove('keep');
  });

  it('skips a bad servers entry (path, index, field), loads the rest, and keeps the entry in the file', async () => {
    const home = fs.mkdtempSync(pki.home + '-bad-');
    try {
      const file = `${home}/settings.json`;
      const bad = { id: 'bad', port: 70000, enabled: true };
      const text = JSON.stringify({ schema: 1, servers: [{ id: 'ok', enabled: true }, bad] });
      fs.writeFileSync(file, text);
      const m = createServerManager(openStore(home));
      managers.push(m);
      expect(m.list().map((s) => s.id)).toEqual(['ok']);
      expect(m.problems).toEqual([
        `${JSON.stringify(file)} servers[1]: "port" must be from 0 to 65535 (got 70000)`,
      ]);
      // Loading and starting the good one writes nothing.
      await m.startEnabled();
      expect(m.status('ok').state).toBe('running');
      expect(fs.readFileSync(file, 'utf8')).toBe(text);
      // A change rewrites the list with the bad entry kept exactly as it was.
      m.add({ id: 'new' });
      expect(JSON.parse(fs.readFileSync(file, 'utf8')).servers.at(-1)).toEqual(bad);
      await m.stopAll();
      // Fixed by hand, it comes back on the next start.
      const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
      saved.servers.at(-1).port = 0;
      fs.writeFileSync(file, JSON.stringify(saved));
      const again = createServerManager(openStore(home));
      managers.push(again);
      expect(again.problems).toEqual([]);
      expect(again.list().map((s) => s.id)).toEqual(['ok', 'new', 'bad']);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it('update with certId null removes the certificate; the id cannot change', async () => {
    const m = manager();
    m.add({ id: 'c1', scheme: 'wss', certId: pki.leafId });
    const s = await m.update('c1', { certId: null });
    expect(s.definition.certId).toBeUndefined();
    expect('certId' in s.definition).toBe(false);
    expect(() => m.update('c1', { id: 'c2' })).toThrow(/the id of a server cannot change/);
    await m.remove('c1');
  });

  it('pickLeafFor finds a valid leaf covering localhost, or null', async () => {
    expect(pickLeafFor(pki.store)?.names).toContain('localhost');
    expect(pickLeafFor(pki.store, 'nothing.test')).toBeNull();
  });
});
