// Validation of a rules document as the user types: JSON syntax (with line and column), then the same
// schema the engine uses (shared/rules.ts), every problem with its path. Pure: no DOM, no Svelte.
import {
  checkRules,
  formatProblem,
  type RulesFile,
  type RulesProblem,
} from '../../../shared/rules';

export type RulesTextCheck =
  | { ok: true; value: RulesFile; summary: string }
  | { ok: false; syntax?: string; problems: RulesProblem[] };

/** Line and column (1-based) of a character offset. */
export function lineCol(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, col: offset - before.lastIndexOf('\n') };
}

/**
 * Where JSON text first goes wrong, and what was expected there. Browsers' JSON.parse messages differ
 * (Chromium's names no position), so this small scanner finds the spot; it only runs on text JSON.parse
 * refused.
 */
export function jsonErrorAt(text: string): { offset: number; expected: string } {
  let i = 0;
  const fail = (expected: string): never => {
    throw { offset: i, expected };
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const str = (): void => {
    i++;
    while (i < text.length) {
      const c = text[i] as string;
      if (c === '"') return void i++;
      if (c === '\\') {
        if (!/^(["\\/bfnrt]|u[0-9a-fA-F]{4})/.test(text.slice(i + 1, i + 6)))
          fail('a valid escape');
        i += text[i + 1] === 'u' ? 6 : 2;
        continue;
      }
      if (c < ' ') fail('no control character inside a string (write \\n)');
      i++;
    }
    fail('the closing quote');
  };
  const value = (depth: number): void => {
    if (depth > 512) fail('less nesting');
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (text[i] === close) return void i++;
      for (;;) {
        if (c === '{') {
          ws();
          if (text[i] !== '"') fail('a "quoted" field name');
          str();
          ws();
          if (text[i] !== ':') fail('":" after the field name');
          i++;
        }
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === close) return void i++;
        fail(`"," or "${close}"`);
      }
    }
    if (c === '"') return str();
    const m = /^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(
      text.slice(i, i + 400),
    );
    if (!m) fail('a value (string, number, object, list, true, false or null)');
    i += (m as RegExpExecArray)[0].length;
  };
  try {
    value(0);
    ws();
    if (i < text.length) fail('the end of the text');
  } catch (e) {
    if (e && typeof e === 'object' && 'offset' in e)
      return e as { offset: number; expected: string };
    throw e;
  }
  return { offset: text.length, expected: 'valid JSON' };
}

export function checkRulesText(text: string): RulesTextCheck {
  if (!text.trim()) return { ok: true, value: {}, summary: 'no rules: the server only echoes' };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    const at = jsonErrorAt(text);
    const where = lineCol(text, at.offset);
    const found =
      at.offset < text.length ? JSON.stringify(text.slice(at.offset, at.offset + 12)) : 'the end';
    return {
      ok: false,
      syntax: `JSON syntax error at line ${where.line}, column ${where.col}: expected ${at.expected}, found ${found}`,
      problems: [],
    };
  }
  const r = checkRules(doc);
  if (!r.ok) return { ok: false, problems: r.problems };
  const n = (x: unknown[] | undefined, one: string, many: string) =>
    `${x?.length ?? 0} ${(x?.length ?? 0) === 1 ? one : many}`;
  return {
    ok: true,
    value: r.value,
    summary: `valid: ${n(r.value.rules, 'rule', 'rules')}, ${n(r.value.onConnect, 'script', 'scripts')}, ${n(r.value.pushes, 'push', 'pushes')}`,
  };
}

export { formatProblem };
