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
