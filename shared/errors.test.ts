import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import {
  failure,
  inputError,
  isWssError,
  isWssErrorData,
  message,
  q,
  WssError,
  type WssErrorData,
} from './errors';

describe('message(data)', () => {
  it('is the one sentence: failed to <action>: <cause>', () => {
    expect(message({ action: 'issue certificate', cause: '"x" is not valid' })).toBe(
      'failed to issue certificate: "x" is not valid',
    );
  });

  it('is what WssError carries as its message, and what wire data turns back into', () => {
    const e = inputError('BAD', 'read "a.json"', 'not JSON', { hint: 'fix it', field: 'file' });
    expect(e.message).toBe(message(e.data));
    const wire = JSON.parse(JSON.stringify(e)) as WssErrorData;
    const back = new WssError(wire);
    expect(back.message).toBe(e.message);
    expect(back).toMatchObject({ code: 'BAD', kind: 'input', hint: 'fix it', field: 'file' });
  });
});

describe('WssError', () => {
  it('keeps the rejected value in this process only: never in data, JSON or the message', () => {
    const secret = 'x'.repeat(5000) + 'SECRET';
    const e = inputError('TOO_LONG', 'save settings', 'the name is too long', {
      field: 'name',
      value: secret,
    });
    expect(e.value).toBe(secret);
    expect(e.data).toEqual({
      code: 'TOO_LONG',
      action: 'save settings',
      cause: 'the name is too long',
      field: 'name',
      kind: 'input',
    });
    expect(JSON.stringify(e)).not.toContain('SECRET');
    expect(Object.keys(e.toJSON())).not.toContain('value');
    expect(e.message).not.toContain('SECRET');
  });

  it('leaves out undefined keys, and reads data without a valid kind as a failure', () => {
    expect(Object.keys(failure('X', 'do it', 'broke').data).sort()).toEqual(
      ['action', 'cause', 'code', 'kind'].sort(),
    );
    const odd = new WssError({ code: 'X', action: 'a', cause: 'c' } as WssErrorData);
    expect(odd.kind).toBe('failure');
    const forged = new WssError({ code: 'X', action: 'a', cause: 'c', kind: 'admin' as 'input' });
    expect(forged.kind).toBe('failure');
  });

  it('inputError and failure set the kind the CLI maps to exit codes 2 and 1', () => {
    const i = inputError('A', 'a', 'b');
    const f = failure('B', 'a', 'b', 'try again');
    expect([i.kind, f.kind, f.hint, f.name]).toEqual(['input', 'failure', 'try again', 'WssError']);
    expect(isWssError(i) && isWssError(f)).toBe(true);
    expect(isWssError(new Error('x'))).toBe(false);
    expect(isWssError(i.toJSON())).toBe(false);
  });
});

describe('isWssErrorData', () => {
  it.each([
    [{ code: 'A', action: 'b', cause: 'c', kind: 'input' }, true],
    [{ code: 'A', action: 'b', cause: 'c' }, true],
    [{ code: 'A', action: 'b' }, false],
    [{ code: 1, action: 'b', cause: 'c' }, false],
    [null, false],
    ['failed to x: y', false],
  ])('%j -> %s', (x, ok) => {
    expect(isWssErrorData(x)).toBe(ok);
  });
});

describe('q()', () => {
  it('quotes with JSON escapes, so a quote or a control character in a value stays visible', () => {
    expect(q('app.test')).toBe('"app.test"');
    expect(q('a"b')).toBe('"a\\"b"');
    expect(q('line\nbreak')).toBe('"line\\nbreak"');
    expect(q(42)).toBe('"42"');
  });
});

describe('eslint rule: error arguments quote with q()', () => {
  const root = path.resolve(import.meta.dirname, '..');
  async function flagged(code: string): Promise<string[]> {
    const eslint = new ESLint({ cwd: root });
    const [r] = await eslint.lintText(code, { filePath: path.join(root, 'main/example.ts') });
    return r!.messages
      .filter((m) => m.ruleId === 'no-restricted-syntax')
      .map((m) => code.split('\n')[m.line - 1]!.trim());
  }

  it('flags JSON.stringify and "${…}" in failure(), inputError(), new WssError() and error data', async () => {
    const bad = [
      "import { failure, inputError, WssError } from '../shared/errors';",
      'export function f(x: string) {',
      '  if (x) throw failure("A", `read ${JSON.stringify(x)}`, "gone");',
      '  if (!x) throw inputError("B", "save", `name "${x}" is taken`, { hint: "rename it" });',
      '  const data = { code: "C", action: `run ${JSON.stringify(x)}`, cause: "no", kind: "input" };',
      '  throw new WssError({ code: "D", action: "a", cause: `"${x}" is bad`, kind: "input" });',
      '  return data;',
      '}',
    ].join('\n');
    expect(await flagged(bad)).toEqual([
      'if (x) throw failure("A", `read ${JSON.stringify(x)}`, "gone");',
      'if (!x) throw inputError("B", "save", `name "${x}" is taken`, { hint: "rename it" });',
      'const data = { code: "C", action: `run ${JSON.stringify(x)}`, cause: "no", kind: "input" };',
      // the literal inside new WssError() matches both selectors: one message each
      'throw new WssError({ code: "D", action: "a", cause: `"${x}" is bad`, kind: "input" });',
      'throw new WssError({ code: "D", action: "a", cause: `"${x}" is bad`, kind: "input" });',
    ]);
  });

  it('accepts q(), and JSON.stringify outside error arguments', async () => {
    const good = [
      "import { failure, q } from '../shared/errors';",
      'export function f(x: string) {',
      '  const body = JSON.stringify({ x });',
      '  if (!x) throw failure("A", `read ${q(x)}`, `option "--port" is ${q(body)}`);',
      '  return body;',
      '}',
    ].join('\n');
    expect(await flagged(good)).toEqual([]);
  });
});
