// The rules panel's pure helpers: JSON syntax errors located by line and column (browsers' JSON.parse
// messages do not all carry a position), schema problems with their path.
import { describe, expect, it } from 'vitest';
import { checkRulesText, jsonErrorAt, lineCol } from '../renderer/src/lib/rules-text';
import { matches, toRow } from '../renderer/src/lib/log-rows';

describe('rules text', () => {
  it('locates JSON syntax errors', () => {
    expect(jsonErrorAt('{"a": }')).toEqual({
      offset: 6,
      expected: expect.stringMatching(/^a value/),
    });
    expect(jsonErrorAt('{"a": 1,}')).toMatchObject({
      offset: 8,
      expected: 'a "quoted" field name',
    });
    expect(jsonErrorAt('[1 2]')).toMatchObject({ offset: 3, expected: '"," or "]"' });
    expect(jsonErrorAt('{"a": "x\ny"}')).toMatchObject({ offset: 8 });
    expect(jsonErrorAt('{"a": 1} x')).toMatchObject({ offset: 9, expected: 'the end of the text' });
    expect(lineCol('ab\ncd', 4)).toEqual({ line: 2, col: 2 });
    const r = checkRulesText('{"rules": [\n  {"match": }\n]}');
    expect(r.ok ? '' : r.syntax).toBe(
      'JSON syntax error at line 2, column 13: expected a value (string, number, object, list, true, false or null), found "}\\n]}"',
    );
  });
  it('reports schema problems by path and summarises valid rules', () => {
    const bad = checkRulesText('{"rules":[{"match":{"pointer":"type"}}]}');
    expect(bad.ok ? [] : bad.problems.map((p) => p.path)).toEqual(['rules[0].match.pointer']);
    const good = checkRulesText('{"rules":[{"reply":{"text":"hi"}}],"pushes":[]}');
    expect(good.ok && good.summary).toBe('valid: 1 rule, 0 scripts, 0 pushes');
    expect(checkRulesText('  ')).toMatchObject({
      ok: true,
      summary: 'no rules: the server only echoes',
    });
  });
});

describe('frame log rows', () => {
  it('frames the server sent on its own carry their source, and a search finds them', () => {
    const row = toRow({
      type: 'frame',
      serverId: 'ws',
      conn: 3,
      dir: 'out',
      opcode: 'text',
      length: 2,
      preview: 'hi',
      previewEncoding: 'utf8',
      truncated: false,
      source: 'injected',
      note: 'manual push',
      seq: 1,
      time: 1,
    });
    expect(row.summary).toBe('injected: manual push');
    expect(matches(row, { server: '', conn: '', dir: '', opcode: '', search: 'injected' })).toBe(
      true,
    );
  });
});
