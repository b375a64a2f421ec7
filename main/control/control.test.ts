// The control endpoint: only the same user can open it (folder 0700, socket 0600), every request needs the
// token and is validated by the shared schemas, only CONTROL_REQUESTS are answered, several instances are
// told apart, and the Windows pipe name / long-path fallback are built as documented.
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { createEngine, type Engine } from '../engine';
import { waitFor } from '../echo/testing';
import { ControlClient, listInstances } from './client';
import type { WssError } from '../../shared/errors';
import { endpointFor, homeTag, MAX_SOCKET_PATH } from './paths';
import { run } from '../cli/index';
import type { Io } from '../cli/command';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function home(): string {
  const h = fs.mkdtempSync(path.join(os.tmpdir(), 'wss-ctl-'));
  cleanups.push(() => fs.rmSync(h, { recursive: true, force: true }));
  return h;
}

async function engineWithServer(h: string): Promise<{ engine: Engine; url: string }> {
  const engine = createEngine({ home: h, shell: 'web' });
  cleanups.push(() => engine.close());
  const add = await engine.call('server.add', { scheme: 'ws', port: 0, name: 'Chat' });
  const id = (add as { result: { id: string } }).result.id;
  await engine.call('server.start', { id });
  await engine.startEnabledServers();
  const list = (await engine.call('server.list', {})) as { result: { url: string }[] };
  return { engine, url: list.result[0]?.url as string };
}

function rawRequest(endpoint: string, line: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const s = net.connect(endpoint);
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        s.destroy();
        resolve(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
      }
    });
    s.on('error', reject);
    s.write(line + '\n');
  });
}

describe('control endpoint', () => {
  it('is owner-only, needs the token and refuses requests outside the list', async () => {
    const h = home();
    await engineWithServer(h);
    const [info] = listInstances(h);
    expect(info).toBeDefined();
    if (!info) return;
    expect(info.pid).toBe(process.pid);
    expect(fs.statSync(path.join(h, 'control')).mode & 0o777).toBe(0o700);
    expect(fs.statSync(info.endpoint).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(h, 'control', `${process.pid}.json`)).mode & 0o777).toBe(0o600);

    const wrong = await rawRequest(
      info.endpoint,
      JSON.stringify({ id: 1, token: 'f'.repeat(64), name: 'server.list' }),
    );
    expect(wrong).toMatchObject({
      id: 1,
      ok: false,
      error: { code: 'CONTROL_REFUSED', field: 'token' },
    });
    const notJson = await rawRequest(info.endpoint, '{nope');
    expect(notJson).toMatchObject({ ok: false, error: { cause: 'the request is not JSON' } });
    const c = new ControlClient(info);
    cleanups.push(() => c.close());
    // cert.issue and friends are not reachable from a terminal process through this endpoint.
    await expect(c.call('ca.create', {})).rejects.toMatchObject({
      data: { code: 'CONTROL_REFUSED', field: 'name' },
    });
    // Input is validated by the contract's schema: the field is named.
    const err = await c
      .call('push.send', { serverId: 'x', text: 5 })
      .catch((e: WssError) => e.data);
    expect(err).toMatchObject({ code: 'INVALID_INPUT', field: 'text' });
    const hello = await c.hello();
    expect(hello).toMatchObject({
      pid: process.pid,
      shell: 'web',
      servers: [{ name: 'Chat', state: 'running' }],
    });
  });

  it('survives garbage, wrong shapes and too many connections, then still answers', async () => {
    const h = home();
    await engineWithServer(h);
    const [info] = listInstances(h);
    if (!info) throw new Error('no instance');
    const lines = [
      'null',
      '[]',
      '"x"',
      '42',
      '{"id":"1","token":"x","name":"server.list"}',
      JSON.stringify({ id: 1, token: info.token, name: 'server.list', extra: 1 }),
      JSON.stringify({ id: 2, token: info.token, name: '__proto__' }),
      Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37) % 256)).toString('latin1'),
    ];
    for (const l of lines) {
      const r = await rawRequest(info.endpoint, l.replace(/\n/g, ' '));
      expect(r).toMatchObject({ ok: false, error: { code: 'CONTROL_REFUSED' } });
    }
    const many = await Promise.all(
      Array.from(
        { length: 40 },
        () =>
          new Promise<net.Socket>((res) => {
            const s = net.connect(info.endpoint, () => res(s));
            s.on('error', () => res(s));
          }),
      ),
    );
    const c = new ControlClient(info);
    for (const s of many) s.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect((await c.hello()).pid).toBe(process.pid);
    c.close();
  });

  it('"wss-studio send" finds the server by its name and says which instance it used', async () => {
    const h = home();
    const { url } = await engineWithServer(h);
    const got: string[] = [];
    const ws = new WebSocket(url);
    ws.on('message', (d: Buffer) => got.push(d.toString()));
    await new Promise((r) => ws.once('open', r));
    cleanups.push(() => ws.close());
    const out: string[] = [];
    const err: string[] = [];
    const io: Io = {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      env: { WSS_STUDIO_HOME: h },
      cwd: h,
      interrupted: new Promise(() => {}),
    };
    expect(await run(['send', 'chat', 'hello all'], io)).toBe(0);
    expect(out[0]).toMatch(
      new RegExp(
        `^sent to connection \\d+ of server "[a-z0-9-]+" in web mode \\(wss-studio ui\\) \\(pid ${process.pid}\\)$`,
      ),
    );
    await waitFor(() => got.includes('hello all'), 'injected message');
    // Stale info files (a process that is gone) are ignored and removed.
    const stale = path.join(h, 'control', '999999.json');
    fs.writeFileSync(
      stale,
      JSON.stringify({
        pid: 999999,
        endpoint: '/nonexistent',
        token: 'a'.repeat(64),
        shell: 'serve',
        startedAt: 'x',
      }),
    );
    expect(listInstances(h).map((i) => i.pid)).toEqual([process.pid]);
    expect(fs.existsSync(stale)).toBe(false);
  });

  it('says clearly when no instance runs', async () => {
    const h = home();
    const err: string[] = [];
    const io: Io = {
      out: () => {},
      err: (l) => err.push(l),
      env: { WSS_STUDIO_HOME: h },
      cwd: h,
      interrupted: new Promise(() => {}),
    };
    expect(await run(['send', 'ws', 'x'], io)).toBe(2);
    expect(err.join('\n')).toMatch(
      /no running WSS Studio instance uses the state folder[\s\S]*hint: start "wss-studio serve"/,
    );
  });
});

describe('endpoint names', () => {
  it('Windows: a named pipe per state folder and process', () => {
    const e = endpointFor('C:\\Users\\ada\\AppData\\Roaming\\WSS Studio', 4242, 'win32');
    expect(e.endpoint).toBe(
      `\\\\.\\pipe\\wss-studio-${homeTag('C:\\Users\\ada\\AppData\\Roaming\\WSS Studio')}-4242`,
    );
    expect(e.endpoint).toMatch(/^\\\\\.\\pipe\\wss-studio-[0-9a-f]{16}-4242$/);
    expect(e.dir).toBeUndefined();
  });
  it('Unix: in the state folder, or a per-user temp folder when the path is too long for a socket', () => {
    expect(endpointFor('/home/ada/.local/share/wss-studio', 7, 'linux')).toEqual({
      endpoint: '/home/ada/.local/share/wss-studio/control/7.sock',
      dir: '/home/ada/.local/share/wss-studio/control',
    });
    const deep = '/x/' + 'd'.repeat(120);
    const e = endpointFor(deep, 7, 'linux', '/tmp', 1000);
    expect(e.dir).toBe('/tmp/wss-studio-1000');
    expect(e.endpoint).toBe(`/tmp/wss-studio-1000/${homeTag(deep)}-7.sock`);
    expect(Buffer.byteLength(e.endpoint)).toBeLessThanOrEqual(MAX_SOCKET_PATH);
  });
});
