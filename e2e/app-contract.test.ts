// Every contract entry is reachable through BOTH the Electron IPC binding (fake ipcMain + the real
// preload bridge over a fake ipcRenderer, wired to a real engine) and web mode's RPC. "Reachable" means
// the request got past naming, the sender check and validation into its engine handler.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { IpcMainInvokeEvent, IpcRenderer } from 'electron';
import { requestNames, type Input, type RequestName } from '../shared/api';
import { createClient, ipcTransport, type Client } from '../shared/client';
import { WssError } from '../shared/errors';
import { createEngine, type Engine } from '../main/engine';
import { bindIpc } from '../main/app/ipc';
import { buildBridge } from '../main/app/bridge';
import { isTrustedSender } from '../main/app/security';
import { startRig, tempDir, type WebRig } from './helpers/web';

/** One valid input per request. Typed against the table: a new entry without a sample does not compile. */
const samples: { [K in RequestName]: Input<K> } = {
  'app.info': {},
  'app.openExternal': { url: 'https://developer.mozilla.org/en-US/docs/Web/API/WebSocket' },
  'app.copy': { text: 'wss://localhost:8443' },
  'app.saveFile': { suggestedName: 'ca.pem', dataBase64: Buffer.from('x').toString('base64') },
  'ca.get': {},
  'ca.create': { keyType: 'ecdsa' },
  'ca.importMkcert': { caroot: '/nonexistent/mkcert' },
  'ca.export': { format: 'pem' },
  'names.check': { names: ['localhost', 'bad name'] },
  'cert.list': {},
  'cert.damaged': {},
  'cert.get': { id: 'no-such-cert' },
  'cert.issue': { names: ['localhost'] },
  'cert.renew': { id: 'no-such-cert' },
  'cert.delete': { id: 'no-such-cert' },
  'cert.export': { id: 'no-such-cert', format: 'pem' },
  'trust.status': {},
  // macOS keychains do not exist on this Linux machine: reaches the trust engine, changes nothing.
  'trust.install': { stores: ['macos'] },
  'trust.uninstall': { stores: ['macos'] },
  'trust.replaced': {},
  'server.list': {},
  'server.add': { scheme: 'ws', port: 0 },
  'server.update': { id: 'no-such-server', patch: { port: 0 } },
  'server.remove': { id: 'no-such-server' },
  'server.start': { id: 'no-such-server' },
  'server.stop': { id: 'no-such-server' },
  'server.restart': { id: 'no-such-server' },
  'settings.problems': {},
  'log.snapshot': { limit: 10 },
  'log.clear': {},
  'log.configure': { capacity: 10_000 },
  'lab.results': {},
  'log.export': { format: 'jsonl' },
  'doctor.run': { url: 'ws://127.0.0.1:1/' },
  'client.connect': { url: 'ws://127.0.0.1:1/' },
  'client.send': { clientId: 'no-such-client', text: 'hi' },
  'client.ping': { clientId: 'no-such-client' },
  'client.close': { clientId: 'no-such-client', code: 4000 },
  'proxy.list': {},
  // Port 1 refuses: the add stops at the target check, nothing written.
  'proxy.add': { publicUrl: 'http://localhost:0', target: 'http://127.0.0.1:1' },
  'proxy.update': { id: 'no-such-proxy', patch: { preserveHost: false } },
  'proxy.remove': { id: 'no-such-proxy' },
  'proxy.start': { id: 'no-such-proxy' },
  'proxy.stop': { id: 'no-such-proxy' },
  'proxy.check': { id: 'no-such-proxy' },
  'faults.get': { serverId: 'no-such-proxy' },
  'faults.set': { serverId: 'no-such-proxy', faults: { latencyMs: 10 } },
  'faults.close': { serverId: 'no-such-proxy', code: 4000 },
  'conn.inject': { serverId: 'no-such-proxy', conn: 1, to: 'client', text: 'hi' },
  // Only the macOS store (absent here) and no server: CA, trust check and a localhost certificate.
  'setup.localhost': { stores: ['macos'], server: false },
  'task.cancel': { taskId: 'nothing-running' },
  'rules.get': { serverId: 'no-such-server' },
  'rules.set': { serverId: 'no-such-server', rules: { rules: [] } },
  'rules.try': { serverId: 'no-such-server', text: 'hi' },
  'push.send': { serverId: 'no-such-server', text: 'hi' },
  'push.start': { serverId: 'no-such-server', pushId: 'tick' },
  'push.stop': { serverId: 'no-such-server', pushId: 'tick' },
  'push.list': { serverId: 'no-such-server' },
  'replay.start': { serverId: 'no-such-server', conn: 1, recording: '{"log":{"entries":[]}}' },
};

/** Codes that mean the request never reached its handler. */
const NOT_REACHED = [
  'UNKNOWN_REQUEST',
  'NOT_IMPLEMENTED',
  'INVALID_INPUT',
  'SENDER_REFUSED',
  'TRANSPORT',
  'DISCONNECTED',
];

let web: WebRig;
let webApi: Client;
let ipcEngine: Engine;
let ipcApi: Client;
let ipcRoot: string;
const hookCalls: string[] = [];

beforeAll(async () => {
  // Every flag on: this test is about reaching each handler (web-gate.test.ts covers the refusals).
  web = await startRig({ allow: { unconstrained: true, lan: true } });
  webApi = (await web.connect()).client;

  ipcRoot = tempDir('wss-ipc-');
  const home = path.join(ipcRoot, 'home');
  const trustRoot = path.join(ipcRoot, 'trust-root');
  mkdirSync(trustRoot);
  ipcEngine = createEngine({
    home,
    shell: 'electron',
    env: { ...process.env, HOME: path.join(ipcRoot, 'user'), WSS_STUDIO_TRUST_ROOT: trustRoot },
    hooks: {
      copy: (t) => (hookCalls.push(`copy:${t}`), true),
      saveFile: async (n) => (hookCalls.push(`save:${n}`), { saved: true, path: `/tmp/${n}` }),
      openExternal: async (u) => (hookCalls.push(`open:${u}`), true),
      confirm: async (q) => (hookCalls.push(`confirm:${q.title}`), true),
      runPrivileged: async (argv) => (
        hookCalls.push(`privileged:${argv[0]}`),
        { code: 0, stderr: '' }
      ),
    },
  });

  // Fake electron: ipcMain and ipcRenderer joined directly, the sender being our window on app://.
  const handlers = new Map<string, (e: IpcMainInvokeEvent, input: unknown) => Promise<unknown>>();
  const window = { id: 1 };
  bindIpc(
    {
      handle: (ch, fn) => void handlers.set(ch, fn as never),
      removeHandler: (ch) => void handlers.delete(ch),
    },
    ipcEngine,
    (e) => isTrustedSender(e, () => window as never),
  );
  const event = {
    sender: window,
    senderFrame: { url: 'app://wss-studio/index.html', parent: null },
  };
  const ipcRenderer = {
    invoke: async (ch: string, input: unknown) => {
      const h = handlers.get(ch);
      if (!h) throw new Error(`No handler registered for '${ch}'`);
      // Electron structured-clones arguments and results: so do we.
      return structuredClone(
        await h(event as unknown as IpcMainInvokeEvent, structuredClone(input)),
      );
    },
    on: () => ipcRenderer,
    removeListener: () => ipcRenderer,
  };
  ipcApi = createClient(ipcTransport(buildBridge(ipcRenderer as unknown as IpcRenderer)));
});

afterAll(async () => {
  await web?.close();
  await ipcEngine?.close();
  if (ipcRoot) rmSync(ipcRoot, { recursive: true, force: true });
});

async function reach(api: Client, name: RequestName): Promise<string> {
  try {
    await (api.call as (n: string, i: unknown) => Promise<unknown>)(name, samples[name]);
    return 'ok';
  } catch (e) {
    if (!(e instanceof WssError)) throw e;
    return e.code;
  }
}

describe('every contract entry', () => {
  it('is reachable through the IPC binding and the web RPC', async () => {
    const rows: string[] = [];
    for (const name of requestNames) {
      const viaIpc = await reach(ipcApi, name);
      const viaWeb = await reach(webApi, name);
      rows.push(`${name} ipc=${viaIpc} web=${viaWeb}`);
      expect(NOT_REACHED, `${name} over IPC`).not.toContain(viaIpc);
      expect(NOT_REACHED, `${name} over web RPC`).not.toContain(viaWeb);
      // Both shells run the same engine code: the same outcome (app.* hooks differ only in their result).
      expect(viaIpc, name).toBe(viaWeb);
    }
    expect(rows).toHaveLength(requestNames.length);
  });

  it('uses the native hooks in the desktop shell only', async () => {
    expect(hookCalls).toContain('copy:wss://localhost:8443');
    expect(hookCalls).toContain('save:ca.pem');
    expect(hookCalls.some((c) => c.startsWith('open:https://developer.mozilla.org/'))).toBe(true);
    expect(hookCalls).toContain('confirm:Trust the WSS Studio CA?');
    expect(await webApi.call('app.copy', { text: 'x' })).toEqual({ copied: false });
    expect(await ipcApi.call('app.copy', { text: 'x' })).toEqual({ copied: true });
  });

  it('validates input the same way on both (port 70000 names the field)', async () => {
    for (const api of [ipcApi, webApi]) {
      const e = await api
        .call('server.update', { id: 'x', patch: { port: 70000 } })
        .catch((x: unknown) => x);
      expect(e).toBeInstanceOf(WssError);
      expect((e as WssError).field).toBe('patch.port');
    }
  });

  it('refuses IPC from a frame that is not our page', async () => {
    const handlers = new Map<string, (e: IpcMainInvokeEvent, input: unknown) => Promise<unknown>>();
    const window = {};
    bindIpc(
      { handle: (ch, fn) => void handlers.set(ch, fn as never), removeHandler: () => {} },
      ipcEngine,
      (e) => isTrustedSender(e, () => window as never),
    );
    const evil = { sender: window, senderFrame: { url: 'https://evil.example/', parent: null } };
    const r = await handlers.get('api:cert.list')?.(evil as unknown as IpcMainInvokeEvent, {});
    expect(r).toMatchObject({ ok: false, error: { code: 'SENDER_REFUSED' } });
  });
});
