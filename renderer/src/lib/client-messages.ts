// Pure helpers for the Client screen's conversation: how a message is shown (pretty JSON, hex when it was
// sent as hex), the filter, and the saved list of messages to send (kept in localStorage). No runes:
// unit-tested in client-messages.test.ts.
import { message } from '../../../shared/errors';
import { base64ToBytes, prettyJson } from './format';

export type SendMode = 'text' | 'json' | 'hex' | 'base64';

export interface ClientMessage {
  id: number;
  time: number;
  dir: 'sent' | 'received' | 'system';
  kind: 'text' | 'binary' | 'event';
  /** Text as sent/received; binary payloads as base64. */
  text: string;
  size: number;
  /** How the user typed it (sent messages): binary typed as hex is shown as hex. */
  sentAs?: SendMode;
}

export interface Shown {
  /** 'json': `body` is pretty-printed and `summary` is its first line, for a collapsible view. */
  format: 'text' | 'json' | 'hex' | 'base64' | 'event';
  body: string;
  summary: string;
  /** Lines in `body`: a long JSON body starts collapsed. */
  lines: number;
}

/** Space-separated hex pairs: "de ad be ef". */
export function toHexPairs(bytes: Uint8Array, max = 4096): string {
  const out: string[] = [];
  for (let i = 0; i < Math.min(bytes.length, max); i++)
    out.push((bytes[i] as number).toString(16).padStart(2, '0'));
  return out.join(' ') + (bytes.length > max ? ` … (+${bytes.length - max} bytes)` : '');
}

export function shown(m: ClientMessage): Shown {
  if (m.kind === 'event') return { format: 'event', body: m.text, summary: m.text, lines: 1 };
  if (m.kind === 'binary') {
    // Binary is hex unless the user typed it as base64 (then it reads back the way it was written).
    if (m.sentAs === 'base64') return { format: 'base64', body: m.text, summary: m.text, lines: 1 };
    const hex = toHexPairs(base64ToBytes(m.text));
    return { format: 'hex', body: hex, summary: hex, lines: 1 };
  }
  const t = m.text.trimStart();
  if (t.startsWith('{') || t.startsWith('[')) {
    const pretty = prettyJson(m.text);
    if (pretty !== null) {
      const lines = pretty.split('\n');
      return { format: 'json', body: pretty, summary: m.text.trim(), lines: lines.length };
    }
  }
  return { format: 'text', body: m.text, summary: m.text, lines: m.text.split('\n').length };
}

export interface MessageFilter {
  text: string;
  dir: '' | 'sent' | 'received';
}

export function matchesMessage(m: ClientMessage, f: MessageFilter): boolean {
  if (f.dir && m.dir !== f.dir) return false;
  if (!f.text) return true;
  const needle = f.text.toLowerCase();
  return m.text.toLowerCase().includes(needle) || shown(m).body.toLowerCase().includes(needle);
}

// ----- saved messages ---------------------------------------------------------------------------------

export interface SavedMessage {
  id: string;
  name: string;
  mode: SendMode;
  text: string;
}

export const SAVED_KEY = 'wss-studio.client.saved';
export const SAVED_MAX = 200;
const MODES: readonly string[] = ['text', 'json', 'hex', 'base64'];

/** Reads the saved list; anything malformed in storage is skipped, never thrown. */
export function loadSaved(storage: Pick<Storage, 'getItem'> | undefined): SavedMessage[] {
  let raw: unknown;
  try {
    raw = JSON.parse(storage?.getItem(SAVED_KEY) ?? '[]');
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  const out: SavedMessage[] = [];
  for (const x of raw as unknown[]) {
    if (!x || typeof x !== 'object') continue;
    const o = x as Record<string, unknown>;
    if (
      typeof o.id === 'string' &&
      typeof o.name === 'string' &&
      typeof o.text === 'string' &&
      typeof o.mode === 'string' &&
      MODES.includes(o.mode)
    )
      out.push({ id: o.id, name: o.name, mode: o.mode as SendMode, text: o.text });
  }
  return out.slice(0, SAVED_MAX);
}

/** Writes the list; a full or blocked storage is reported as an error sentence, not thrown. */
export function storeSaved(
  storage: Pick<Storage, 'setItem'> | undefined,
  list: readonly SavedMessage[],
): string {
  try {
    storage?.setItem(SAVED_KEY, JSON.stringify(list.slice(0, SAVED_MAX)));
    return '';
  } catch (e) {
    return message({ action: 'save the message list', cause: (e as Error).message });
  }
}

/** A short name for a saved message: its first line, at most 40 characters. */
export function savedName(text: string): string {
  const first = text.trim().split('\n')[0] ?? '';
  return first.length > 40 ? `${first.slice(0, 39)}…` : first || '(empty)';
}
