// The one fault mechanism, driven through the engine's contract on an echo server (the proxy's own tests
// cover proxies): each fault measured from a real `ws` client, and logged as a fault event.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createEngine, type Engine } from '../engine';
import type {
  FaultEventDto,
  FrameEventDto,
  LogEventDto,
  ServerDto,
  FaultSettings,
} from '../../shared/api';
import { FrameLog } from '../echo/frame-log';
import { FaultController, NO_FAULTS } from './faults';
import { parseFaultCommand } from './commands';

let home: string;
let engine: Engine;
beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'wss-faults-'));
  engine = createEngine({ home, shell: 'test' });
});
afterEach(async () => {
  await engine.close();
  fs.rmSync(home, { recursive: true, force: true });
});

async function call<T>(name: string, input: unknown): Promise<T> {
  const r = await engine.call(name, input);
  if (!r.ok) throw Object.assign(new Error(r.error.cause), r.error);
  return r.result as T;
}

async function echoServer(): Promise<ServerDto> {
  const s = await call<ServerDto>('server.add', { scheme: 'ws', port: 0 });
  return call<ServerDto>('server.start', { id: s.id });
}

function connect(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

const next = (ws: WebSocket) =>
  new Promise<string>((r) => ws.once('message', (d) => r(d.toString())));
const events = async () => (await call<{ events: LogEventDto[] }>('log.snapshot', {})).events;

describe('faults on an echo server, through the API', () => {
  it('latency: each echo takes 2 x (150 + 0..30) ms over the base round trip, within 60 ms of timer slack', async () => {
    const s = await echoServer();
    const ws = await connect(s.url as string);
    const b0 = performance.now();
    ws.send('base');
    await next(ws);
    const baseRtt = performance.now() - b0;
    const set = await call<FaultSettings>('faults.set', {
      serverId: s.id,
      faults: { latencyMs: 150, jitterMs: 30 },
    });
    expect(set).toMatchObject({ latencyMs: 150, jitterMs: 30, hold: false });
    const rtts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      ws.send(`m${i}`);
      expect(await next(ws)).toBe(`m${i}`);
      rtts.push(performance.now() - t0);
    }
    // Never early; the median within jitter + base round trip + 60 ms of timer slack.
    for (const r of rtts) expect(r).toBeGreaterThanOrEqual(300);
    expect([...rtts].sort((a, b) => a - b)[2]).toBeLessThanOrEqual(360 + baseRtt + 60);
    ws.close();
    const f = (await events()).filter((e): e is FaultEventDto => e.type === 'fault');
    expect(f[0]?.message).toContain('latency 150 ms + 0..30 ms jitter');
  });

  it('hold then release delivers the queued echoes in order; a forced close arrives with the chosen code', async () => {
    const s = await echoServer();
    const ws = await connect(s.url as string);
    const got: string[] = [];
    ws.on('message', (d) => got.push(d.toString()));
    await call('faults.set', { serverId: s.id, faults: { hold: true } });
    for (let i = 0; i < 10; i++) ws.send(`q${i}`);
    await new Promise((r) => setTimeout(r, 250));
    expect(got).toEqual([]);
    await call('faults.set', { serverId: s.id, faults: { hold: false } });
    await expect
      .poll(() => got.length, { timeout: 10_000, message: 'the 10 held echoes after release' })
      .toBe(10);
    expect(got).toEqual(Array.from({ length: 10 }, (_, i) => `q${i}`));
    const closed = new Promise<[number, string]>((r) =>
      ws.once('close', (c, why) => r([c, why.toString()])),
    );
    expect(await call('faults.close', { serverId: s.id, code: 4005, reason: 'go away' })).toEqual({
      closed: 1,
    });
    expect(await closed).toEqual([4005, 'go away']);
    const kinds = (await events())
      .filter((e): e is FaultEventDto => e.type === 'fault')
      .map((e) => e.fault);
    expect(kinds).toEqual(['settings', 'hold', 'settings', 'release', 'close']);
  });

  it('drops every client message with dropIn 1; refuses upgrades with the chosen status; inject is logged', async () => {
    const s = await echoServer();
    const ws = await connect(s.url as string);
    let got = 0;
    ws.on('message', () => got++);
    await call('faults.set', { serverId: s.id, faults: { dropIn: 1 } });
    for (let i = 0; i < 5; i++) ws.send('x');
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toBe(0);
    const drops = (await events()).filter(
      (e): e is FaultEventDto => e.type === 'fault' && e.fault === 'drop',
    );
    expect(drops).toHaveLength(5);
    expect(drops.every((d) => d.dir === 'in')).toBe(true);
    const conn = drops[0]?.conn as number;
    await call('conn.inject', { serverId: s.id, conn, to: 'client', text: 'pushed' });
    await expect
      .poll(() => got, { timeout: 10_000, message: 'the injected message at the client' })
      .toBe(1);
    const inj = (await events()).filter(
      (e): e is FrameEventDto => e.type === 'frame' && e.source === 'injected',
    );
    expect(inj.map((e) => [e.dir, e.preview])).toEqual([['out', 'pushed']]);
    await call('faults.set', { serverId: s.id, faults: { refuseStatus: 429 } });
    await expect(connect(s.url as string)).rejects.toThrow(/429/);
  });

  it('refuses bad fault input naming the field, and unknown servers naming the fix', async () => {
    const s = await echoServer();
    const bad = await engine.call('faults.set', { serverId: s.id, faults: { dropOut: 1.5 } });
    expect(bad).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT', field: 'faults.dropOut' },
    });
    const code = await engine.call('faults.close', { serverId: s.id, code: 1006 });
    expect(code).toMatchObject({ ok: false, error: { field: 'code' } });
    const none = await engine.call('faults.set', { serverId: 'nope', faults: { hold: true } });
    expect(none).toMatchObject({
      ok: false,
      error: { code: 'SERVER_NOT_RUNNING', field: 'serverId' },
    });
    // Stopping clears the faults.
    await call('faults.set', { serverId: s.id, faults: { latencyMs: 5 } });
    await call('server.stop', { id: s.id });
    await call('server.start', { id: s.id });
    expect(await call('faults.get', { serverId: s.id })).toEqual(NO_FAULTS);
  });
});

describe('lanes', () => {
  it('never reorder messages, whatever the jitter', async () => {
    const c = new FaultController('x', new FrameLog());
    c.set({ jitterMs: 40 });
    const out: number[] = [];
    const lane = c.lane(1, 'out', (i) => {
      if (i.kind === 'message') out.push(i.data[0] as number);
    });
    for (let i = 0; i < 50; i++)
      lane.push({ kind: 'message', data: Buffer.from([i]), binary: true });
    await expect
      .poll(() => out.length, { timeout: 10_000, message: '50 messages through the lane' })
      .toBe(50);
    expect(out).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('ask the source to pause past the high-water mark and to go on once drained', async () => {
    const c = new FaultController('x', new FrameLog());
    c.set({ hold: true });
    const calls: boolean[] = [];
    const lane = c.lane(
      1,
      'in',
      () => {},
      (over) => calls.push(over),
    );
    for (let i = 0; i < 9; i++)
      lane.push({ kind: 'message', data: Buffer.alloc(1024 * 1024), binary: true });
    expect(calls).toEqual([true]);
    c.set({ hold: false });
    expect(calls).toEqual([true, false]);
    expect(lane.queuedBytes).toBe(0);
  });
});

describe('the terminal fault language', () => {
  it.each([
    ['latency 200 50', { kind: 'set', patch: { latencyMs: 200, jitterMs: 50 } }],
    ['drop out 0.25', { kind: 'set', patch: { dropOut: 0.25 } }],
    ['hold', { kind: 'set', patch: { hold: true } }],
    ['refuse 503', { kind: 'set', patch: { refuseStatus: 503 } }],
    ['throttle off', { kind: 'set', patch: { bandwidth: null } }],
    ['close 3 4001 bye now', { kind: 'close', conn: 3, code: 4001, reason: 'bye now' }],
    ['close', { kind: 'close', code: 1000, reason: '' }],
    ['inject 2 target {"a": 1}', { kind: 'inject', conn: 2, to: 'target', text: '{"a": 1}' }],
  ])('%s', (line, want) => {
    expect(parseFaultCommand(line)).toEqual(want);
  });

  it.each([
    'latency fast',
    'drop sideways 0.1',
    'drop in 2',
    'refuse 200',
    'close x',
    'inject 1 nowhere hi',
    'explode',
  ])('rejects %s with a hint', (line) => {
    const c = parseFaultCommand(line);
    expect(c?.kind).toBe('error');
    expect((c as { message: string }).message).toMatch(/help/);
  });
});
