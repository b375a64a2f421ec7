// Hostile settings.json read by the real `wss-studio ui` process at start-up: prototype keys, a 1 MB string,
// a 100,000-deep value, 1e400, wrong types and duplicates in "servers" never crash it, never reach a server,
// are each named on stderr with the path and index, and the file is left byte for byte; the one good entry
// starts and echoes. A "servers" list beyond the cap refuses the whole area, again without a write.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ServerDto } from '../shared/api';
import { startUiProcess, type UiProcess } from './helpers/ui-process';

let ui: UiProcess | undefined;
afterEach(async () => {
  await ui?.stop();
  ui = undefined;
});

async function echo(url: string): Promise<string> {
  const ws = new WebSocket(url);
  try {
    await new Promise((res, rej) => {
      ws.once('open', res);
      ws.once('error', rej);
    });
    const got = new Promise<string>((r) => ws.once('message', (d: Buffer) => r(d.toString())));
    ws.send('still here');
    return await got;
  } finally {
    ws.terminate();
  }
}

describe('web mode start-up with a hostile settings.json', () => {
  it('skips every hostile entry by name, starts the good one, writes nothing', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const entries = [
      '{"id":"proto","__proto__":{"enabled":true,"host":"0.0.0.0"}}',
      '{"id":"ctor","constructor":{"prototype":{"enabled":true}}}',
      `{"id":"big","name":${JSON.stringify('x'.repeat(1024 * 1024))}}`,
      `{"id":"deep","protocols":${deep}}`,
      '{"id":"inf","port":1e400}',
      '{"id":"lan","host":["0.0.0.0"]}',
      '"ws"',
      '{"id":"good","enabled":true}',
      '{"id":"good","enabled":true,"port":1}',
    ];
    const text = `{"schema":1,"servers":[${entries.join(',')}]}`;
    ui = await startUiProcess({ settings: text });
    const file = path.join(ui.home, 'settings.json');
    const err = ui.err();
    expect(err).toMatch(/warning: failed to load every echo server:/);
    const at = (i: number) => `${JSON.stringify(file)} servers[${i}]: `;
    for (const [i, why] of [
      [0, '"__proto__" is not a known field'],
      [1, '"constructor" is not a known field'],
      [2, '"name" must be at most 80 characters'],
      [3, '"protocols[0]" must be a string'],
      [4, '"port" must be a whole number (got Infinity)'],
      [5, '"host" must be a string'],
      [6, 'the entry must be a JSON object'],
      [8, 'the id "good" is used by an earlier entry'],
    ] as const) {
      expect(err).toContain(at(i) + why);
    }
    // Nothing huge echoed back: the 1 MB value is not in the output.
    expect(err.length).toBeLessThan(10_000);

    const api = await ui.client();
    const servers = (await api.call('server.list', {})) as ServerDto[];
    expect(servers.map((s) => [s.id, s.state, s.definition.host])).toEqual([
      ['good', 'running', '127.0.0.1'],
    ]);
    expect(await echo(servers[0]!.url!)).toBe('still here');
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
    expect(ui.alive()).toBe(true);
  }, 60_000);

  it('refuses a servers list beyond the cap as a whole, and keeps the file', async () => {
    const text = JSON.stringify({ schema: 1, servers: Array.from({ length: 1001 }, () => ({})) });
    ui = await startUiProcess({ settings: text });
    const file = path.join(ui.home, 'settings.json');
    expect(ui.err()).toContain(
      `warning: failed to read ${JSON.stringify(file)}: "servers" must be an array of at most 1000 entries`,
    );
    const api = await ui.client();
    await expect(api.call('server.add', { port: 0 })).rejects.toMatchObject({
      code: 'STORE_CORRUPT',
    });
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
    expect(ui.alive()).toBe(true);
  }, 60_000);
});
