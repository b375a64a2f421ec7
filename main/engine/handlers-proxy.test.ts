// proxy.status is the one way a window learns about a proxy: every change is pushed, a fault change
// included (the card shows the faults in force), so the UI never reloads the list after an action.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProxyAddResult, ProxyDto } from '../../shared/api';
import { createEngine, type Engine } from './index';

let home: string;
let engine: Engine;
let target: http.Server;
beforeEach(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'wss-proxy-status-'));
  engine = createEngine({ home, shell: 'test', env: { WSS_STUDIO_HOME: home } });
  target = http.createServer((_q, r) => r.end('ok'));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
});
afterEach(async () => {
  await engine.close();
  await new Promise((r) => target.close(r));
  fs.rmSync(home, { recursive: true, force: true });
});

async function call<T>(name: string, input: unknown): Promise<T> {
  const r = await engine.call(name, input);
  if (!r.ok) throw Object.assign(new Error(r.error.cause), r.error);
  return r.result as T;
}

describe('proxy.status', () => {
  it('pushes a fault change on a proxy, whoever made it', async () => {
    const pushes: ProxyDto[][] = [];
    engine.subscribe('proxy.status', (p) => pushes.push(p.proxies));
    const port = (target.address() as { port: number }).port;
    const { proxy } = await call<ProxyAddResult>('proxy.add', {
      publicUrl: 'http://localhost:0',
      target: `http://127.0.0.1:${port}`,
      start: true,
    });
    const faultsPushed = () => pushes.at(-1)?.find((p) => p.id === proxy.id)?.faults;
    await expect.poll(() => faultsPushed()?.latencyMs).toBe(0);
    await call('faults.set', { serverId: proxy.id, faults: { latencyMs: 250 } });
    await expect.poll(() => faultsPushed()?.latencyMs).toBe(250);
    await call('faults.set', { serverId: proxy.id, faults: { hold: true } });
    await expect.poll(() => faultsPushed()).toMatchObject({ latencyMs: 250, hold: true });
  });
});
