import { describe, expect, it } from 'vitest';
import { parseRpcMessage } from './rpc';

describe('RPC frame shape check', () => {
  it('accepts the three message kinds', () => {
    expect(parseRpcMessage('{"t":"call","id":3,"name":"ca.get","input":{}}')).toEqual({
      ok: true,
      msg: { t: 'call', id: 3, name: 'ca.get', input: {} },
    });
    expect(parseRpcMessage('{"t":"sub","stream":"log.batch"}')).toMatchObject({ ok: true });
    expect(parseRpcMessage('{"t":"unsub","stream":"log.batch"}')).toMatchObject({ ok: true });
  });

  it('refuses every wrong shape with a cause, keeping a usable id for the reply', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    const cases: [string, number, RegExp][] = [
      ['{"t":"call","id":1,"name":{"toString":1}}', 1, /"name" must be/],
      [`{"t":"call","id":2,"name":${deep}}`, 2, /"name" must be/],
      [`{"t":"call","id":2,"name":"${'x'.repeat(101)}"}`, 2, /"name" must be/],
      ['{"t":"call","id":"1","name":"ca.get"}', -1, /"id" must be/],
      ['{"t":"call","id":-1,"name":"ca.get"}', -1, /"id" must be/],
      ['{"t":"call","id":1.5,"name":"ca.get"}', -1, /"id" must be/],
      ['{"t":"call","id":1e300,"name":"ca.get"}', -1, /"id" must be/],
      ['{"t":"call","id":1,"name":"ca.get","__proto__":{"x":1}}', 1, /unknown key "__proto__"/],
      ['{"t":"sub","stream":"constructor"}', -1, /"stream" must be/],
      ['{"t":"sub","stream":["log.batch"]}', -1, /"stream" must be/],
      ['{"t":"toString"}', -1, /"t" must be/],
      ['{"t":"__proto__"}', -1, /"t" must be/],
      ['{"__proto__":{"t":"call"}}', -1, /"t" must be/],
      ['[1,2]', -1, /not a JSON object/],
      ['null', -1, /not a JSON object/],
      ['"call"', -1, /not a JSON object/],
      ['{"t":', -1, /not JSON/],
      [deep, -1, /not a JSON object/],
    ];
    for (const [text, id, cause] of cases) {
      const r = parseRpcMessage(text);
      expect(r.ok, text.slice(0, 60)).toBe(false);
      if (r.ok) continue;
      expect(r.id, text.slice(0, 60)).toBe(id);
      expect(r.cause, text.slice(0, 60)).toMatch(cause);
      expect(r.cause.length).toBeLessThan(120);
    }
  });
});
