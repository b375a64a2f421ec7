// Pure helpers for the frame log: one engine event -> one display row, and the filter predicate.
// No runes here, so they are unit-tested directly (e2e/ui-units.test.ts).
import type { LogEventDto } from '../../../shared/api';

export type RowType = 'open' | 'frame' | 'close' | 'error' | 'http' | 'fault';
export type Direction = 'in' | 'out';

export interface LogRow {
  readonly seq: number;
  readonly time: number;
  readonly serverId: string;
  /** Connection number as text ('' for server-level errors). */
  readonly conn: string;
  readonly type: RowType;
  readonly dir?: Direction;
  /** text / binary / ping / pong / close for frames; the event type otherwise. */
  readonly opcode: string;
  readonly length?: number;
  readonly preview: string;
  readonly previewEncoding: 'utf8' | 'base64';
  readonly truncated: boolean;
  /** One-line summary for non-frame events (origin, close code, error). */
  readonly summary: string;
  /** Lower-cased text used by the search box. */
  readonly haystack: string;
  readonly raw: LogEventDto;
}

const str = (x: unknown): string => (typeof x === 'string' ? x : x == null ? '' : String(x));

/** Normalises one engine event (type/kind, conn/connId, dir/direction ...) into a row. */
export function toRow(e: LogEventDto): LogRow {
  const o = e as unknown as Record<string, unknown>;
  const type = str(o.type ?? o.kind) as RowType;
  const conn = str(o.conn ?? o.connId);
  const dirRaw = str(o.dir ?? o.direction);
  const dir: Direction | undefined = dirRaw === 'in' || dirRaw === 'out' ? dirRaw : undefined;
  const preview = str(o.preview);
  const previewEncoding = o.previewEncoding === 'base64' ? 'base64' : 'utf8';
  let opcode: string = type;
  let summary = '';
  if (type === 'frame') {
    opcode = str(o.opcode) || 'frame';
    if (opcode === 'close' && o.closeCode !== undefined)
      summary = `code ${str(o.closeCode)}${o.closeReason ? ` "${str(o.closeReason)}"` : ''}`;
    // Sent by the server on its own (rule, script, push, injected, replay): searchable by that word.
    else if (o.source) summary = `${str(o.source)}${o.note ? `: ${str(o.note)}` : ''}`;
  } else if (type === 'open') {
    const bits = [str(o.remoteAddress)];
    if (o.origin) bits.push(`Origin ${str(o.origin)}`);
    if (o.protocol) bits.push(`protocol ${str(o.protocol)}`);
    const tls = o.tls as { version?: string } | null | undefined;
    if (tls?.version) bits.push(tls.version);
    // mTLS: who the verified client certificate says the client is (its CN, else the whole subject).
    const cc = o.clientCert as { subject?: unknown } | undefined;
    if (typeof cc?.subject === 'string')
      bits.push(`client cert ${/(?:^|, )CN=([^,]+)$/.exec(cc.subject)?.[1] ?? cc.subject}`);
    summary = bits.filter(Boolean).join(' · ');
  } else if (type === 'close') {
    summary = `code ${str(o.code)}${o.reason ? ` "${str(o.reason)}"` : ''} by ${str(o.by)}${o.clean === false ? ' (not clean)' : ''}`;
  } else if (type === 'error') {
    summary = `${str(o.code)}: ${str(o.message)}`;
  } else if (type === 'http') {
    // Proxied request (main/proxy): the page load and the upgrade beside the frames.
    summary = `${str(o.method)} ${str(o.path)} → ${str(o.status)} in ${str(o.durationMs)} ms${o.error ? ` (${str(o.error)})` : ''}`;
  } else if (type === 'fault') {
    summary = `${str(o.fault)}: ${str(o.message)}`;
  }
  if (type === 'open' && o.target && typeof o.target === 'object') {
    summary += ` → ${str((o.target as { url?: unknown }).url)}`;
  }
  const length = typeof o.length === 'number' ? o.length : undefined;
  const shownText = previewEncoding === 'utf8' ? preview : '';
  return Object.freeze({
    seq: typeof o.seq === 'number' ? o.seq : 0,
    time: typeof o.time === 'number' ? o.time : Date.now(),
    serverId: str(o.serverId),
    conn,
    type,
    dir,
    opcode,
    length,
    preview,
    previewEncoding,
    truncated: o.truncated === true,
    summary,
    haystack: `${shownText} ${summary}`.toLowerCase(),
    raw: e,
  });
}

export interface LogFilter {
  server: string;
  conn: string;
  dir: '' | Direction;
  opcode: string;
  search: string;
}

export function matches(r: LogRow, f: LogFilter): boolean {
  if (f.server && r.serverId !== f.server) return false;
  if (f.conn && r.conn !== f.conn) return false;
  if (f.dir && r.dir !== f.dir) return false;
  if (f.opcode && r.opcode !== f.opcode) return false;
  if (f.search && !r.haystack.includes(f.search.toLowerCase())) return false;
  return true;
}
