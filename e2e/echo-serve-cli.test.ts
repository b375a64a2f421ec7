// `wss-studio serve`: in-process through run(argv, io), and the real built binary spawned with a signal.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { run } from '../main/cli/index';
import type { Io } from '../main/cli/command';
import { makeTestPki, waitFor, type TestPki } from '../main/echo/testing';

const root = path.resolve(__dirname, '..');

function testIo(env: NodeJS.ProcessEnv) {
  let stop: () => void = () => {};
  const interrupted = new Promise<void>((r) => (stop = r));
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l), env, cwd: root, interrupted };
  return { io, out, err, stop };
}

async function echo(url: string, msg: string, ca?: string) {
  const ws = new WebSocket(url, ca ? { ca } : {});
  await new Promise((res, rej) => {
    ws.once('open', res);
    ws.once('error', rej);
  });
  const got = new Promise<string>((r) => ws.once('message', (d: Buffer) => r(d.toString())));
  ws.send(msg);
  const reply = await got;
  await new Promise<void>((r) => {
    ws.once('close', () => r());
    ws.close(1000, 'done');
  });
  return reply;
}

let pki: TestPki;
let emptyHome: string;
beforeAll(async () => {
  pki = await makeTestPki();
  emptyHome = fs.mkdtempSync(path.join(os.tmpdir(), 'wss-serve-empty-'));
});
afterAll(() => {
  pki?.cleanup();
  if (emptyHome) fs.rmSync(emptyHome, { recursive: true, force: true });
});

describe('serve (in-process)', () => {
  it('runs ws and wss with the auto-picked localhost leaf, prints JSON Lines, stops on interrupt', async () => {
    const t = testIo({ WSS_STUDIO_HOME: pki.home });
    const done = run(['serve', '--ws', '0', '--wss', '0', '--json'], t.io);
    await waitFor(
      () => t.out.filter((l) => l.includes('"listening"')).length === 2,
      'two listening lines',
    );
    const listening = t.out.map((l) => JSON.parse(l));
    const ws = listening.find((l) => l.scheme === 'ws');
    const wss = listening.find((l) => l.scheme === 'wss');
    expect(ws.url).toMatch(/^ws:\/\/localhost:\d+\/$/);
    expect(wss.url).toMatch(/^wss:\/\/localhost:\d+\/$/);
    expect(wss.certId).toBe(pki.leafId);
    expect(await echo(ws.url.replace('localhost', '127.0.0.1'), 'plain hello')).toBe('plain hello');
    expect(await echo(wss.url, 'tls hello', pki.caPem)).toBe('tls hello');
    await waitFor(
      () => t.out.filter((l) => l.includes('"type":"close"')).length === 2,
      'close events',
    );
    t.stop();
    expect(await done).toBe(0);
    const events = t.out.map((l) => JSON.parse(l));
    const frames = events.filter((e) => e.type === 'frame' && e.opcode === 'text');
    expect(frames.map((f) => [f.serverId, f.dir, f.preview])).toEqual([
      ['ws', 'in', 'plain hello'],
      ['ws', 'out', 'plain hello'],
      ['wss', 'in', 'tls hello'],
      ['wss', 'out', 'tls hello'],
    ]);
    expect(events.find((e) => e.type === 'open' && e.serverId === 'wss').tls.version).toMatch(
      /TLSv1/,
    );
    expect(events[events.length - 1]).toMatchObject({ type: 'stopped', dropped: 0 });
    expect(t.err).toEqual([]);
  });

  it('prints one readable line per event without --json', async () => {
    const t = testIo({ WSS_STUDIO_HOME: emptyHome });
    const done = run(['serve'], t.io);
    await waitFor(() => t.out.some((l) => l.startsWith('ws  echo on')), 'listening line');
    const url = /echo on (\S+)/.exec(t.out[0] as string)?.[1] as string;
    expect(await echo(url.replace('localhost', '127.0.0.1'), 'readable')).toBe('readable');
    await waitFor(() => t.out.some((l) => l.includes(' closed 1000 ')), 'close line');
    t.stop();
    expect(await done).toBe(0);
    expect(t.out.some((l) => /ws#\d+ <- text 8 B "readable"$/.test(l))).toBe(true);
    expect(t.out.some((l) => /ws#\d+ -> text 8 B "readable"$/.test(l))).toBe(true);
    expect(t.out.some((l) => /ws#\d+ closed 1000 "done" by client$/.test(l))).toBe(true);
  });

  it('--wss without any certificate says exactly how to issue one, and writes nothing', async () => {
    const t = testIo({ WSS_STUDIO_HOME: emptyHome });
    const code = await run(['serve', '--wss', '0'], t.io);
    expect(code).toBe(2);
    expect(t.err[0]).toBe(
      `error: failed to start wss server: there is no valid certificate covering "localhost" in "${emptyHome}"`,
    );
    expect(t.err[1]).toContain('"wss-studio cert issue localhost 127.0.0.1 ::1"');
    expect(fs.readdirSync(emptyHome)).toEqual([]);
  });

  it('rejects bad flags naming them', async () => {
    const t = testIo({ WSS_STUDIO_HOME: emptyHome });
    expect(await run(['serve', '--ws', '70000'], t.io)).toBe(2);
    expect(t.err[0]).toContain('"--ws" must be a whole number from 0 to 65535');
    expect(await run(['serve', '--cert', 'x'], t.io)).toBe(2);
    expect(t.err.join('\n')).toContain('"--wss" was not given');
    expect(
      await run(['serve', '--wss', '0', '--cert', 'nope'], {
        ...t.io,
        env: { WSS_STUDIO_HOME: pki.home },
      }),
    ).toBe(2);
    expect(t.err.join('\n')).toContain('there is no certificate with id "nope"');
  });

  it('a port in use fails with the port named and stops the server that had started', async () => {
    const first = testIo({ WSS_STUDIO_HOME: pki.home });
    const running = run(['serve', '--ws', '0', '--json'], first.io);
    await waitFor(() => first.out.length > 0, 'listening');
    const port = JSON.parse(first.out[0] as string).port as number;
    const t = testIo({ WSS_STUDIO_HOME: pki.home });
    // ws on a free port starts, then wss on the taken port fails: the ws one must be stopped again.
    const code = await run(['serve', '--ws', '0', '--wss', String(port), '--json'], t.io);
    expect(code).toBe(1);
    expect(t.err[0]).toBe(
      `error: failed to start wss server "wss echo" on "127.0.0.1:${port}": port ${port} is already in use on "127.0.0.1"`,
    );
    expect(t.out).toEqual([]); // nothing announced as listening
    first.stop();
    expect(await running).toBe(0);
  });
});

describe('serve (built binary)', () => {
  it('stops cleanly on SIGINT with exit code 0 after printing the frames', async () => {
    const child = spawn(process.execPath, ['bin/wss-studio.cjs', 'serve', '--ws', '0', '--json'], {
      cwd: root,
      env: { ...process.env, WSS_STUDIO_HOME: emptyHome },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const lines: string[] = [];
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const parts = buf.split('\n');
        buf = parts.pop() as string;
        lines.push(...parts);
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      await waitFor(() => lines.length > 0, `listening line (stderr: ${stderr})`, 30_000);
      const listening = JSON.parse(lines[0] as string);
      expect(listening).toMatchObject({ type: 'listening', scheme: 'ws' });
      expect(await echo(`ws://127.0.0.1:${listening.port}/`, 'from a real process')).toBe(
        'from a real process',
      );
      await waitFor(() => lines.some((l) => l.includes('"type":"close"')), 'close event line');
      const exit = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      child.kill('SIGINT');
      expect(await exit).toBe(0);
      const all = lines.map((l) => JSON.parse(l));
      expect(
        all.filter((e) => e.type === 'frame' && e.opcode === 'text').map((e) => e.preview),
      ).toEqual(['from a real process', 'from a real process']);
      expect(all[all.length - 1]).toMatchObject({ type: 'stopped' });
      expect(stderr).toBe('');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
