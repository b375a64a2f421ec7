// The Servers screen's state with a fake engine: an edit sends only the fields the user changed (so it
// never writes back what the CLI or another window changed meanwhile), an emptied field means the engine's
// default from shared/, and the list follows the server.status stream with no reload after an action.
import { describe, expect, it } from 'vitest';
import { SERVER_DEFAULTS, type ServerDto } from '../../../shared/api';
import { WssError } from '../../../shared/errors';
import { AddServerForm, ServerDraft } from './servers.svelte';
import { Studio } from './studio.svelte';
import { fakeEngine } from './testing';

function server(over: Partial<ServerDto['definition']> = {}, id = 'wss-main'): ServerDto {
  return {
    id,
    state: 'stopped',
    connections: 0,
    definition: {
      id,
      name: 'main',
      scheme: 'wss',
      host: '127.0.0.1',
      port: 8443,
      path: '/ws',
      certId: 'localhost',
      protocols: ['chat'],
      perMessageDeflate: false,
      requireClientCert: false,
      allowedOrigins: [],
      maxPayload: 1024,
      mode: 'echo',
      enabled: false,
      ...over,
    },
  };
}

describe('ServerDraft', () => {
  it('an untouched draft has nothing to save', () => {
    expect(new ServerDraft(server()).patch()).toEqual({});
    expect(
      new ServerDraft(server({ clientCaFile: '/ca.pem', requireClientCert: true })).patch(),
    ).toEqual({});
  });

  it('sends only the edited fields, never the certificate or other fields it was opened with', () => {
    const d = new ServerDraft(server());
    d.subprotocols = 'chat, v2.json';
    d.mode = 'broadcast';
    expect(d.patch()).toEqual({ protocols: ['chat', 'v2.json'], mode: 'broadcast' });
    d.subprotocols = ' chat ';
    expect(d.patch()).toEqual({ mode: 'broadcast' });
    d.requireClientCert = true;
    expect(d.patch()).toEqual({ mode: 'broadcast', requireClientCert: true });
    d.clientCaFile = ' /etc/ca.pem ';
    expect(d.patch()).toEqual({
      mode: 'broadcast',
      requireClientCert: true,
      clientCaFile: '/etc/ca.pem',
    });
  });

  it("an emptied field is the engine's default (shared/servers.ts), sent only when it changes something", () => {
    const d = new ServerDraft(server());
    d.host = '';
    d.path = '';
    d.maxPayload = '' as unknown as number; // what an emptied <input type="number"> binds
    d.port = '' as unknown as number;
    expect(d.patch()).toEqual({
      path: SERVER_DEFAULTS.path,
      maxPayload: SERVER_DEFAULTS.maxPayload,
      port: SERVER_DEFAULTS.port,
    });
    expect(SERVER_DEFAULTS).toMatchObject({ host: '127.0.0.1', maxPayload: 16 * 1024 * 1024 });
  });

  it('turning mTLS off clears the CA file; a ws server never sends the wss-only fields', () => {
    const d = new ServerDraft(server({ requireClientCert: true, clientCaFile: '/ca.pem' }));
    d.requireClientCert = false;
    expect(d.patch()).toEqual({ requireClientCert: false, clientCaFile: null });
    const ws = new ServerDraft(server({ scheme: 'ws', certId: undefined }, 'ws-1'));
    ws.requireClientCert = true;
    ws.clientCaFile = '/ca.pem';
    expect(ws.patch()).toEqual({});
  });
});

describe('Studio and AddServerForm', () => {
  it('an add sends what the form holds and reloads nothing: the list comes from server.status', async () => {
    const added = server({ name: 'new one', scheme: 'ws', certId: undefined }, 'ws-new');
    const running: ServerDto = { ...added, state: 'running', port: 4000 };
    const eng = fakeEngine({
      'app.info': () => ({}) as never,
      'ca.get': () => null,
      'cert.list': () => [],
      'server.list': () => [],
      'server.add': () => added,
      'server.start': () => running,
    });
    const studio = new Studio(eng.api);
    await studio.start();
    const form = new AddServerForm(studio);
    form.scheme = 'ws';
    form.name = ' new one ';
    const s = await form.submit();
    expect(s).toEqual(running);
    expect(eng.inputs('server.add')).toEqual([{ name: 'new one', scheme: 'ws', port: 0 }]);
    expect(eng.inputs('server.start')).toEqual([{ id: 'ws-new' }]);
    // One load at start, none after the action.
    expect(eng.inputs('server.list')).toHaveLength(1);
    expect(studio.servers).toEqual([]);
    eng.push('server.status', { servers: [running] });
    expect(studio.servers).toEqual([running]);
    studio.stop();
  });

  it('is busy while the add runs; a failed add keeps the form open with the error, the next try clears it', async () => {
    let answer: (s: ServerDto) => void = () => {};
    let fail = true;
    const eng = fakeEngine({
      'app.info': () => ({}) as never,
      'ca.get': () => null,
      'cert.list': () => [],
      'server.list': () => [],
      'server.add': () => {
        if (fail)
          throw new WssError({
            code: 'PORT_IN_USE',
            action: 'add server',
            cause: 'port 8443 is taken',
            hint: 'pick another port',
            kind: 'input',
            field: 'port',
          });
        return new Promise<ServerDto>((r) => (answer = r));
      },
      // Added but not started: the form still closes and returns the stopped server.
      'server.start': () => {
        throw new Error('EADDRINUSE');
      },
    });
    const studio = new Studio(eng.api);
    await studio.start();
    const form = new AddServerForm(studio);
    form.openWith();
    form.port = 8443;
    expect(await form.submit()).toBeNull();
    expect(form.busy).toBe(false);
    expect(form.open).toBe(true);
    expect(form.port).toBe(8443);
    expect(form.error).toEqual({
      message: 'failed to add server: port 8443 is taken',
      hint: 'pick another port',
      code: 'PORT_IN_USE',
      field: 'port',
    });

    fail = false;
    const done = form.submit();
    expect(form.busy).toBe(true);
    expect(form.error).toBeNull();
    await Promise.resolve();
    const added = server({ name: 'new' }, 'wss-new');
    answer(added);
    expect(await done).toEqual(added);
    expect(form.busy).toBe(false);
    expect(form.open).toBe(false);
    expect(form.port).toBe(0);
    expect(eng.inputs('server.start')).toEqual([{ id: 'wss-new' }]);
    studio.stop();
  });

  it('a change made elsewhere (the CLI, another window) shows from the stream alone', async () => {
    const eng = fakeEngine({
      'app.info': () => ({}) as never,
      'ca.get': () => null,
      'cert.list': () => [],
      'server.list': () => [server()],
    });
    const studio = new Studio(eng.api);
    await studio.start();
    expect(studio.servers.map((s) => s.definition.name)).toEqual(['main']);
    const renamed = server({ name: 'renamed by the CLI' });
    eng.push('server.status', { servers: [renamed, server({}, 'ws-2')] });
    expect(studio.servers.map((s) => s.definition.name)).toEqual(['renamed by the CLI', 'main']);
    // A draft opened now starts from the pushed definition.
    expect(new ServerDraft(studio.servers[0]!).name).toBe('renamed by the CLI');
    expect(eng.inputs('server.list')).toHaveLength(1);
    // Certificates: store.changed carries no data, so it triggers the one reload of the list.
    eng.push('store.changed', { what: ['certs'] });
    await Promise.resolve();
    expect(eng.inputs('cert.list')).toHaveLength(2);
    studio.stop();
    eng.push('server.status', { servers: [] });
    expect(studio.servers).toHaveLength(2);
  });
});
