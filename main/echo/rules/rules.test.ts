// Rules engine with a real `ws` client against a real EchoServer (Python websockets and wscat peers are in
// e2e/echo-rules-peers.test.ts). Validation messages, template safety, matchers, scripts, pushes, replay.
import { afterEach, describe, expect, it } from 'vitest';
import { performance } from 'node:perf_hooks';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { checkRules, formatProblem } from '../../../shared/rules';
import { ServerManager } from '../server-manager';
import type { FrameEvent, LogEvent } from '../types';
import { waitFor } from '../testing';
import Mustache from 'mustache';
import { Templates } from './template';
import { compileMatch, MessageView } from './match';
import { toHar } from '../har';

let manager: ServerManager | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await manager?.stopAll();
  manager = undefined;
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function start(rules: unknown, mode: 'echo' | 'silent' = 'echo') {
  manager = new ServerManager();
  manager.add({ id: 's', scheme: 'ws', mode });
  manager.behaviours.set('s', rules);
  const st = await manager.start('s');
  return st.url as string;
}

class Client {
  readonly got: { text: string; at: number }[] = [];
  closed?: { code: number; reason: string };
  constructor(readonly ws: WebSocket) {
    ws.on('message', (d: Buffer, bin) =>
      this.got.push({ text: bin ? d.toString('hex') : d.toString('utf8'), at: performance.now() }),
    );
    ws.on('close', (code, r) => (this.closed = { code, reason: r.toString() }));
  }
  static async open(url: string, protocols?: string[]): Promise<Client> {
    const ws = new WebSocket(url, protocols);
    const c = new Client(ws);
    await new Promise((res, rej) => {
      ws.once('open', res);
      ws.once('error', rej);
    });
    return c;
  }
  async next(n = 1): Promise<string[]> {
    await waitFor(() => this.got.length >= n, `${n} messages`);
    return this.got.map((g) => g.text);
  }
}

function frames(): FrameEvent[] {
  manager?.log.flush();
  return (manager?.log.events() ?? []).filter((e: LogEvent): e is FrameEvent => e.type === 'frame');
}

describe('checkRules', () => {
  it('names the rule index, field path, bad value and fix', () => {
    const r = checkRules({
      rules: [{}, {}, {}, { match: { pointer: 'type' }, reply: { text: 'x' } }],
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems[0]).toMatchObject({ path: 'rules[3].match.pointer', value: '"type"' });
    expect(formatProblem(r.problems[0]!)).toMatch(
      /rules\[3\]\.match\.pointer = "type": .*start it with "\/"/,
    );
  });
  it('reports regex syntax (RE2), template position, unknown fields and swallow+reply', () => {
    const r = checkRules({
      rules: [
        { match: { regex: '(a)\\1' } },
        { reply: { text: 'hello {{name' } },
        { match: { pointr: '/x' } },
        { swallow: true, reply: { text: 'x' } },
        { reply: { text: 'a', json: {} } },
      ],
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const byPath = Object.fromEntries(r.problems.map((p) => [p.path, p.message]));
    expect(byPath['rules[0].match.regex']).toMatch(/RE2/);
    expect(byPath['rules[1].reply.text'] ?? byPath['rules[1].reply']).toMatch(
      /unclosed tag "\{\{name" at character 7/,
    );
    expect(byPath['rules[2].match.pointr']).toMatch(/not a known field/);
    expect(byPath['rules[3]']).toMatch(/swallow/);
    const two = checkRules({ rules: [{ reply: { text: 'a', json: {} } }] });
    expect(two.ok ? [] : two.problems).toEqual([
      expect.objectContaining({
        path: 'rules[0].reply',
        message: expect.stringMatching(/exactly one of "text", "json" or "binary"/),
      }),
    ]);
  });
  it('rejects a push interval below the minimum', () => {
    const r = checkRules({ pushes: [{ id: 't', everyMs: 5, message: { text: 'x' } }] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems[0]?.path).toBe('pushes[0].everyMs');
  });
});

describe('templates', () => {
  const t = new Templates();
  const view = (text: string) =>
    t.view({
      conn: 7,
      connection: 2,
      path: '/echo',
      query: { room: 'a' },
      headers: { 'x-user': 'ann' },
      protocol: '',
      messageNumber: 3,
      counter: 4,
      message: { data: Buffer.from(text), isBinary: false },
    });
  it('reads request values and keeps JSON types for a single tag', () => {
    const v = view('{"id":42,"user":{"name":"bo"}}');
    expect(
      t.json({ id: '{{json.id}}', who: 'hi {{json.user.name}}', q: '{{query.room}}' }, v),
    ).toBe('{"id":42,"who":"hi bo","q":"a"}');
    expect(
      t.text('{{conn}}/{{connection}}/{{messageNumber}}/{{counter}}/{{headers.x-user}}', v),
    ).toBe('7/2/3/4/ann');
    expect(t.text('{{uuid}}', v)).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(t.text('{{#randomInt}}5-6{{/randomInt}}', v))).toBeGreaterThanOrEqual(5);
    expect(t.text('{{now.iso}}', v)).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
  it('uses the JSON the matchers parsed (no second parse) and one time for every now.* in a render', () => {
    let parsed = 0;
    const v = t.view({
      conn: 1,
      connection: 1,
      path: '/',
      query: {},
      headers: {},
      protocol: '',
      messageNumber: 1,
      counter: 1,
      message: {
        data: Buffer.from('{"id":1}'),
        isBinary: false,
        json: () => (parsed++, { id: 9 }),
      },
    });
    expect(t.json({ a: '{{json.id}}', b: '{{json.id}}', c: 'x' }, v)).toBe('{"a":9,"b":9,"c":"x"}');
    expect(parsed).toBe(1);
    const [iso, ms] = t.text('{{now.iso}} {{now.ms}}', v).split(' ');
    expect(new Date(iso as string).getTime()).toBe(Number(ms));
  });
  it('plain templates (text and top-level tags) render exactly as mustache does', () => {
    const v = view('x');
    for (const tpl of [
      'tick {{counter}}',
      '{{conn}}-{{connection}}-{{path}}-{{protocol}}-{{messageNumber}}',
      '{{{counter}}} {{&conn}} {{ counter }}',
      '{{missing}}|{{counter}}',
      'a {{#counter}}yes{{/counter}}',
      '{{=<% %>=}}<% counter %>',
    ]) {
      expect(t.text(tpl, v)).toBe(
        Mustache.render(tpl, v, undefined, { escape: (s: unknown) => String(s) }),
      );
    }
    expect(t.sameForEveryConnection({ json: { at: '{{now.iso}}', k: 'x' } })).toBe(true);
    expect(t.sameForEveryConnection({ text: 'tick' })).toBe(true);
    for (const text of [
      '{{counter}}',
      '{{uuid}}',
      '{{now.iso}} {{conn}}',
      '{{#now}}{{iso}}{{/now}}',
    ])
      expect(t.sameForEveryConnection({ text })).toBe(false);
  });
  it('cannot reach prototypes, the environment or code', () => {
    const v = view('{"a":1}');
    for (const s of [
      '{{constructor}}',
      '{{json.constructor}}',
      '{{json.__proto__}}',
      '{{process}}',
      '{{query.constructor}}',
      '{{now.constructor}}',
      '{{now.__proto__}}',
      '{{headers.__proto__}}',
    ])
      expect(t.text(s, v)).toBe('');
    // A string's methods are not callable with arguments; the worst is a builtin called with none.
    expect(t.text('{{text.constructor.constructor}}', v)).not.toMatch(/process|require/);
  });
});

describe('matchers', () => {
  it('regex runs in linear time on a ReDoS input', () => {
    const m = compileMatch({ regex: '^(a+)+$' });
    const evil = Buffer.from('a'.repeat(200_000) + '!');
    const t0 = performance.now();
    const hit = m(
      { index: 1, path: '/', query: new URLSearchParams(), headers: {}, protocol: '' },
      new MessageView(evil, false, 1),
    );
    expect(hit).toBe(false);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('rules on a live server', () => {
  it('answers a JSON request with a templated id, logs the reply as source "rule"', async () => {
    const url = await start({
      rules: [
        { name: 'nope', match: { text: 'never' }, reply: { text: 'x' } },
        {
          name: 'rpc',
          match: { pointer: '/method', value: 'sum' },
          reply: { json: { id: '{{json.id}}', result: 'ok' } },
        },
      ],
    });
    const c = await Client.open(url);
    c.ws.send(JSON.stringify({ id: 17, method: 'sum' }));
    c.ws.send('plain');
    expect(await c.next(2)).toEqual(['{"id":17,"result":"ok"}', 'plain']);
    await waitFor(() => frames().filter((f) => f.dir === 'out').length >= 2, 'out frames');
    const out = frames().filter((f) => f.dir === 'out' && f.opcode === 'text');
    expect(out[0]).toMatchObject({
      source: 'rule',
      note: 'rules[1] rpc',
      preview: '{"id":17,"result":"ok"}',
    });
    expect(out[1]?.source).toBeUndefined(); // the echo
    c.ws.close();
  });

  it('closes with 4001 after the third message', async () => {
    const url = await start({
      rules: [{ match: { messageNumber: 3 }, close: { code: 4001, reason: 'third strike' } }],
    });
    const c = await Client.open(url);
    for (const m of ['a', 'b', 'c']) c.ws.send(m);
    await waitFor(() => c.closed !== undefined, 'close');
    expect(c.closed).toEqual({ code: 4001, reason: 'third strike' });
    expect(await c.next(2)).toEqual(['a', 'b']);
  });

  it('reply lists with delays, broadcast to all, fall through to echo', async () => {
    const url = await start({
      rules: [
        { match: { text: 'multi' }, reply: [{ text: 'one' }, { text: 'two', delayMs: 80 }] },
        { match: { contains: 'all' }, reply: { text: 'to all: {{text}}', to: 'all' } },
        { match: { text: 'both' }, reply: { text: 'rule' }, fallThrough: true },
      ],
    });
    const a = await Client.open(url);
    const b = await Client.open(url);
    a.ws.send('multi');
    await a.next(2);
    expect(a.got[1]!.at - a.got[0]!.at).toBeGreaterThanOrEqual(70);
    a.ws.send('call all');
    expect((await b.next(1))[0]).toBe('to all: call all');
    a.ws.send('both');
    expect(await a.next(5)).toEqual(['one', 'two', 'to all: call all', 'rule', 'both']);
  });

  it('runs an on-connect login script; the timeout path closes 4408', async () => {
    const url = await start({
      onConnect: [
        {
          steps: [
            { send: { text: 'login?' } },
            {
              wait: { pointer: '/user' },
              timeoutMs: 300,
              onTimeout: { close: { code: 4408, reason: 'login timeout' } },
            },
            { send: { text: 'welcome {{json.user}}' } },
          ],
        },
      ],
    });
    const ok = await Client.open(url);
    expect(await ok.next(1)).toEqual(['login?']);
    ok.ws.send('{"user":"ann"}');
    expect(await ok.next(2)).toEqual(['login?', 'welcome ann']);
    const slow = await Client.open(url);
    await waitFor(() => slow.closed !== undefined, 'timeout close');
    expect(slow.closed).toEqual({ code: 4408, reason: 'login timeout' });
    manager!.log.flush();
    expect(
      manager!.log.events().some((e) => e.type === 'error' && e.code === 'SCRIPT_TIMEOUT'),
    ).toBe(true);
  });

  it('pushes on an interval and injects into one connection', async () => {
    const url = await start(
      { pushes: [{ id: 'tick', everyMs: 50, message: { text: 'tick {{counter}}' } }] },
      'silent',
    );
    const a = await Client.open(url);
    const b = await Client.open(url);
    const p = manager!.behaviours.get('s');
    p.startPush('tick');
    await a.next(5);
    p.stopPush('tick');
    const gaps = a.got.slice(1, 5).map((g, i) => g.at - a.got[i]!.at);
    for (const g of gaps) expect(g).toBeGreaterThan(20);
    const [connA] = manager!.behaviours.get('s').connections();
    const before = b.got.length;
    expect(p.inject(connA, Buffer.from('only you'), false)).toEqual([connA]);
    await waitFor(() => a.got.some((g) => g.text === 'only you'), 'inject');
    await new Promise((r) => setTimeout(r, 50));
    expect(b.got.slice(before).some((g) => g.text === 'only you')).toBe(false);
    expect(frames().find((f) => f.preview === 'only you')).toMatchObject({
      source: 'injected',
      conn: connA,
    });
  });

  it('an "each" push renders per connection, or once per tick when the message is the same for all', async () => {
    const url = await start(
      {
        pushes: [
          { id: 'own', everyMs: 20, message: { text: 'n={{counter}} c={{conn}}' } },
          { id: 'same', everyMs: 20, message: { json: { t: 'tick', at: '{{now.ms}}' } } },
        ],
      },
      'silent',
    );
    const a = await Client.open(url);
    const b = await Client.open(url);
    const [connA, connB] = manager!.behaviours.get('s').connections();
    const p = manager!.behaviours.get('s');
    p.startPush('own');
    await a.next(3);
    await b.next(3);
    p.stopPush('own');
    expect(a.got.slice(0, 3).map((g) => g.text)).toEqual([1, 2, 3].map((n) => `n=${n} c=${connA}`));
    expect(b.got.slice(0, 3).map((g) => g.text)).toEqual([1, 2, 3].map((n) => `n=${n} c=${connB}`));
    await new Promise((r) => setTimeout(r, 60));
    const [na, nb] = [a.got.length, b.got.length];
    p.startPush('same');
    await waitFor(() => a.got.length >= na + 3 && b.got.length >= nb + 3, '3 ticks each');
    p.stopPush('same');
    // One render per tick: both connections got the very same text, tick by tick.
    const ta = a.got.slice(na, na + 3).map((g) => g.text);
    expect(b.got.slice(nb, nb + 3).map((g) => g.text)).toEqual(ta);
    expect(JSON.parse(ta[0] as string)).toMatchObject({ t: 'tick' });
  });

  it('replays a recorded session (HAR) with its timing, waiting for the client', async () => {
    const url = await start({});
    const rec = await Client.open(url);
    rec.ws.send('hello');
    await rec.next(1);
    rec.ws.close();
    manager!.log.flush();
    const har = toHar(manager!.log.events());
    // Make the recording: server says a, 100 ms later b, then waits for the client, then c.
    const t0 = 1_700_000_000;
    har.log.entries[0]!._webSocketMessages = [
      { type: 'receive', time: t0, opcode: 1, data: 'a' },
      { type: 'receive', time: t0 + 0.1, opcode: 1, data: 'b' },
      { type: 'send', time: t0 + 0.15, opcode: 1, data: 'go' },
      { type: 'receive', time: t0 + 0.2, opcode: 2, data: Buffer.from([1, 2]).toString('base64') },
    ];
    const c = await Client.open(url);
    const conn = Math.max(...manager!.behaviours.get('s').connections());
    const { parseRecording, pickSession } = await import('./replay');
    const s = pickSession(parseRecording(JSON.stringify(har)));
    const r = manager!.behaviours
      .get('s')
      .replay(conn, s.frames, { speed: 1, waitForClient: true });
    await c.next(2);
    expect(c.got[1]!.at - c.got[0]!.at).toBeGreaterThan(80);
    await new Promise((res) => setTimeout(res, 150));
    expect(c.got.length).toBe(2); // waiting for the client's message
    c.ws.send('go');
    expect(await c.next(3)).toEqual(['a', 'b', '0102']);
    expect(await r.done).toEqual({ sent: 3, completed: true });
    expect(frames().filter((f) => f.source === 'replay')).toHaveLength(3);
  });
});

describe('rules files', () => {
  it('reloads on change and keeps the previous rules when the new file is invalid', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wss-rules-'));
    dirs.push(dir);
    const file = path.join(dir, 'rules.json');
    fs.writeFileSync(
      file,
      JSON.stringify({ rules: [{ match: { text: 'v' }, reply: { text: 'one' } }] }),
    );
    manager = new ServerManager();
    manager.add({ id: 's', scheme: 'ws' });
    manager.behaviours.attachFile('s', file, true);
    const url = (await manager.start('s')).url as string;
    const c = await Client.open(url);
    c.ws.send('v');
    expect(await c.next(1)).toEqual(['one']);
    fs.writeFileSync(
      file,
      JSON.stringify({ rules: [{ match: { text: 'v' }, reply: { text: 'two' } }] }),
    );
    await waitFor(
      () => JSON.stringify(manager!.behaviours.status('s').rules).includes('two'),
      'reload',
    );
    fs.writeFileSync(file, JSON.stringify({ rules: [{ match: { pointer: 'bad' } }] }));
    await waitFor(() => manager!.behaviours.status('s').error !== undefined, 'invalid noticed');
    const st = manager.behaviours.status('s');
    expect(st.error?.message).toMatch(/rules\[0\]\.match\.pointer = "bad"/);
    c.ws.send('v');
    expect(await c.next(2)).toEqual(['one', 'two']);
    manager.log.flush();
    expect(
      manager.log
        .events()
        .some(
          (e) =>
            e.type === 'error' &&
            e.code === 'RULES_INVALID' &&
            /previous rules stay/.test(e.message),
        ),
    ).toBe(true);
  });
});

describe('rule index', () => {
  it('finds exactly the first matching rule across text, pointer and generic lists', async () => {
    const { compileMatch: cm, MessageView: MV } = await import('./match');
    const { RuleSet } = await import('./rule-set');
    const defs = [
      { when: { contains: 'zz' } },
      { when: { pointer: '/type', value: 'a' } },
      { when: { text: '{"type":"a"}' } },
      { when: { pointer: '/type', value: 'a', messageNumber: 9 } },
      { when: { opcode: 'binary' as const } },
      { when: {} },
    ].map((d, index) => ({ index, ...d, match: cm(d.when) }));
    const facts = { index: 1, path: '/', query: new URLSearchParams(), headers: {}, protocol: '' };
    const idx = new RuleSet(defs).forConnection(facts);
    const first = (s: string, bin = false, n = 1) =>
      idx.first(new MV(Buffer.from(s), bin, n))?.index;
    expect(first('{"type":"a"}')).toBe(1);
    expect(first('{"type":"zz"}')).toBe(0);
    expect(first('{"type":"b"}')).toBe(5);
    expect(first('x', true)).toBe(4);
    // Same answers as testing every rule in order.
    for (const s of ['{"type":"a"}', '{"type":"zz"}', 'zz', '{"type":1}', '[]']) {
      const linear = defs.find((d) => d.match(facts, new MV(Buffer.from(s), false, 1)))?.index;
      expect(first(s)).toBe(linear);
    }
  });
});

describe('rules in the state folder (app and web mode)', () => {
  it('set() writes <rulesDir>/<id>.json; a hand edit of that file applies; a bad one keeps the rules', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wss-rules-dir-'));
    dirs.push(dir);
    const rulesDir = path.join(dir, 'rules');
    manager = new ServerManager({ rulesDir });
    manager.add({ id: 's', scheme: 'ws' });
    expect(fs.existsSync(rulesDir)).toBe(false); // nothing written before a real change
    const st = manager.behaviours.set('s', {
      rules: [{ match: { text: 'v' }, reply: { text: 'one' } }],
    });
    const file = path.join(rulesDir, 's.json');
    expect(st.file).toBe(file);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).rules[0].reply.text).toBe('one');
    expect(() => manager!.behaviours.set('s', { rules: [{ match: { pointer: 'x' } }] })).toThrow(
      /rules\[0\]\.match\.pointer = "x"/,
    );
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).rules[0].reply.text).toBe('one'); // file untouched
    fs.writeFileSync(
      file,
      JSON.stringify({ rules: [{ match: { text: 'v' }, reply: { text: 'edited' } }] }),
    );
    await waitFor(
      () => JSON.stringify(manager!.behaviours.status('s').rules).includes('edited'),
      'hand edit',
    );
    fs.writeFileSync(file, '{ not json');
    await waitFor(() => manager!.behaviours.status('s').error !== undefined, 'bad edit noticed');
    expect(manager.behaviours.status('s').error?.message).toMatch(/not valid JSON/);
    expect(JSON.stringify(manager.behaviours.status('s').rules)).toContain('edited');

    // A new manager (app restart) reads the file back.
    await manager.stopAll();
    fs.writeFileSync(file, JSON.stringify({ rules: [{ reply: { text: 'after restart' } }] }));
    manager = new ServerManager({ rulesDir });
    manager.add({ id: 's', scheme: 'ws' });
    expect(JSON.stringify(manager.behaviours.status('s').rules)).toContain('after restart');
  });
});

describe('hostile input', () => {
  it('checkRules never throws on arbitrary JSON and always names a path', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const keys = [
      'rules',
      'match',
      'reply',
      'pointer',
      'text',
      'json',
      'close',
      'code',
      'steps',
      'wait',
      'pushes',
      'everyMs',
      'id',
      '__proto__',
      'constructor',
    ];
    const gen = (d: number): unknown => {
      const r = rnd();
      if (d > 4 || r < 0.2)
        return [null, true, 1.5, -1, 'x', '{{', '(a+)+$', ''][Math.floor(rnd() * 8)];
      if (r < 0.5) return Array.from({ length: Math.floor(rnd() * 4) }, () => gen(d + 1));
      const o: Record<string, unknown> = {};
      for (let i = 0; i < rnd() * 4; i++)
        o[keys[Math.floor(rnd() * keys.length)] as string] = gen(d + 1);
      return o;
    };
    for (let i = 0; i < 2000; i++) {
      const doc = i % 2 ? gen(0) : { rules: [gen(1)], onConnect: [gen(1)], pushes: [gen(1)] };
      const r = checkRules(doc);
      if (!r.ok) for (const p of r.problems) expect(typeof p.message).toBe('string');
    }
  });

  it('a deeply nested or huge message does not break a templated rule or the server', async () => {
    const url = await start({
      rules: [
        {
          match: { contains: 'deep' },
          reply: { json: { got: '{{json.0.0}}', text: 'n={{messageNumber}}' } },
        },
      ],
    });
    const c = await Client.open(url);
    c.ws.send('['.repeat(20_000) + '"deep"' + ']'.repeat(20_000));
    c.ws.send('deep ' + 'x'.repeat(2 * 1024 * 1024));
    c.ws.send('deep');
    const got = await c.next(3);
    expect(JSON.parse(got[0] as string)).toMatchObject({ text: 'n=1' });
    expect(JSON.parse(got[2] as string)).toEqual({ got: null, text: 'n=3' });
  });
});
