// Over 400 lines: one state class with two transports (browser, engine) behind the same fields; the screen depends on them being one.
// The built-in WebSocket client, two ways:
//  - 'browser' (default): the page's own WebSocket, so a wss:// URL that opens here is trusted by this
//    browser: the end-to-end proof that "Make localhost trusted" worked.
//  - 'engine': a WebSocket opened by the engine (client.* requests, client.events stream), which can send
//    pings and any close code; browsers' WebSocket API cannot.
import type { ClientEvent } from '../../../shared/api';
import { message, q } from '../../../shared/errors';
import type { Api } from './api';
import { base64ToBytes, bytesToBase64, errorText, parseBase64, parseHex } from './format';
import {
  loadSaved,
  matchesMessage,
  savedName,
  storeSaved,
  type ClientMessage,
  type MessageFilter,
  type SavedMessage,
  type SendMode,
} from './client-messages';
export type { ClientMessage, SendMode } from './client-messages';

export type Via = 'browser' | 'engine';
export type ClientState = 'idle' | 'connecting' | 'open' | 'closing' | 'closed';

function storage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}

const MAX_MESSAGES = 500;

export class WsClient {
  via = $state<Via>('browser');
  /** Engine only: a stored certificate (client auth) to present to servers that require one (mTLS). */
  clientCertId = $state('');
  url = $state('');
  protocols = $state('');
  state = $state<ClientState>('idle');
  protocol = $state('');
  extensions = $state('');
  messages = $state<ClientMessage[]>([]);
  mode = $state<SendMode>('text');
  draft = $state('');
  closeCode = $state(1000);
  closeReason = $state('');
  error = $state('');
  filter = $state<MessageFilter>({ text: '', dir: '' });
  /** Messages to send again later, kept in this browser's localStorage. */
  saved = $state<SavedMessage[]>(loadSaved(storage()));
  savedError = $state('');

  readonly shownMessages = $derived(
    this.filter.text || this.filter.dir
      ? this.messages.filter((m) => matchesMessage(m, this.filter))
      : this.messages,
  );

  readonly draftProblem = $derived.by(() => {
    if (this.mode === 'json') {
      if (!this.draft.trim()) return '';
      try {
        JSON.parse(this.draft);
        return '';
      } catch (e) {
        return `not valid JSON: ${(e as Error).message}`;
      }
    }
    if (this.mode === 'hex') return parseHex(this.draft).error ?? '';
    if (this.mode === 'base64') return parseBase64(this.draft).error ?? '';
    return '';
  });
  /** Browsers may only send 1000 or 3000-4999; the engine also sends the other registered codes. */
  readonly closeCodeProblem = $derived.by(() => {
    const c = Number(this.closeCode);
    if (!Number.isInteger(c)) return 'a whole number';
    if (c === 1000 || (c >= 3000 && c <= 4999)) return '';
    if (this.via === 'engine' && c >= 1001 && c <= 2999) return '';
    return this.via === 'engine'
      ? 'close codes run from 1000 to 4999'
      : 'browsers only send 1000 or 3000–4999 (connect through the engine for others)';
  });
  readonly urlProblem = $derived.by(() => {
    if (!this.url) return '';
    try {
      // Parsed once to validate, never mutated: no SvelteURL needed.
      // eslint-disable-next-line svelte/prefer-svelte-reactivity
      const u = new URL(this.url);
      if (u.protocol === 'http:' || u.protocol === 'https:')
        return `use ${u.protocol === 'https:' ? 'wss' : 'ws'}:// for a WebSocket, not ${u.protocol}//`;
      if (u.protocol !== 'ws:' && u.protocol !== 'wss:')
        return 'the URL must start with ws:// or wss://';
      return '';
    } catch {
      return 'not a valid URL';
    }
  });

  #ws: WebSocket | null = null;
  #engineId: string | null = null;
  #engineUnsub: (() => void) | null = null;
  #n = 0;

  constructor(readonly api: Api) {}

  #log(m: Omit<ClientMessage, 'id' | 'time'>): void {
    const next = [...this.messages, { ...m, id: ++this.#n, time: Date.now() }];
    this.messages = next.length > MAX_MESSAGES ? next.slice(-MAX_MESSAGES) : next;
  }

  connect(): void {
    this.error = '';
    if (this.urlProblem || !this.url) {
      this.error = this.urlProblem || 'enter a ws:// or wss:// URL';
      return;
    }
    this.disconnectSilently();
    const protocols = this.protocols
      .split(/[\s,]+/)
      .map((s) => s.trim())
      .filter(Boolean);
    if (this.via === 'engine') {
      void this.#connectEngine(protocols);
      return;
    }
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url, protocols);
    } catch (e) {
      // e.g. SecurityError: ws:// to a non-loopback host from an https:// page (mixed content).
      this.error = message({ action: `open ${q(this.url)}`, cause: (e as Error).message });
      this.state = 'closed';
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.#ws = ws;
    this.state = 'connecting';
    let opened = false;
    ws.onopen = () => {
      if (this.#ws !== ws) return;
      opened = true;
      this.state = 'open';
      this.protocol = ws.protocol;
      this.extensions = ws.extensions;
      this.#log({
        dir: 'system',
        kind: 'event',
        text: `connected${ws.protocol ? ` · protocol ${ws.protocol}` : ''}${ws.extensions ? ` · ${ws.extensions}` : ''}`,
        size: 0,
      });
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (this.#ws !== ws) return;
      if (typeof ev.data === 'string') {
        this.#log({
          dir: 'received',
          kind: 'text',
          text: ev.data,
          size: new TextEncoder().encode(ev.data).length,
        });
      } else {
        const bytes = new Uint8Array(ev.data as ArrayBuffer);
        this.#log({
          dir: 'received',
          kind: 'binary',
          text: bytesToBase64(bytes),
          size: bytes.length,
        });
      }
    };
    ws.onerror = () => {
      if (this.#ws !== ws) return;
      if (!opened)
        this.error = `could not connect to "${this.url}". Browsers hide the reason (untrusted certificate, wrong scheme for the port, refused): run the Doctor on this URL.`;
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.#ws !== ws) return;
      this.state = 'closed';
      this.#ws = null;
      this.#log({
        dir: 'system',
        kind: 'event',
        text: `closed · code ${ev.code}${ev.reason ? ` "${ev.reason}"` : ''}${ev.wasClean ? '' : ' (not clean)'}`,
        size: 0,
      });
    };
  }

  /** Bumped by disconnectSilently(): an engine connect still in flight is then abandoned. */
  #attempt = 0;

  async #connectEngine(protocols: string[]): Promise<void> {
    this.state = 'connecting';
    const attempt = ++this.#attempt;
    // Subscribe before connecting; events for our id may arrive before the call returns it.
    const early: ClientEvent[] = [];
    let id: string | null = null;
    const unsub = this.api.on('client.events', (p) => {
      for (const e of p.events) {
        if (id === null) early.push(e);
        else if (e.clientId === id) this.#onEngineEvent(e);
      }
    });
    this.#engineUnsub = unsub;
    try {
      const r = await this.api.call('client.connect', {
        url: this.url,
        ...(protocols.length ? { protocols } : {}),
        ...(this.clientCertId ? { clientCertId: this.clientCertId } : {}),
      });
      if (attempt !== this.#attempt) {
        // Disconnected while connecting: close what the engine just opened.
        unsub();
        this.api.call('client.close', { clientId: r.clientId }).catch(() => {});
        return;
      }
      id = r.clientId;
      this.#engineId = id;
      this.state = 'open';
      this.protocol = r.protocol;
      this.extensions = r.extensions;
      this.#log({
        dir: 'system',
        kind: 'event',
        text: `connected through the engine${r.protocol ? ` · protocol ${r.protocol}` : ''}${r.extensions ? ` · ${r.extensions}` : ''}`,
        size: 0,
      });
      for (const e of early) if (e.clientId === id) this.#onEngineEvent(e);
    } catch (e) {
      unsub();
      if (attempt !== this.#attempt) return; // abandoned: its failure is no news
      this.#engineUnsub = null;
      const err = errorText(e);
      this.error = err.hint ? `${err.message} (${err.hint})` : err.message;
      this.state = 'closed';
    }
  }

  #onEngineEvent(e: ClientEvent): void {
    if (e.type === 'message') {
      const binary = e.opcode === 'binary';
      this.#log({
        dir: 'received',
        kind: binary ? 'binary' : 'text',
        text: (binary ? e.dataBase64 : e.text) ?? '',
        size: e.length ?? 0,
      });
    } else if (e.type === 'pong') {
      this.#log({
        dir: 'received',
        kind: 'event',
        text: `pong (${e.length ?? 0} bytes)`,
        size: e.length ?? 0,
      });
    } else if (e.type === 'close') {
      this.#log({
        dir: 'system',
        kind: 'event',
        text: `closed · code ${e.code ?? ''}${e.reason ? ` "${e.reason}"` : ''}`,
        size: 0,
      });
      this.#engineDone();
    } else if (e.type === 'error') {
      this.error = e.message ?? 'the connection failed';
    }
  }

  #engineDone(): void {
    this.#engineUnsub?.();
    this.#engineUnsub = null;
    this.#engineId = null;
    this.state = 'closed';
  }

  async #engineCall(fn: (clientId: string) => Promise<unknown>): Promise<boolean> {
    const id = this.#engineId;
    if (!id) return false;
    try {
      await fn(id);
      return true;
    } catch (e) {
      this.error = errorText(e).message;
      return false;
    }
  }

  /** Engine only: a ping frame; the pong shows up as a received event. */
  async ping(): Promise<void> {
    if (this.via !== 'engine' || this.state !== 'open') return;
    if (await this.#engineCall((clientId) => this.api.call('client.ping', { clientId })))
      this.#log({ dir: 'sent', kind: 'event', text: 'ping', size: 0 });
  }

  /** Sends the composer's draft in the chosen mode. */
  send(): void {
    if (this.draftProblem) return;
    this.#sendAs(this.mode, this.draft);
  }

  /** Sends a logged message again, byte for byte. */
  resend(m: ClientMessage): void {
    if (m.kind === 'text') this.#sendPayload({ text: m.text }, m.sentAs ?? 'text');
    else if (m.kind === 'binary') this.#sendPayload({ bytes: base64ToBytes(m.text) }, m.sentAs);
  }

  #sendAs(mode: SendMode, draft: string): void {
    if (mode === 'text' || mode === 'json') {
      const text = mode === 'json' && draft.trim() ? JSON.stringify(JSON.parse(draft)) : draft;
      this.#sendPayload({ text }, mode);
    } else {
      const r = mode === 'hex' ? parseHex(draft) : parseBase64(draft);
      if (r.bytes) this.#sendPayload({ bytes: r.bytes }, mode);
    }
  }

  #sendPayload(p: { text: string } | { bytes: Uint8Array<ArrayBuffer> }, sentAs?: SendMode): void {
    const entry: Omit<ClientMessage, 'id' | 'time'> =
      'text' in p
        ? {
            dir: 'sent',
            kind: 'text',
            text: p.text,
            size: new TextEncoder().encode(p.text).length,
          }
        : { dir: 'sent', kind: 'binary', text: bytesToBase64(p.bytes), size: p.bytes.length };
    if (sentAs) entry.sentAs = sentAs;
    if (this.via === 'engine') {
      const body = 'text' in p ? { text: p.text } : { dataBase64: entry.text };
      void this.#engineCall((clientId) => this.api.call('client.send', { clientId, ...body })).then(
        (ok) => ok && this.#log(entry),
      );
      return;
    }
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send('text' in p ? p.text : p.bytes);
    this.#log(entry);
  }

  // ----- saved messages ---------------------------------------------------------------------------

  saveDraft(): void {
    if (!this.draft.trim() || this.draftProblem) return;
    const item: SavedMessage = {
      id: `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
      name: savedName(this.draft),
      mode: this.mode,
      text: this.draft,
    };
    this.#storeSaved([
      item,
      ...this.saved.filter((x) => x.text !== item.text || x.mode !== item.mode),
    ]);
  }

  useSaved(item: SavedMessage): void {
    this.mode = item.mode;
    this.draft = item.text;
  }

  removeSaved(id: string): void {
    this.#storeSaved(this.saved.filter((x) => x.id !== id));
  }

  #storeSaved(list: SavedMessage[]): void {
    this.saved = list;
    this.savedError = storeSaved(storage(), list);
  }

  /**
   * The one Disconnect: sends the close code and reason (browser or engine). While still connecting there
   * is nothing to close cleanly, so the attempt is abandoned.
   */
  close(): void {
    if (this.state === 'connecting') {
      this.disconnectSilently();
      return;
    }
    if (this.closeCodeProblem) return;
    const code = Number(this.closeCode);
    if (this.via === 'engine' && this.#engineId) {
      this.state = 'closing';
      void this.#engineCall((clientId) =>
        this.api.call('client.close', { clientId, code, reason: this.closeReason }),
      );
      return;
    }
    const ws = this.#ws;
    if (!ws) return;
    this.state = 'closing';
    try {
      ws.close(code, this.closeReason);
    } catch (e) {
      this.error = (e as Error).message;
      this.state = 'open';
    }
  }

  disconnectSilently(): void {
    this.#attempt++;
    if (this.state === 'connecting' && !this.#ws && !this.#engineId) {
      this.#engineUnsub?.();
      this.#engineUnsub = null;
      this.state = 'closed';
      this.#log({ dir: 'system', kind: 'event', text: 'disconnected', size: 0 });
    }
    if (this.#engineId) {
      const clientId = this.#engineId;
      this.#engineDone();
      this.api.call('client.close', { clientId }).catch(() => {});
    }
    if (this.#ws) {
      const ws = this.#ws;
      this.#ws = null;
      ws.close();
      this.state = 'closed';
      this.#log({ dir: 'system', kind: 'event', text: 'disconnected', size: 0 });
    }
  }

  clear(): void {
    this.messages = [];
  }
}
