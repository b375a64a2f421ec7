// The frame log as a window sees it (Electron IPC, web-mode RPC): pushes bounded by UI_PUSH_BYTES of
// previews, the rest counted as missed, so a flood of large frames never becomes one huge push.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Streams } from '../../shared/api';
import { PREVIEW_BYTES } from '../echo/frame-log';
import { createEngine, type Engine } from './index';
import { UI_PUSH_BYTES } from './handlers-echo';

let engine: Engine | undefined;
let home = '';

afterEach(async () => {
  await engine?.close();
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

describe('log.batch for a window', () => {
  it('carries at most UI_PUSH_BYTES of previews per push; the rest is counted as missed', async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'wss-engine-log-'));
    engine = createEngine({ home, shell: 'test', env: { WSS_STUDIO_HOME: home } });
    const pushes: Streams['log.batch'][] = [];
    engine.subscribe('log.batch', (b) => pushes.push(b));
    const add = await engine.call('server.add', { name: 'big', scheme: 'ws', port: 0 });
    if (!add.ok) throw new Error(JSON.stringify(add.error));
    const started = await engine.call('server.start', { id: (add.result as { id: string }).id });
    if (!started.ok) throw new Error(JSON.stringify(started.error));
    const ws = new WebSocket((started.result as { url: string }).url);
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    // 200 messages of 8 KiB sent at once: 400 frames of PREVIEW_BYTES (+1) previews in a few push intervals.
    const n = 200;
    let echoed = 0;
    const all = new Promise<void>((r) => ws.on('message', () => ++echoed === n && r()));
    for (let i = 0; i < n; i++) ws.send(Buffer.alloc(8192, 0x61 + (i % 26)).toString());
    await all;
    ws.close(1000);
    const total = 1 + 2 * n; // open + every frame in and out
    for (let t = 0; t < 100; t++) {
      const seen = pushes.reduce((s, p) => s + p.events.length + p.missed, 0);
      if (seen >= total) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(pushes.reduce((s, p) => s + p.events.length + p.missed, 0)).toBeGreaterThanOrEqual(
      total,
    );
    const previewBytes = (p: Streams['log.batch']) =>
      p.events.reduce((sum, e) => sum + (e.type === 'frame' ? e.preview.length : 0), 0);
    for (const p of pushes) expect(previewBytes(p)).toBeLessThanOrEqual(UI_PUSH_BYTES);
    // Unbounded, a push would have carried up to 256 KiB (the terminal bound), or everything pending.
    expect(Math.max(...pushes.map(previewBytes))).toBeGreaterThan(
      UI_PUSH_BYTES - 2 * PREVIEW_BYTES,
    );
    expect(pushes.some((p) => p.missed > 0)).toBe(true);
  });
});

// One schema for a server definition (shared/api.ts ServerOptionsSchema, from shared/validation.ts's
// predicates): a request is refused by it with the field path, and the engine never sees a definition the
// schema let through but its own rules refuse. Before, a 301-character path passed the API (<= 2048) and
// then failed in main/echo as `path` (not `patch.path`) with the whole value echoed back.
describe('server definitions: one schema for requests and settings.json', () => {
  const long = '/' + 'a'.repeat(300);
  const start = () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'wss-engine-def-'));
    engine = createEngine({ home, shell: 'test', env: { WSS_STUDIO_HOME: home } });
    return engine;
  };

  it('a 301-character path is refused by the API as "patch.path", for its length, without the value', async () => {
    const e = start();
    const add = await e.call('server.add', { name: 'p', port: 0 });
    if (!add.ok) throw new Error(JSON.stringify(add.error));
    const id = (add.result as { id: string }).id;
    const before = fs.readFileSync(path.join(home, 'settings.json'), 'utf8');
    const r = await e.call('server.update', { id, patch: { path: long } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatchObject({ code: 'INVALID_INPUT', field: 'patch.path', kind: 'input' });
    expect(r.error.cause).toBe('"patch.path" must be at most 200 characters');
    expect(JSON.stringify(r.error)).not.toContain('a'.repeat(64));
    const added = await e.call('server.add', { path: long });
    expect(!added.ok && added.error.field).toBe('path');
    expect(fs.readFileSync(path.join(home, 'settings.json'), 'utf8')).toBe(before);
  });

  it("the rules the engine used to add on its own are the API schema's now", async () => {
    const e = start();
    for (const [patch, field, why] of [
      [{ host: 'not a host' }, 'host', /must be an IP address or a host name/],
      [{ protocols: ['has space'] }, 'protocols[0]', /must be a token/],
      [{ protocols: Array.from({ length: 33 }, (_, i) => `p${i}`) }, 'protocols', /at most 32/],
      [{ allowedOrigins: ['not an origin'] }, 'allowedOrigins[0]', /must be an origin/],
      [{ clientCaFile: 'relative/ca.pem' }, 'clientCaFile', /absolute path/],
      [{ path: 'no-slash' }, 'path', /must start with "\/"/],
    ] as const) {
      const r = await e.call('server.add', patch);
      expect(r.ok, JSON.stringify(patch)).toBe(false);
      if (r.ok) continue;
      expect(r.error.field, JSON.stringify(patch)).toBe(field);
      expect(r.error.cause).toMatch(why);
    }
  });

  it('a settings.json entry is re-checked with that same schema (the path bound included)', async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'wss-engine-def-'));
    const file = path.join(home, 'settings.json');
    const text = JSON.stringify({
      schema: 1,
      servers: [
        { id: 'ok', port: 0 },
        { id: 'long', port: 0, path: long },
      ],
    });
    fs.writeFileSync(file, text);
    engine = createEngine({ home, shell: 'test', env: { WSS_STUDIO_HOME: home } });
    const list = await engine.call('server.list', {});
    expect(list.ok && (list.result as { id: string }[]).map((s) => s.id)).toEqual(['ok']);
    const problems = await engine.call('settings.problems', {});
    expect(problems.ok && problems.result).toEqual([
      `${JSON.stringify(file)} servers[1]: "path" must be at most 200 characters`,
    ]);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  });
});
