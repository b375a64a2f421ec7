import { describe, expect, it } from 'vitest';
import {
  loadSaved,
  matchesMessage,
  SAVED_KEY,
  savedName,
  shown,
  storeSaved,
  toHexPairs,
  type ClientMessage,
} from './client-messages';

const msg = (over: Partial<ClientMessage>): ClientMessage => ({
  id: 1,
  time: 0,
  dir: 'received',
  kind: 'text',
  text: '',
  size: 0,
  ...over,
});

function memoryStorage(init: Record<string, string> = {}) {
  const m = new Map(Object.entries(init));
  return {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
    map: m,
  };
}

describe('client conversation helpers', () => {
  it('pretty-prints JSON text with a one-line summary, leaves other text alone', () => {
    const v = shown(msg({ text: '{"a":1,"b":[2]}' }));
    expect(v.format).toBe('json');
    expect(v.body).toBe('{\n  "a": 1,\n  "b": [\n    2\n  ]\n}');
    expect(v.summary).toBe('{"a":1,"b":[2]}');
    expect(v.lines).toBe(6);
    expect(shown(msg({ text: '{not json' })).format).toBe('text');
    expect(shown(msg({ text: '42' })).format).toBe('text');
  });

  it('shows binary as hex pairs, or as base64 when it was typed as base64', () => {
    expect(shown(msg({ kind: 'binary', text: '3q2+7w==' })).body).toBe('de ad be ef');
    expect(shown(msg({ kind: 'binary', text: '3q2+7w==', sentAs: 'hex' })).format).toBe('hex');
    expect(shown(msg({ kind: 'binary', text: '3q2+7w==', sentAs: 'base64' })).body).toBe(
      '3q2+7w==',
    );
    expect(toHexPairs(new Uint8Array([1, 2, 3]), 2)).toBe('01 02 … (+1 bytes)');
  });

  it('filters by text (also the hex form) and by direction', () => {
    const bin = msg({ kind: 'binary', text: '3q2+7w==' });
    expect(matchesMessage(bin, { text: 'AD BE', dir: '' })).toBe(true);
    expect(matchesMessage(bin, { text: '', dir: 'sent' })).toBe(false);
    expect(matchesMessage(msg({ text: 'Hello' }), { text: 'hell', dir: 'received' })).toBe(true);
    expect(matchesMessage(msg({ text: 'Hello' }), { text: 'bye', dir: '' })).toBe(false);
  });

  it('keeps the saved list in storage and skips anything malformed there', () => {
    const st = memoryStorage();
    const list = [{ id: 'x', name: 'de ad', mode: 'hex' as const, text: 'de ad' }];
    expect(storeSaved(st, list)).toBe('');
    expect(loadSaved(st)).toEqual(list);
    st.map.set(
      SAVED_KEY,
      JSON.stringify([list[0], { id: 1 }, null, { id: 'y', name: 'n', mode: 'evil', text: 't' }]),
    );
    expect(loadSaved(st)).toEqual(list);
    expect(loadSaved(memoryStorage({ [SAVED_KEY]: '{broken' }))).toEqual([]);
    expect(loadSaved(undefined)).toEqual([]);
    const full = {
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
    };
    expect(storeSaved(full, list)).toBe('failed to save the message list: QuotaExceededError');
  });

  it('names a saved message by its first line, at most 40 characters', () => {
    expect(savedName('  hello\nworld')).toBe('hello');
    expect(savedName('x'.repeat(50))).toBe(`${'x'.repeat(39)}…`);
    expect(savedName('   ')).toBe('(empty)');
  });
});
