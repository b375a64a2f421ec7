// The rules panel's pure helpers: JSON syntax errors located by line and column (browsers' JSON.parse
// messages do not all carry a position), schema problems with their path.
import { describe, expect, it } from 'vitest';
import { checkRulesText, jsonErrorAt, lineCol } from '../renderer/src/lib/rules-text';
import { matches, toRow } from '../renderer/src/lib/log-rows';
import { inSelection, openConnections, replaySelection } from '../renderer/src/lib/log-replay';

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

describe('replay from the frame log', () => {
  const frame = (seq: number, conn: number, dir: 'in' | 'out', opcode = 'text', serverId = 'ws') =>
    toRow({
      type: 'frame',
      serverId,
      conn,
      dir,
      opcode,
      length: 1,
      preview: 'x',
      previewEncoding: 'utf8',
      truncated: false,
      seq,
      time: seq,
    } as never);
  const ev = (seq: number, conn: number, type: 'open' | 'close', serverId = 'ws') =>
    toRow({
      type,
      serverId,
      conn,
      seq,
      time: seq,
      remoteAddress: '',
      code: 1000,
      reason: '',
    } as never);
  const rows = [
    ev(1, 1, 'open'),
    frame(2, 1, 'in'),
    frame(3, 1, 'out'),
    ev(4, 2, 'open'),
    frame(5, 2, 'in'), // another connection inside the range: not part of it
    frame(6, 1, 'in', 'binary'),
    frame(7, 1, 'out', 'ping'), // not a message
    frame(8, 1, 'out'),
    ev(9, 1, 'close'),
    ev(10, 3, 'open', 'other'),
  ];
  it('a range is one connection between two rows, in either order, counted by direction', () => {
    expect(replaySelection(rows, 2, 8)).toEqual({
      serverId: 'ws',
      conn: 1,
      fromSeq: 2,
      toSeq: 8,
      out: 2,
      in: 2,
    });
    expect(replaySelection(rows, 8, 2)).toEqual(replaySelection(rows, 2, 8));
    expect(replaySelection(rows, 3, null)).toMatchObject({ fromSeq: 3, toSeq: 3, out: 1, in: 0 });
    expect(replaySelection(rows, null, 3)).toBeNull();
    expect(replaySelection(rows, 99, null)).toBeNull();
    const sel = replaySelection(rows, 2, 8);
    expect(rows.filter((r) => inSelection(r, sel)).map((r) => r.seq)).toEqual([2, 3, 6, 7, 8]);
    expect(inSelection(rows[0]!, null)).toBe(false);
  });
  it('offers the connections of that server still open, newest first', () => {
    expect(openConnections(rows, 'ws')).toEqual([2]);
    expect(openConnections([...rows, ev(11, 5, 'open')], 'ws')).toEqual([5, 2]);
    expect(openConnections(rows, 'other')).toEqual([3]);
  });
});
