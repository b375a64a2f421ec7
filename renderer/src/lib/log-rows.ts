// Pure helpers for the frame log: one engine event -> one display row, and the filter predicate.
// No runes here, so they are unit-tested directly (log-rows.test.ts).
import type { LogEventDto } from '../../../shared/api';

export type RowType = LogEventDto['type'];
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

/** The one-line summary of an event: origin and protocol, close code, error, request, fault. */
function summaryOf(e: LogEventDto): string {
  switch (e.type) {
    case 'frame':
      if (e.opcode === 'close' && e.closeCode !== undefined)
        return `code ${e.closeCode}${e.closeReason ? ` "${e.closeReason}"` : ''}`;
      // Sent by the server on its own (rule, script, push, injected, replay): searchable by that word.
      return e.source ? `${e.source}${e.note ? `: ${e.note}` : ''}` : '';
    case 'open': {
      const bits = [e.remoteAddress];
      if (e.origin) bits.push(`Origin ${e.origin}`);
      if (e.protocol) bits.push(`protocol ${e.protocol}`);
      if (e.tls?.version) bits.push(e.tls.version);
      // mTLS: who the verified client certificate says the client is (its CN, else the whole subject).
      const subject = e.clientCert?.subject;
      if (subject) bits.push(`client cert ${/(?:^|, )CN=([^,]+)$/.exec(subject)?.[1] ?? subject}`);
      const summary = bits.filter(Boolean).join(' · ');
      return e.target ? `${summary} → ${e.target.url}` : summary;
    }
    case 'close':
      return `code ${e.code}${e.reason ? ` "${e.reason}"` : ''} by ${e.by}${e.clean ? '' : ' (not clean)'}`;
    case 'error':
      return `${e.code}: ${e.message}`;
    case 'http':
      // Proxied request (main/proxy): the page load and the upgrade beside the frames.
      return `${e.method} ${e.path} → ${e.status} in ${e.durationMs} ms${e.error ? ` (${e.error})` : ''}`;
    case 'fault':
      return `${e.fault}: ${e.message}`;
  }
}

/** One engine event -> one display row. */
export function toRow(e: LogEventDto): LogRow {
  const frame = e.type === 'frame' ? e : undefined;
  const dir = e.type === 'frame' || e.type === 'fault' ? e.dir : undefined;
  const preview = frame?.preview ?? '';
  const previewEncoding = frame?.previewEncoding ?? 'utf8';
  const summary = summaryOf(e);
  const shownText = previewEncoding === 'utf8' ? preview : '';
  return Object.freeze({
    seq: e.seq,
    time: e.time,
    serverId: e.serverId,
    conn: e.conn === undefined ? '' : String(e.conn),
    type: e.type,
    dir,
    opcode: frame ? frame.opcode : e.type,
    length: frame?.length,
    preview,
    previewEncoding,
    truncated: frame?.truncated ?? false,
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
