// The built-in WebSocket client. It runs in the page with the browser's own WebSocket, so a wss:// URL
// that opens here is trusted by this browser: the end-to-end proof that "Make localhost trusted" worked.
// (Browsers' WebSocket API cannot send ping frames; see renderer/CONTRACT-REQUESTS.md.)
import { bytesToBase64, parseBase64, parseHex } from './format';

export type SendMode = 'text' | 'json' | 'hex' | 'base64';
export type ClientState = 'idle' | 'connecting' | 'open' | 'closing' | 'closed';

export interface ClientMessage {
  id: number;
  time: number;
  dir: 'sent' | 'received' | 'system';
  kind: 'text' | 'binary' | 'event';
  text: string;
  size: number;
}

const MAX_MESSAGES = 500;

export class WsClient {
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
  #n = 0;

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
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url, protocols);
    } catch (e) {
      // e.g. SecurityError: ws:// to a non-loopback host from an https:// page (mixed content).
      this.error = `failed to open "${this.url}": ${(e as Error).message}`;
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

  send(): void {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || this.draftProblem) return;
    if (this.mode === 'text' || this.mode === 'json') {
      const text =
        this.mode === 'json' && this.draft.trim()
          ? JSON.stringify(JSON.parse(this.draft))
          : this.draft;
      ws.send(text);
      this.#log({ dir: 'sent', kind: 'text', text, size: new TextEncoder().encode(text).length });
    } else {
      const r = this.mode === 'hex' ? parseHex(this.draft) : parseBase64(this.draft);
      if (!r.bytes) return;
      ws.send(r.bytes);
      this.#log({
        dir: 'sent',
        kind: 'binary',
        text: bytesToBase64(r.bytes),
        size: r.bytes.length,
      });
    }
  }

  close(): void {
    const ws = this.#ws;
    if (!ws) return;
    this.state = 'closing';
    const code = Number(this.closeCode);
    try {
      ws.close(code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000, this.closeReason);
    } catch (e) {
      this.error = (e as Error).message;
      this.state = 'open';
    }
  }

  disconnectSilently(): void {
    if (this.#ws) {
      const ws = this.#ws;
      this.#ws = null;
      ws.close();
    }
  }

  clear(): void {
    this.messages = [];
  }
}
