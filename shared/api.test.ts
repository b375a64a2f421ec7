import { describe, expect, it } from 'vitest';
import { requests, requestNames, streamNames, validateInput, isRequestName } from './api';
import { WssError } from './errors';
import { createClient, rpcUrl, takeToken, TOKEN_KEY, type Transport } from './client';

describe('contract table', () => {
  it('names every request once, with a summary and a schema', () => {
    expect(requestNames.length).toBeGreaterThan(20);
    expect(new Set(requestNames).size).toBe(requestNames.length);
    for (const n of requestNames) {
      expect(n).toMatch(/^[a-z]+\.[a-zA-Z]+$/);
      expect(requests[n].summary.length).toBeGreaterThan(5);
    }
    expect(streamNames).toContain('log.batch');
    expect(isRequestName('constructor')).toBe(false);
    expect(isRequestName('ca.get')).toBe(true);
  });

  it('long tasks accept a taskId and reject a malformed one', () => {
    for (const n of requestNames.filter((n) => requests[n].task)) {
      const bad = validateInput(n, { taskId: 'a b', url: 'ws://x' });
      expect(bad.ok, n).toBe(false);
      if (!bad.ok) expect(bad.error.field).toBe('taskId');
    }
  });
});

describe('validateInput names the field and why', () => {
  it('port 70000', () => {
    const r = validateInput('server.update', { id: 's1', patch: { port: 70000 } });
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT', field: 'patch.port', kind: 'input' },
    });
    if (!r.ok) expect(r.error.cause).toContain('from 0 to 65535');
  });
  it('wrong types', () => {
    const r = validateInput('cert.issue', { names: ['localhost', 42] });
    expect(r).toMatchObject({ ok: false, error: { field: 'names[1]' } });
    const r2 = validateInput('cert.issue', { names: 'localhost' });
    expect(r2).toMatchObject({ ok: false, error: { field: 'names' } });
  });
  it('a 10 MB string', () => {
    const r = validateInput('cert.get', { id: 'x'.repeat(10 * 1024 * 1024) });
    expect(r).toMatchObject({ ok: false, error: { field: 'id' } });
    if (!r.ok) expect(r.error.cause).toContain('at most 128 characters');
  });
  it('unknown keys are refused (strict objects)', () => {
    const r = validateInput('cert.issue', { names: ['a.test'], evil: true });
    expect(r).toMatchObject({ ok: false, error: { field: 'evil' } });
  });
  it('accepts good input and fills the empty object', () => {
    expect(validateInput('ca.get', undefined)).toEqual({ ok: true, value: {} });
    expect(
      validateInput('cert.issue', { names: ['localhost', '127.0.0.1'], days: 30 }),
    ).toMatchObject({
      ok: true,
    });
  });
});

describe('createClient', () => {
  it('passes name and input to the transport and turns error data into WssError', async () => {
    const calls: unknown[] = [];
    const t: Transport = {
      async call(name, input) {
        calls.push([name, input]);
        if (name === 'cert.get') {
          throw {
            code: 'CERT_NOT_FOUND',
            action: 'find certificate',
            cause: '"x" does not exist',
            kind: 'input',
          };
        }
        return null;
      },
      subscribe: () => () => {},
    };
    const c = createClient(t);
    expect(await c.call('ca.get')).toBeNull();
    const err = await c.call('cert.get', { id: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WssError);
    expect((err as WssError).code).toBe('CERT_NOT_FOUND');
    expect((err as WssError).message).toBe('failed to find certificate: "x" does not exist');
    expect(calls).toEqual([
      ['ca.get', {}],
      ['cert.get', { id: 'x' }],
    ]);
  });

  it('builds the RPC URL from the page location', () => {
    expect(rpcUrl({ protocol: 'http:', host: '127.0.0.1:5000' }, 'ab+c')).toBe(
      'ws://127.0.0.1:5000/rpc?token=ab%2Bc',
    );
  });

  it('moves the token from the URL into sessionStorage and out of the address bar', () => {
    const store = new Map<string, string>();
    const replaced: string[] = [];
    const page = (href: string) => ({
      location: { href },
      history: {
        state: null,
        replaceState: (_d: unknown, _u: string, url: string) => void replaced.push(url),
      },
      sessionStorage: {
        getItem: (k: string) => store.get(k) ?? null,
        setItem: (k: string, v: string) => void store.set(k, v),
      },
    });
    expect(takeToken(page('http://127.0.0.1:5000/?token=ab%2Bc&x=1#/servers'))).toBe('ab+c');
    expect(replaced).toEqual(['/?x=1#/servers']);
    expect(store.get(TOKEN_KEY)).toBe('ab+c');
    // A reload of the bare URL in the same tab.
    expect(takeToken(page('http://127.0.0.1:5000/#/servers'))).toBe('ab+c');
    expect(replaced).toHaveLength(1);
    // A new tab: nothing stored.
    store.clear();
    expect(takeToken(page('http://127.0.0.1:5000/'))).toBeNull();
  });
});
