// WsClient without a network: the saved list survives a new instance (localStorage), the filter, the
// close-code rule per mode, and Disconnect sending the code and reason (browser mode, fake WebSocket).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WsClient } from './ws-client.svelte';

const api = { on: () => () => {}, call: async () => ({}) } as never;

class FakeSocket {
  static last: FakeSocket | undefined;
  static OPEN = 1;
  readyState = 0;
  protocol = '';
  extensions = '';
  binaryType = 'blob';
  sent: unknown[] = [];
  closed: [number | undefined, string | undefined] | undefined;
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number; reason: string; wasClean: boolean }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.last = this;
  }
  send(d: unknown) {
    this.sent.push(d);
  }
  close(code?: number, reason?: string) {
    this.closed = [code, reason];
  }
}

beforeEach(() => {
  const store = new Map<string, string>();
  vi.stubGlobal('localStorage', {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => void store.set(k, v),
  });
  vi.stubGlobal('WebSocket', FakeSocket);
});
afterEach(() => vi.unstubAllGlobals());

describe('WsClient', () => {
  it('keeps saved messages across instances and loads one into the composer in its mode', () => {
    const a = new WsClient(api);
    a.mode = 'hex';
    a.draft = 'de ad';
    a.saveDraft();
    a.saveDraft(); // the same message twice is kept once
    const b = new WsClient(api);
    expect(b.saved.map((s) => [s.mode, s.text])).toEqual([['hex', 'de ad']]);
    b.useSaved(b.saved[0]!);
    expect([b.mode, b.draft]).toEqual(['hex', 'de ad']);
    b.removeSaved(b.saved[0]!.id);
    expect(new WsClient(api).saved).toEqual([]);
  });

  it('refuses to save a draft that does not parse in its mode', () => {
    const c = new WsClient(api);
    c.mode = 'json';
    c.draft = '{oops';
    c.saveDraft();
    expect(c.saved).toEqual([]);
  });

  it('sends, logs with the typed form, filters, and Disconnect sends the code and reason', () => {
    const c = new WsClient(api);
    c.url = 'ws://localhost:1/';
    c.connect();
    const ws = FakeSocket.last!;
    ws.readyState = 1;
    ws.onopen?.();
    c.mode = 'hex';
    c.draft = 'de ad be ef';
    c.send();
    expect(ws.sent).toHaveLength(1);
    const sent = c.messages.find((m) => m.dir === 'sent')!;
    expect([sent.kind, sent.sentAs]).toEqual(['binary', 'hex']);
    c.resend(sent);
    expect(ws.sent).toHaveLength(2);
    c.filter = { text: 'zzz', dir: '' };
    expect(c.shownMessages).toEqual([]);
    c.filter = { text: '', dir: 'sent' };
    expect(c.shownMessages).toHaveLength(2);

    // Browsers may only send 1000 or 3000-4999.
    c.closeCode = 1001;
    expect(c.closeCodeProblem).toMatch(/browsers only send 1000 or 3000/);
    c.close();
    expect(ws.closed).toBeUndefined();
    c.closeCode = 1000;
    c.closeReason = 'bye';
    c.close();
    expect(ws.closed).toEqual([1000, 'bye']);
  });
});

describe('WsClient through the engine', () => {
  it('Disconnect while the engine is still connecting abandons it and closes what it opened', async () => {
    let resolve: (r: unknown) => void = () => {};
    const calls: { name: string; input: unknown }[] = [];
    const engine = {
      on: () => () => {},
      call: (name: string, input: unknown) => {
        calls.push({ name, input });
        if (name === 'client.connect') return new Promise((r) => (resolve = r));
        return Promise.resolve({ ok: true });
      },
    } as never;
    const c = new WsClient(engine);
    c.via = 'engine';
    c.url = 'wss://localhost:1/';
    c.connect();
    expect(c.state).toBe('connecting');
    c.close();
    expect(c.state).toBe('closed');
    resolve({ clientId: 'c1', protocol: '', extensions: '' });
    await vi.waitFor(() =>
      expect(calls.at(-1)).toEqual({ name: 'client.close', input: { clientId: 'c1' } }),
    );
    expect(c.state).toBe('closed');
  });
});
