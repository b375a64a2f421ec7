// settings.json read back through the engine: a wrong-shaped file stops the servers area with the file's path
// and the field and is never rewritten; one bad entry is skipped with its index, field and value while the
// other servers load and start, and stays in the file as written.
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { ServerDto } from '../../shared/api';
import { tempDir } from '../../e2e/helpers/tools';
import { createEngine, type Engine } from './index';

let tmp: ReturnType<typeof tempDir> | undefined;
let engine: Engine | undefined;

afterEach(async () => {
  await engine?.close();
  tmp?.cleanup();
  engine = undefined;
  tmp = undefined;
});

/** A fresh state folder whose settings.json holds `text`, and an engine on it. */
function withSettings(text: string) {
  tmp = tempDir('wss-settings-');
  const home = path.join(tmp.dir, 'state');
  fs.mkdirSync(home);
  const file = path.join(home, 'settings.json');
  fs.writeFileSync(file, text);
  engine = createEngine({ home, shell: 'web', env: { PATH: process.env.PATH } });
  return { file, engine };
}

describe('settings.json read with the shared schema', () => {
  const wholeFile: [string, string, RegExp][] = [
    ['null', 'null', /the file must be a JSON object/],
    ['an array', '[]', /the file must be a JSON object/],
    ['a string', '"servers"', /the file must be a JSON object/],
    ['not JSON', '{"servers": [', /not valid JSON/],
    ['another layout', '{"schema": 2}', /"schema" must be 1/],
    ['servers an object', '{"schema": 1, "servers": {}}', /"servers" must be an array/],
    ['servers a string', '{"schema": 1, "servers": "ws"}', /"servers" must be an array/],
  ];
  for (const [what, text, cause] of wholeFile) {
    it(`refuses ${what} with the path and the field, and never writes over it`, async () => {
      const { file, engine } = withSettings(text);
      for (const [name, input] of [
        ['server.list', {}],
        ['server.add', { scheme: 'ws', port: 0 }],
      ] as const) {
        const r = await engine.call(name, input);
        expect(r.ok, name).toBe(false);
        if (r.ok) continue;
        expect(r.error.code).toBe('STORE_CORRUPT');
        expect(r.error.action).toBe(`read ${JSON.stringify(file)}`);
        expect(r.error.cause).toMatch(cause);
        expect(r.error.hint).toMatch(/never overwrites/);
      }
      await expect(engine.startEnabledServers()).rejects.toThrow(/settings\.json/);
      // The UI's one place to read it: the same message, once.
      const problems = await engine.call('settings.problems', {});
      expect(problems.ok && problems.result).toEqual([expect.stringMatching(cause)]);
      expect(problems.ok && (problems.result as string[])[0]).toContain(JSON.stringify(file));
      expect(fs.readFileSync(file, 'utf8')).toBe(text);
    });
  }

  it('reads {} as no servers', async () => {
    const { file, engine } = withSettings('{}');
    const r = await engine.call('server.list', {});
    expect(r).toEqual({ ok: true, result: [] });
    expect(fs.readFileSync(file, 'utf8')).toBe('{}');
  });

  it('skips each bad entry with its index, field and value; the rest load and start', async () => {
    const entries = [
      null,
      [],
      { id: 'p1', port: '80' },
      { id: 'p2', port: 70000 },
      { port: 1 },
      { id: 'p3', bogus: true },
      { id: 'Not An Id' },
      { id: 'p4', scheme: 'http' },
      { id: 'good', enabled: true },
      { id: 'good', port: 1 },
    ];
    const text = JSON.stringify({ schema: 1, servers: entries, other: { kept: true } }, null, 1);
    const { file, engine } = withSettings(text);
    const at = (i: number) => `${JSON.stringify(file)} servers[${i}]: `;

    // Start-up: the good server starts, then the skipped entries are reported together.
    const started = engine.startEnabledServers();
    await expect(started).rejects.toMatchObject({ code: 'SETTINGS_ENTRY_SKIPPED' });
    const problems = await started.catch((e: Error) => e.message);
    for (const [i, why] of [
      [0, 'the entry must be a JSON object'],
      [1, 'the entry must be a JSON object'],
      [2, '"port" must be a number (got "80")'],
      [3, '"port" must be from 0 to 65535 (got 70000)'],
      [4, '"id" is missing'],
      [5, '"bogus" is not a known field'],
      [6, 'id "Not An Id" must be 1-40 lower-case letters, digits or dashes'],
      [7, '"scheme" must be "ws" or "wss" (got "http")'],
      [9, 'the id "good" is used by an earlier entry'],
    ] as const) {
      expect(problems).toContain(at(i) + why);
    }
    const reported = await engine.call('settings.problems', {});
    expect(reported.ok && (reported.result as string[]).length).toBe(9);
    expect(reported.ok && (reported.result as string[])[3]).toBe(
      at(3) + '"port" must be from 0 to 65535 (got 70000)',
    );
    const list = await engine.call('server.list', {});
    const servers = (list.ok ? list.result : []) as ServerDto[];
    expect(servers.map((s) => [s.id, s.state])).toEqual([['good', 'running']]);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);

    // A change keeps every skipped entry byte for byte (and the other keys).
    const added = await engine.call('server.add', { name: 'added' });
    expect(added.ok).toBe(true);
    const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(saved.other).toEqual({ kept: true });
    expect(saved.servers.slice(2)).toEqual(entries.filter((_, i) => i !== 8));
  });
});

describe('settings.json proxies read with the shared schema', () => {
  it('skips a bad proxy entry with its index and field, lists the good one, keeps the bad one', async () => {
    const good = { id: 'px', publicUrl: 'https://app.test:8443', target: 'http://127.0.0.1:5173' };
    const entries = [
      good,
      { id: 'nourl', target: 'http://127.0.0.1:1' },
      { ...good, id: 'b', bindHost: 7 },
    ];
    const text = JSON.stringify({ schema: 1, proxies: entries });
    const { file, engine } = withSettings(text);
    const started = engine.startEnabledServers();
    await expect(started).rejects.toMatchObject({ code: 'SETTINGS_ENTRY_SKIPPED' });
    const message = await started.catch((e: Error) => e.message);
    expect(message).toContain(`${JSON.stringify(file)} proxies[1]: "publicUrl" is missing`);
    expect(message).toContain(`${JSON.stringify(file)} proxies[2]: "bindHost" must be`);
    const list = await engine.call('proxy.list', {});
    expect(list.ok && (list.result as { id: string }[]).map((p) => p.id)).toEqual(['px']);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
    const r = await engine.call('proxy.remove', { id: 'px' });
    expect(r.ok).toBe(true);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).proxies).toEqual(entries.slice(1));
  });
});

describe('settings.json with damage in both areas', () => {
  it('starts what it can and reports the skipped servers and proxies together', async () => {
    const text = JSON.stringify({
      schema: 1,
      servers: [
        { id: 'ok', enabled: true },
        { id: 'bad-server', mode: 'loud' },
      ],
      proxies: [{ id: 'bad-proxy', target: 'http://127.0.0.1:1' }],
    });
    const { file, engine } = withSettings(text);
    const message = await engine.startEnabledServers().then(
      () => '',
      (e: Error) => e.message,
    );
    expect(message).toContain(`${JSON.stringify(file)} servers[1]: "mode" must be`);
    expect(message).toContain(`${JSON.stringify(file)} proxies[0]: "publicUrl" is missing`);
    const list = await engine.call('server.list', {});
    expect(list.ok && (list.result as ServerDto[]).map((s) => s.state)).toEqual(['running']);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  });
});
