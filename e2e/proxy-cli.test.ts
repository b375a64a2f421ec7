// `wss-studio proxy` as a separate process: it fronts a live server and prints JSON Lines, takes live
// faults typed on stdin, stops cleanly on SIGINT; bad input exits 2 with the field and the fix and leaves
// the store byte for byte as it was.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { storeCertSource } from '../main/echo';
import { PROXY_V8_FLAGS } from '../main/proxy/heap';
import { makeTestPki, waitFor, type TestPki } from '../main/echo/testing';
import { runCli, snapshotTree } from './helpers/tools';

const BIN = path.resolve(__dirname, '..', 'bin', 'wss-studio.cjs');
let pki: TestPki;
let target: http.Server;
let targetPort: number;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  pki = await makeTestPki();
  env = { ...process.env, WSS_STUDIO_HOME: pki.home };
  delete env.NODE_EXTRA_CA_CERTS;
  target = http.createServer((_q, s) => s.end('target page'));
  new WebSocketServer({ server: target }).on('connection', (ws) =>
    ws.on('message', (d, b) => ws.send(d, { binary: b })),
  );
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetPort = (target.address() as net.AddressInfo).port;
});
afterAll(async () => {
  target?.closeAllConnections();
  await new Promise((r) => target?.close(r));
  pki?.cleanup();
});

/** The CLI as a live process: JSON Lines parsed as they come, stderr collected, stdin open for fault lines. */
async function runLive(argv: string[], opts: { detached?: boolean } = {}) {
  const child = spawn(process.execPath, [BIN, ...argv], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: opts.detached ?? false,
  });
  const lines: Record<string, unknown>[] = [];
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  readline.createInterface({ input: child.stdout }).on('line', (l) => lines.push(JSON.parse(l)));
  await waitFor(() => lines.length > 0, `first line of "wss-studio ${argv[0]}"`, 20_000);
  return { child, lines, stderr: () => err };
}

describe('wss-studio proxy', () => {
  it('fronts a server, logs the request and the frames, applies a fault typed on stdin, stops on SIGINT', async () => {
    const { child, lines, stderr } = await runLive([
      'proxy',
      'https://localhost:0',
      `http://127.0.0.1:${targetPort}`,
      '--json',
    ]);
    const listening = lines[0] as { type: string; url: string; wsUrl: string; certId: string };
    expect(listening).toMatchObject({ type: 'listening', certId: pki.leafId });
    expect(listening.url).toMatch(/^https:\/\/localhost:\d+$/);

    const ws = new WebSocket(listening.wsUrl + '/', { ca: pki.caPem });
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    const rtt = async (t: string) => {
      const t0 = performance.now();
      const got = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
      ws.send(t);
      expect(await got).toBe(t);
      return performance.now() - t0;
    };
    expect(await rtt('fast')).toBeLessThan(250);
    child.stdin.write('latency 150\n');
    await waitFor(() => stderr().includes('faults: latency 150 ms'), 'fault acknowledged');
    expect(await rtt('slow')).toBeGreaterThanOrEqual(300);
    child.stdin.write('close all 4003 from the terminal\n');
    const closed = await new Promise<[number, string]>((r) =>
      ws.once('close', (c, why) => r([c, String(why)])),
    );
    expect(closed).toEqual([4003, 'from the terminal']);
    await waitFor(() => lines.some((l) => l.type === 'close'), 'close event');

    const exited = new Promise<number | null>((r) => child.once('exit', r));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const types = lines.map((l) =>
      l.type === 'http' ? `http ${l.status}` : l.type === 'fault' ? `fault ${l.fault}` : l.type,
    );
    expect(types[0]).toBe('listening');
    expect(types).toEqual(
      expect.arrayContaining([
        'http 101',
        'open',
        'frame',
        'fault settings',
        'fault close',
        'close',
      ]),
    );
    expect(types.at(-1)).toBe('stopped');
  }, 60_000);

  it('--json into a pipe nobody reads for a while: whole lines, and every event is printed or counted missed', async () => {
    // The --json writer reuses its buffer; a chunk the pipe could not take at once must stay untouched.
    const child = spawn(
      process.execPath,
      [BIN, 'proxy', 'http://127.0.0.1:0', `http://127.0.0.1:${targetPort}`, '--json'],
      { env, stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    await waitFor(() => Buffer.concat(chunks).includes('\n'), 'listening line', 20_000);
    const { port } = JSON.parse(String(Buffer.concat(chunks)).split('\n')[0] as string);
    const payload = Buffer.alloc(300, 0x62);
    const sockets = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
        await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
        return ws;
      }),
    );
    let running = true;
    for (const ws of sockets) {
      ws.on('message', () => running && ws.send(payload));
      ws.send(payload);
    }
    for (let i = 0; i < 4; i++) {
      child.stdout.pause();
      await new Promise((r) => setTimeout(r, 400));
      child.stdout.resume();
      await new Promise((r) => setTimeout(r, 100));
    }
    running = false;
    await Promise.all(
      sockets.map((ws) => new Promise((r) => (ws.once('close', r), ws.close(1000)))),
    );
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const lines = String(Buffer.concat(chunks)).split('\n');
    expect(lines.pop()).toBe('');
    const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    let printed = 0;
    let missed = 0;
    let last = 0;
    const b64 = payload.toString('base64');
    for (const e of events) {
      if (e.type === 'missed') missed += e.count as number;
      if (typeof e.seq !== 'number') continue;
      printed++;
      expect(e.seq).toBeGreaterThan(last);
      last = e.seq;
      if (e.type === 'frame' && e.opcode === 'binary') expect(e.preview).toBe(b64);
    }
    const stopped = events.at(-1) as { type: string; events: number };
    expect(stopped.type).toBe('stopped');
    expect(printed + missed).toBe(stopped.events);
    // The pipe did back up: batches were skipped while it was full.
    expect(missed).toBeGreaterThan(0);
    expect(printed).toBeGreaterThan(1000);
  }, 60_000);

  it('runs in a Node with the heap flags of main/proxy/heap.ts, and one Ctrl-C in a terminal stops it cleanly', async () => {
    // detached: its own process group, so a signal to the group reaches the launcher and the proxy
    // together, as Ctrl-C in a terminal does.
    const { child, lines } = await runLive(
      ['proxy', 'http://localhost:0', `http://127.0.0.1:${targetPort}`, '--json'],
      { detached: true },
    );
    const pid = child.pid as number;
    const kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
    expect(kids).toHaveLength(1);
    const argv = fs.readFileSync(`/proc/${kids[0]}/cmdline`, 'utf8').split('\0');
    for (const flag of PROXY_V8_FLAGS) expect(argv).toContain(flag);
    expect(argv).toContain(BIN);
    // An open connection makes stopping take a moment, long enough for a second SIGINT to count.
    const listening = lines[0] as { wsUrl: string };
    const ws = new WebSocket(listening.wsUrl + '/');
    ws.on('error', () => undefined);
    await new Promise((r) => ws.once('open', r));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    process.kill(-pid, 'SIGINT');
    expect(await exited).toBe(0); // one press, not two: a second SIGINT would exit 130 at once
    expect(lines.at(-1)).toMatchObject({ type: 'stopped' });
  }, 30_000);

  it('stops by itself when its launcher is killed outright (SIGKILL), instead of running on unowned', async () => {
    const { child, lines } = await runLive([
      'proxy',
      'http://localhost:0',
      `http://127.0.0.1:${targetPort}`,
      '--json',
    ]);
    const pid = child.pid as number;
    const [kid] = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
    expect(Number(kid)).toBeGreaterThan(0);
    child.kill('SIGKILL');
    // Gone, or a zombie where nothing reaps orphans (state Z): either way it has exited.
    const exited = () => {
      try {
        return (
          fs.readFileSync(`/proc/${kid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') !== false
        );
      } catch {
        return true;
      }
    };
    await waitFor(exited, 'the proxy process to exit', 10_000);
    await waitFor(() => lines.at(-1)?.type === 'stopped', 'its "stopped" line', 5_000);
  }, 30_000);

  it('a refused target: exit 2, the field and the fix, and the store unchanged', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const dead = (s.address() as net.AddressInfo).port;
    await new Promise((r) => s.close(r));
    const before = snapshotTree(pki.home);
    const r = await runCli(['proxy', 'https://app.test:0', `http://127.0.0.1:${dead}`], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `error: failed to front "http://127.0.0.1:${dead}" at "https://app.test:0": target "http://127.0.0.1:${dead}": nothing is listening on 127.0.0.1:${dead}`,
    );
    expect(r.stderr).toContain('hint: start your server');
    expect(snapshotTree(pki.home)).toEqual(before);
  });

  it('a busy public port for a name that needs a new certificate: exit 2 naming the port and the fix, no certificate issued, the store unchanged', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const before = snapshotTree(pki.home);
      const r = await runCli(
        ['proxy', `https://busy.test:${port}`, `http://127.0.0.1:${targetPort}`],
        { env },
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`port ${port} is already in use on "127.0.0.1"`);
      expect(r.stderr).toMatch(/hint: pick another port/);
      expect(r.stdout).toBe('');
      expect(snapshotTree(pki.home)).toEqual(before);
      expect(snapshotTree(pki.home)).toEqual(before);
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });

  it('http:// given to a TLS server and https:// to a plain one: exit 2 naming the scheme to use, the store unchanged', async () => {
    const m = storeCertSource(pki.store)(pki.leafId);
    const tlsServer = https.createServer({ key: m.keyPem, cert: m.certPem }, (_q, r) =>
      r.end('tls'),
    );
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
    const tlsPort = (tlsServer.address() as net.AddressInfo).port;
    try {
      const before = snapshotTree(pki.home);
      const r = await runCli(['proxy', 'https://busy.test:0', `http://127.0.0.1:${tlsPort}`], {
        env,
      });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `speaks TLS (https), but the target was given as "http://127.0.0.1:${tlsPort}"`,
      );
      expect(r.stderr).toContain(`hint: change the target to "https://127.0.0.1:${tlsPort}"`);
      const r2 = await runCli(['proxy', 'https://busy.test:0', `https://127.0.0.1:${targetPort}`], {
        env,
      });
      expect(r2.code).toBe(2);
      expect(r2.stderr).toContain(`answered in plain HTTP, not TLS`);
      expect(r2.stderr).toContain(`hint: change the target to "http://127.0.0.1:${targetPort}"`);
      expect(snapshotTree(pki.home)).toEqual(before);
    } finally {
      tlsServer.closeAllConnections();
      await new Promise((r) => tlsServer.close(r));
    }
  });

  it('a name outside the CA constraints and a missing argument: exit 2 naming what to fix', async () => {
    const before = snapshotTree(pki.home);
    const r = await runCli(
      ['proxy', 'https://www.example.com:0', `http://127.0.0.1:${targetPort}`],
      { env },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/outside the CA's name constraints/);
    const r2 = await runCli(['proxy', 'https://app.test:8443'], { env });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('missing TARGET_URL');
    expect(snapshotTree(pki.home)).toEqual(before);
  });

  it('wss-studio serve takes the same live faults on stdin (one mechanism for echo servers)', async () => {
    const { child, lines, stderr } = await runLive(['serve', '--ws', '0', '--json']);
    const ws = new WebSocket((lines[0] as { url: string }).url);
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    child.stdin.write('latency 150\n');
    await waitFor(() => stderr().includes('faults: latency 150 ms'), 'fault acknowledged');
    const t0 = performance.now();
    const got = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
    ws.send('slow echo');
    expect(await got).toBe('slow echo');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(300);
    const closed = new Promise<number>((r) => ws.once('close', (c) => r(c)));
    child.stdin.write('close all 4002 enough\n');
    expect(await closed).toBe(4002);
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(lines.some((l) => l.type === 'fault' && l.fault === 'close')).toBe(true);
  }, 60_000);
});
