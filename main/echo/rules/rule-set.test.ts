// The compiled rule set must answer exactly what testing every rule in order answers. The reference below
// is written from the README's definition of each matcher (decode, parse, test), independently of
// match.ts, and compared with RuleSet over random rule lists, every matcher kind and awkward messages:
// multi-byte UTF-8, invalid UTF-8 in text frames, JSON with the key only inside a string value, escaped
// keys, white space before JSON, messages past the byte-scan limit.
import { describe, expect, it } from 'vitest';
import { RE2JS } from 're2js';
import type { Match } from '../../../shared/rules';
import { MessageView, type ConnFacts } from './match';
import { RuleSet } from './rule-set';

function refPointer(doc: unknown, pointer: string): { found: boolean; value?: unknown } {
  if (pointer === '') return { found: true, value: doc };
  let cur = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9]\d*)$/.test(key) || Number(key) >= cur.length) return { found: false };
      cur = cur[Number(key)];
    } else if (cur !== null && typeof cur === 'object' && Object.hasOwn(cur, key)) {
      cur = (cur as Record<string, unknown>)[key];
    } else return { found: false };
  }
  return { found: true, value: cur };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function reference(m: Match, c: ConnFacts, data: Buffer, bin: boolean, n: number): boolean {
  const text = data.toString('utf8');
  let json: unknown;
  let isJson = false;
  if (!bin && data.length <= 1024 * 1024) {
    try {
      json = JSON.parse(text);
      isJson = true;
    } catch {
      // not JSON
    }
  }
  const range = (x: number, r: number | { min?: number; max?: number }) =>
    typeof r === 'number' ? x === r : x >= (r.min ?? -Infinity) && x <= (r.max ?? Infinity);
  if (m.connection !== undefined && !range(c.index, m.connection)) return false;
  if (m.protocol !== undefined && c.protocol !== m.protocol) return false;
  if (m.path !== undefined && c.path !== m.path) return false;
  for (const [k, v] of Object.entries(m.query ?? {}))
    if (v === true ? !c.query.has(k) : c.query.get(k) !== v) return false;
  for (const [k, v] of Object.entries(m.header ?? {})) {
    const h = c.headers[k.toLowerCase()];
    if (h === undefined || (v !== true && (Array.isArray(h) ? !h.includes(v) : h !== v)))
      return false;
  }
  if (m.opcode !== undefined && bin !== (m.opcode === 'binary')) return false;
  if (m.messageNumber !== undefined && !range(n, m.messageNumber)) return false;
  if (m.text !== undefined && (bin || !data.equals(Buffer.from(m.text, 'utf8')))) return false;
  if (m.hexPrefix !== undefined) {
    const p = Buffer.from(m.hexPrefix, 'hex');
    if (!bin || !data.subarray(0, p.length).equals(p) || data.length < p.length) return false;
  }
  if (m.contains !== undefined && (bin || !text.includes(m.contains))) return false;
  if (m.regex !== undefined && (bin || !RE2JS.compile(m.regex).matcher(text).find())) return false;
  if (m.pointer !== undefined) {
    if (!isJson) return false;
    const r = refPointer(json, m.pointer);
    if (m.value !== undefined) return r.found && same(r.value, m.value);
    return r.found === (m.exists ?? true);
  }
  return true;
}

const big = (tail: string) => `{"pad":"${'x'.repeat(5000)}",${tail}}`;
const MESSAGES: [string | number[], boolean][] = [
  ['{"type":"a","id":1}', false],
  [' \n\t{"type":"b"}', false],
  ['{"x":"type"}', false], // the key only as a string value
  ['{"x":"\\"type\\""}', false], // quoted key name inside a string value
  ['{"t\\u0079pe":"a"}', false], // escaped key: "type" in JSON, not in the bytes
  ['["a",{"type":"a"}]', false],
  ['{"type":{"k":[1,2]}}', false],
  ['{"type":1}', false],
  ['{"type":null}', false],
  ['"type"', false],
  ['5', false],
  ['', false],
  ['héllo wörld', false],
  ['日本語テキスト', false],
  ['😀 emoji', false],
  ['{"naïve":"ö"}', false],
  [[0xff, 0x61], false], // invalid UTF-8 in a text frame
  [[0xe2, 0x82], false], // truncated sequence
  [[0xed, 0xa0, 0x80, 0x61], false], // an encoded surrogate (invalid UTF-8)
  [[0xef, 0xbf, 0xbd], false], // U+FFFD itself
  [[0x7b, 0x22, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d], false], // {"type":"\xff"}
  [big('"type":"a"'), false], // past the byte-scan limit
  [big('"y":"type"'), false],
  ['never matching text number 3', false],
  ['{"type":"never-4"}', false],
  ['absent-8 inside', false],
  ['a', false],
  [[0xff, 0x61], true],
  [[0xde, 0xad, 0xbe, 0xef, 0x01], true],
  ['{"type":"a","id":1}', true],
  [[], true],
];

const ATOMS: Match[] = [
  { text: '{"type":"a","id":1}' },
  { text: 'héllo wörld' },
  { text: '' },
  { text: 'a' },
  { text: '\ufffd' },
  { text: '\ud800' },
  { contains: 'type' },
  { contains: '"type"' },
  { contains: 'ö' },
  { contains: '\ufffd' },
  { contains: '\ud800' },
  { contains: '' },
  { contains: '😀' },
  { contains: 'a' },
  { contains: 'absent-8' },
  { contains: 'テキ' },
  { regex: '^\\s*\\{' },
  { regex: 'ö|é' },
  { pointer: '/type', value: 'a' },
  { pointer: '/type', value: 'b' },
  { pointer: '/type', value: 1 },
  { pointer: '/type', value: null },
  { pointer: '/type', value: { k: [1, 2] } },
  { pointer: '/type', value: '\ufffd' },
  { pointer: '/type' },
  { pointer: '/type', exists: false },
  { pointer: '/x', exists: true },
  { pointer: '/naïve', value: 'ö' },
  { pointer: '', value: 'type' },
  { pointer: '', value: 5 },
  { pointer: '/1/type', value: 'a' },
  { pointer: '/0', value: 'a' },
  { pointer: '/pad' },
  { pointer: '/y', value: 'type' },
  { hexPrefix: 'ff' },
  { hexPrefix: 'deadbeef' },
  { opcode: 'text' },
  { opcode: 'binary' },
  { messageNumber: 1 },
  { messageNumber: { min: 2 } },
  { path: '/a' },
  { query: { room: 'x' } },
  { query: { room: true } },
  { header: { 'X-Api': 'k' } },
  { protocol: 'p' },
  { connection: { min: 2 } },
  {},
];

const CONNS: ConnFacts[] = [
  { index: 1, path: '/', query: new URLSearchParams(), headers: {}, protocol: '' },
  {
    index: 2,
    path: '/a',
    query: new URLSearchParams('room=x'),
    headers: { 'x-api': 'k' },
    protocol: 'p',
  },
  { index: 3, path: '/a', query: new URLSearchParams('room=y'), headers: {}, protocol: '' },
];

/** A small seeded generator, so a failure is reproducible. */
function rng(seed: number) {
  return () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
}

describe('RuleSet: the same first match as testing every rule in order', () => {
  it('on every single matcher kind, message and connection', () => {
    let checked = 0;
    ATOMS.forEach((atom, i) => {
      // The atom behind a catch-all, and with a rule of another kind after it.
      const rules = [
        { index: 0, when: atom },
        { index: 1, when: { contains: 'zz-never' } },
        { index: 2, when: { pointer: '/type', value: 'b' } },
      ];
      const set = new RuleSet(rules);
      for (const c of CONNS) {
        for (const [m, bin] of MESSAGES) {
          for (const n of [1, 3]) {
            const data = Buffer.from(m as string);
            const want = rules.find((r) => reference(r.when, c, data, bin, n))?.index;
            const got = set.forConnection(c).first(new MessageView(data, bin, n))?.index;
            expect({ atom: i, m, bin, n, c: c.index, got }).toEqual({
              atom: i,
              m,
              bin,
              n,
              c: c.index,
              got: want,
            });
            checked++;
          }
        }
      }
    });
    expect(checked).toBe(ATOMS.length * CONNS.length * MESSAGES.length * 2);
  });

  it('on 400 random rule lists (order, indexes and scan lists mixed)', () => {
    const rand = rng(13);
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)] as T;
    let matched = 0;
    for (let round = 0; round < 400; round++) {
      const rules = Array.from({ length: 1 + Math.floor(rand() * 14) }, (_, index) => ({
        index,
        when: rand() < 0.3 ? { ...pick(ATOMS), ...pick(ATOMS) } : pick(ATOMS),
      }));
      const set = new RuleSet(rules);
      for (const c of CONNS) {
        for (const [m, bin] of MESSAGES) {
          const data = Buffer.from(m as string);
          const n = 1 + Math.floor(rand() * 3);
          const want = rules.find((r) => reference(r.when, c, data, bin, n))?.index;
          const got = set.forConnection(c).first(new MessageView(data, bin, n))?.index;
          if (got !== want) {
            expect({ rules: rules.map((r) => r.when), m, bin, n, c: c.index, got }).toEqual({
              rules: rules.map((r) => r.when),
              m,
              bin,
              n,
              c: c.index,
              got: want,
            });
          }
          if (want !== undefined) matched++;
        }
      }
    }
    // The random lists do match often (the comparison is not only "no rule matched").
    expect(matched).toBeGreaterThan(1000);
  });

  it('an earlier scan-list rule wins over a later indexed one, and the reverse', () => {
    const c = CONNS[0] as ConnFacts;
    const msg = () => new MessageView(Buffer.from('{"type":"a"}'), false, 1);
    const first = (whens: Match[]) =>
      new RuleSet(whens.map((when, index) => ({ index, when }))).forConnection(c).first(msg())
        ?.index;
    expect(first([{ contains: 'a' }, { pointer: '/type', value: 'a' }])).toBe(0);
    expect(first([{ pointer: '/type', value: 'a' }, { contains: 'a' }])).toBe(0);
    expect(
      first([{ contains: 'zz' }, { text: '{"type":"a"}' }, { pointer: '/type', value: 'a' }]),
    ).toBe(1);
    expect(
      first([{ regex: 'q' }, { pointer: '/type', value: 'a' }, { text: '{"type":"a"}' }]),
    ).toBe(1);
  });

  it('connection conditions are settled per connection: same answers, shared per outcome', () => {
    const set = new RuleSet([
      { index: 0, when: { path: '/a', contains: 'x' } },
      { index: 1, when: { query: { room: 'x' } } },
      { index: 2, when: {} },
    ]);
    const [c1, c2, c3] = CONNS as [ConnFacts, ConnFacts, ConnFacts];
    const mv = (s: string) => new MessageView(Buffer.from(s), false, 1);
    expect(set.forConnection(c1).first(mv('x'))?.index).toBe(2);
    expect(set.forConnection(c2).first(mv('x'))?.index).toBe(0);
    expect(set.forConnection(c2).first(mv('y'))?.index).toBe(1);
    expect(set.forConnection(c3).first(mv('y'))?.index).toBe(2);
    expect(set.forConnection(c3).first(mv('x'))?.index).toBe(0);
    // Two connections with the same outcomes share one matcher.
    expect(set.forConnection({ ...c1, index: 9 })).toBe(set.forConnection(c1));
    expect(set.forConnection(c2)).not.toBe(set.forConnection(c1));
  });

  it('a view scanned earlier is scanned again after another message (no stale byte table)', () => {
    const set = new RuleSet([{ index: 0, when: { contains: 'needle' } }]);
    const m = set.forConnection(CONNS[0] as ConnFacts);
    const a = new MessageView(Buffer.from('a needle here'), false, 1);
    const b = new MessageView(Buffer.from('nothing'), false, 1);
    expect(m.first(a)?.index).toBe(0);
    expect(m.first(b)).toBeUndefined();
    expect(m.first(a)?.index).toBe(0);
  });
});
