// The doctor against our own echo servers (main/echo) with a real WSS Studio CA (ECDSA keys): it passes what
// works, names what does not, and leaves politely: the frame log shows the doctor's connection with the
// Origin it sent and a clean close (1000) by the client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diagnose } from '../main/doctor';
import { ServerManager, storeCertSource } from '../main/echo/index';
import { makeTestPki, waitFor, type TestPki } from '../main/echo/testing';

let pki: TestPki;
let manager: ServerManager;
let wsPort: number;
let wssPort: number;
let strictPort: number;

beforeAll(async () => {
  pki = await makeTestPki(['localhost', '127.0.0.1']);
  manager = new ServerManager({ resolveCert: storeCertSource(pki.store) });
  manager.add({ id: 'plain', scheme: 'ws', path: '/echo' });
  manager.add({ id: 'tls', scheme: 'wss', certId: pki.leafId, path: '/echo' });
  manager.add({
    id: 'strict',
    scheme: 'wss',
    certId: pki.leafId,
    path: '/chat',
    protocols: ['chat.v1'],
    allowedOrigins: ['https://app.test'],
  });
  wsPort = (await manager.start('plain')).port as number;
  wssPort = (await manager.start('tls')).port as number;
  strictPort = (await manager.start('strict')).port as number;
}, 60_000);

afterAll(async () => {
  await manager?.stopAll();
  pki?.cleanup();
});

describe('doctor vs the WSS Studio echo servers', () => {
  it('passes ws:// and wss:// and closes cleanly, as the frame log shows', async () => {
    const plain = await diagnose(`ws://localhost:${wsPort}/echo`, {
      origin: 'http://localhost:5173',
    });
    expect(plain.ok, JSON.stringify(plain.steps, null, 1)).toBe(true);
    const secure = await diagnose(`wss://localhost:${wssPort}/echo`, { caPem: pki.caPem });
    expect(secure.ok, JSON.stringify(secure.steps, null, 1)).toBe(true);
    expect(secure.tls).toMatchObject({
      issuedByOurCa: true,
      trustedByOurCa: true,
      protocol: 'TLSv1.3',
    });

    const events = () => manager.snapshot().events;
    await waitFor(
      () => events().filter((e) => e.type === 'close').length >= 2,
      'two close events in the frame log',
    );
    const open = events().find((e) => e.type === 'open' && e.serverId === 'plain');
    expect(open).toMatchObject({ origin: 'http://localhost:5173', userAgent: 'wss-studio-doctor' });
    for (const c of events().filter((e) => e.type === 'close')) {
      expect(c).toMatchObject({ code: 1000, by: 'client', clean: true });
    }
  });

  it('names TLS_ON_PLAIN_PORT and PLAIN_ON_TLS_PORT on the echo ports', async () => {
    expect((await diagnose(`wss://localhost:${wsPort}/echo`)).codes).toEqual(['TLS_ON_PLAIN_PORT']);
    expect((await diagnose(`ws://localhost:${wssPort}/echo`)).codes).toEqual(['PLAIN_ON_TLS_PORT']);
  });

  it('explains the wrong path, a refused origin and a subprotocol the server does not speak', async () => {
    const base = `wss://localhost:${strictPort}`;
    const opts = { caPem: pki.caPem, origin: 'https://app.test', protocols: ['chat.v1'] };
    expect((await diagnose(`${base}/chat`, opts)).ok).toBe(true);
    expect((await diagnose(`${base}/wrong`, opts)).codes).toEqual(['UPGRADE_NOT_FOUND']);
    expect(
      (await diagnose(`${base}/chat`, { ...opts, origin: 'https://evil.test' })).codes,
    ).toEqual(['UPGRADE_FORBIDDEN']);
    expect((await diagnose(`${base}/chat`, { ...opts, protocols: ['chat.v9'] })).codes).toEqual([
      'SUBPROTOCOL_MISMATCH',
    ]);
  });
});
