// The renderer's typed client, derived from the contract in shared/api.ts. Transport-agnostic: the same
// client runs over Electron IPC (the preload's bridge) or over web mode's WebSocket RPC.
//
//   const api = createClient(ipcTransport(bridge));   // or webSocketTransport(rpcUrl(location, token))
//   const ca = await api.call('ca.get');                      // typed result: CaDto | null
//   const off = api.on('log.batch', (b) => rows.push(...b.events));
//   try { await api.call('cert.issue', { names: ['localhost'] }) }
//   catch (e) { if (e instanceof WssError && e.field) showInline(e.field, e.message) }
// Every rejection is a WssError (shared/errors.ts), the same class the engine throws.
import type { Input, RequestName, Result, StreamName, Streams } from './api';
import { requestNames } from './api';
import { failure, isWssErrorData, q, WssError, type WssErrorData } from './errors';

export interface Transport {
  call(name: string, input: unknown): Promise<unknown>;
  subscribe(stream: string, cb: (data: unknown) => void): () => void;
}

/** Requests whose input is entirely optional can be called without one. */
type Args<K extends RequestName> = object extends Input<K> ? [input?: Input<K>] : [input: Input<K>];

export interface Client {
  call<K extends RequestName>(name: K, ...args: Args<K>): Promise<Result<K>>;
  on<S extends StreamName>(stream: S, cb: (data: Streams[S]) => void): () => void;
  /** Fresh id for a long task's `taskId` (match it against `task.progress` updates). */
  newTaskId(): string;
}

export function createClient(transport: Transport): Client {
  let n = 0;
  return {
    async call(name, ...args) {
      try {
        return (await transport.call(name, args[0] ?? {})) as never;
      } catch (e) {
        if (e instanceof WssError) throw e;
        if (isWssErrorData(e)) throw new WssError(e);
        const msg = e instanceof Error ? e.message : String(e);
        throw failure('TRANSPORT', `call ${q(name)}`, msg);
      }
    },
    on(stream, cb) {
      return transport.subscribe(stream, cb as (d: unknown) => void);
    },
    newTaskId() {
      n++;
      return `t${Date.now().toString(36)}${n.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Electron: the preload exposes `window.wssStudio` (see main/app/preload.ts): one function per request, a
// `subscribe(stream, cb)` that never hands out the IPC event object.

export interface PreloadBridge {
  requests: Record<RequestName, (input: unknown) => Promise<unknown>>;
  subscribe(stream: string, cb: (data: unknown) => void): () => void;
}

/** Global name under which the preload exposes the bridge. */
export const BRIDGE_GLOBAL = 'wssStudio';

export function ipcTransport(bridge: PreloadBridge): Transport {
  return {
    async call(name, input) {
      const fn = bridge.requests[name as RequestName];
      if (typeof fn !== 'function') {
        throw failure(
          'UNKNOWN_REQUEST',
          `call ${q(name)}`,
          'the desktop app does not expose this request',
        );
      }
      // Errors thrown in ipcMain handlers lose their fields, so the binding resolves { ok, result|error }.
      const r = (await fn(input)) as { ok: boolean; result?: unknown; error?: WssErrorData };
      if (r && r.ok) return r.result;
      if (r?.error) throw new WssError(r.error);
      throw failure('TRANSPORT', `call ${q(name)}`, 'no reply');
    },
    subscribe: (stream, cb) => bridge.subscribe(stream, cb),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Web mode: JSON messages over one WebSocket at /rpc?token=...
//   client -> server  {t:'call', id, name, input} | {t:'sub', stream} | {t:'unsub', stream}
//   server -> client  {t:'result', id, ok:true, result} | {t:'result', id, ok:false, error}
//                     {t:'event', stream, data}

export type RpcClientMessage =
  | { t: 'call'; id: number; name: string; input: unknown }
  | { t: 'sub'; stream: string }
  | { t: 'unsub'; stream: string };
export type RpcServerMessage =
  | { t: 'result'; id: number; ok: true; result: unknown }
  | { t: 'result'; id: number; ok: false; error: WssErrorData }
  | { t: 'event'; stream: string; data: unknown };

/** Minimal WebSocket surface, satisfied by the browser's WebSocket and by the `ws` package's. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'close' | 'error', cb: () => void): void;
  addEventListener(type: 'message', cb: (ev: { data: unknown }) => void): void;
}

export interface WebTransport extends Transport {
  /** Resolves once connected; rejects if the server refused the handshake (wrong token ...). */
  ready: Promise<void>;
  close(): void;
}

/**
 * Web-mode transport. `url` is the ws:// URL of /rpc with the token, e.g. from `rpcUrl()`.
 * `makeSocket` lets Node tests use the `ws` package; the browser default is the global WebSocket.
 */
export function webSocketTransport(
  url: string,
  makeSocket: (url: string) => WebSocketLike = (u) =>
    new (globalThis as unknown as { WebSocket: new (u: string) => WebSocketLike }).WebSocket(u),
): WebTransport {
  const ws = makeSocket(url);
  let nextId = 1;
  const pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: unknown) => void }
  >();
  const subs = new Map<string, Set<(d: unknown) => void>>();
  let closed = false;
  let opened = false;
  const ready = new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => {
      opened = true;
      resolve();
    });
    ws.addEventListener('error', () => {
      if (!opened)
        reject(new Error(`could not connect to ${url.replace(/token=[^&]*/, 'token=…')}`));
    });
  });
  ready.catch(() => {});
  const send = (m: RpcClientMessage) => {
    void ready.then(() => ws.send(JSON.stringify(m)));
  };
  ws.addEventListener('message', (ev) => {
    let m: RpcServerMessage;
    try {
      m = JSON.parse(String(ev.data)) as RpcServerMessage;
    } catch {
      return;
    }
    if (m.t === 'result') {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new WssError(m.error));
    } else if (m.t === 'event') {
      for (const cb of subs.get(m.stream) ?? []) cb(m.data);
    }
  });
  ws.addEventListener('close', () => {
    closed = true;
    for (const p of pending.values()) {
      p.reject(
        failure(
          'DISCONNECTED',
          'reach the engine',
          'the connection to wss-studio closed',
          'restart "wss-studio ui" and reload the page with the URL it prints',
        ),
      );
    }
    pending.clear();
  });
  return {
    ready,
    call(name, input) {
      if (closed) {
        return Promise.reject(
          failure(
            'DISCONNECTED',
            `call ${q(name)}`,
            'the connection to wss-studio is closed',
            'restart "wss-studio ui" and reload the page with the URL it prints',
          ),
        );
      }
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        send({ t: 'call', id, name, input });
      });
    },
    subscribe(stream, cb) {
      let set = subs.get(stream);
      if (!set) {
        set = new Set();
        subs.set(stream, set);
        send({ t: 'sub', stream });
      }
      set.add(cb);
      return () => {
        const s = subs.get(stream);
        if (!s) return;
        s.delete(cb);
        if (s.size === 0) {
          subs.delete(stream);
          if (!closed) send({ t: 'unsub', stream });
        }
      };
    },
    close() {
      ws.close(1000, 'bye');
    },
  };
}

/** Where a web-mode tab keeps its token once it has left the address bar (per tab, gone with it). */
export const TOKEN_KEY = 'wss-studio.token';

export interface PageLike {
  location: { href: string };
  history: { state: unknown; replaceState(data: unknown, unused: string, url: string): void };
  sessionStorage: { getItem(k: string): string | null; setItem(k: string, v: string): void };
}

/**
 * Web mode's token for this tab: from the URL's `?token=` the first time (then moved into sessionStorage and
 * taken out of the address bar and history, so it is not left on screen, in history or in bookmarks),
 * afterwards from sessionStorage (a reload of the bare URL). Null in a tab that never had it.
 */
export function takeToken(page: PageLike): string | null {
  const url = new URL(page.location.href);
  const given = url.searchParams.get('token');
  if (given) {
    try {
      page.sessionStorage.setItem(TOKEN_KEY, given);
    } catch {
      // Storage disabled: this tab works until it is reloaded.
    }
    url.searchParams.delete('token');
    page.history.replaceState(page.history.state, '', url.pathname + url.search + url.hash);
    return given;
  }
  try {
    return page.sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** ws://host/rpc?token=... for the page's own origin (the browser adds the Origin header the server checks). */
export function rpcUrl(loc: { protocol: string; host: string }, token: string): string {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/rpc?token=${encodeURIComponent(token)}`;
}

/** The preload's bridge in the desktop app; null when there is none (web mode). */
export function ipcBridge(): PreloadBridge | null {
  const bridge = (globalThis as Record<string, unknown>)[BRIDGE_GLOBAL] as
    PreloadBridge | undefined;
  return bridge && typeof bridge.subscribe === 'function' ? bridge : null;
}

/** Every request name (for tooling and tests). */
export { requestNames };
