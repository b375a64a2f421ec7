// Pure formatting helpers shared by the screens. Never throw: the UI shows whatever it is given.
import { isWssErrorData, message } from '../../../shared/errors';
import { daysLeft } from '../../../shared/validity';

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '?';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** "in 24 days", "expired 3 days ago": the expiry countdown used by the certificate list. */
export function countdown(iso: string, now = Date.now()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'unknown';
  // shared/validity.ts: the same count the CLI prints ("825 days left" / "in 825 days").
  const { expired, days } = daysLeft(t, now);
  if (!expired) return days === 1 ? 'in 1 day' : `in ${days} days`;
  if (days === 0) return 'expired today';
  return `expired ${days} day${days === 1 ? '' : 's'} ago`;
}

export type ExpiryTone = 'ok' | 'warn' | 'bad';
/** Red when expired, amber in the last 30 days. */
export function expiryTone(iso: string, now = Date.now()): ExpiryTone {
  const t = Date.parse(iso);
  if (Number.isNaN(t) || t <= now) return 'bad';
  return t - now < 30 * 86_400_000 ? 'warn' : 'ok';
}

export function formatDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().slice(0, 10);
}

/** hh:mm:ss.mmm (local time) plus sub-millisecond digits when the time has them. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const frac = ms - Math.floor(ms);
  const sub = frac > 0 ? String(Math.round(frac * 1000)).padStart(3, '0') : '';
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}${sub}`;
}

export function hexDump(bytes: Uint8Array, max = 64 * 1024): string {
  const lines: string[] = [];
  const n = Math.min(bytes.length, max);
  for (let off = 0; off < n; off += 16) {
    const chunk = bytes.subarray(off, Math.min(off + 16, n));
    const hex = Array.from(chunk, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(chunk, (b) =>
      b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.',
    ).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  if (bytes.length > n) lines.push(`... ${bytes.length - n} more bytes`);
  return lines.join('\n');
}

/** Pretty JSON, or null when the text is not JSON. */
export function prettyJson(text: string): string | null {
  const t = text.trim();
  if (!t || (t[0] !== '{' && t[0] !== '[')) return null;
  try {
    return JSON.stringify(JSON.parse(t), null, 2);
  } catch {
    return null;
  }
}

export function base64ToBytes(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** Parses "de ad be ef" / "deadbeef" / "0xde,0xad"; returns an error message instead of throwing. */
export function parseHex(text: string): { bytes?: Uint8Array<ArrayBuffer>; error?: string } {
  const clean = text.replace(/0x/gi, '').replace(/[\s,:]/g, '');
  if (clean.length % 2 !== 0) return { error: `odd number of hex digits (${clean.length})` };
  if (!/^[0-9a-f]*$/i.test(clean)) {
    const bad = clean.match(/[^0-9a-f]/i)?.[0] ?? '?';
    return { error: `"${bad}" is not a hex digit` };
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return { bytes: out };
}

export function parseBase64(text: string): { bytes?: Uint8Array<ArrayBuffer>; error?: string } {
  const clean = text.replace(/\s/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1)
    return { error: 'not valid base64' };
  try {
    return { bytes: base64ToBytes(clean) };
  } catch {
    return { error: 'not valid base64' };
  }
}

/** A message from anything thrown across the API: WssError JSON, Error, or a string. */
export function errorText(e: unknown): {
  message: string;
  hint?: string;
  code?: string;
  field?: string;
} {
  if (e && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    const text =
      typeof o.message === 'string' ? o.message : isWssErrorData(o) ? message(o) : String(e);
    const out: { message: string; hint?: string; code?: string; field?: string } = {
      message: text,
    };
    if (typeof o.hint === 'string') out.hint = o.hint;
    if (typeof o.code === 'string') out.code = o.code;
    if (typeof o.field === 'string') out.field = o.field;
    return out;
  }
  return { message: String(e) };
}
