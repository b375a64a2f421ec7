// Live frame log for the UI. Built for floods: events arrive in batches (<= 1 push per ~50 ms), rows are
// plain frozen objects in a non-reactive ring (no deep proxies), and the view is recomputed once per batch.
// The page keeps at most `capacity` rows, the same capacity as the engine's ring buffer, so it shows what
// the engine holds; `dropped` is the engine's count of events its ring overwrote.
import type { LogEventDto } from '../../../shared/api';
import type { Api } from './api';
import { errorText } from './format';
import type { UiError } from './studio.svelte';

export type RowType = 'open' | 'frame' | 'close' | 'error';
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
  } else if (type === 'open') {
    const bits = [str(o.remoteAddress)];
    if (o.origin) bits.push(`Origin ${str(o.origin)}`);
    if (o.protocol) bits.push(`protocol ${str(o.protocol)}`);
    const tls = o.tls as { version?: string } | null | undefined;
    if (tls?.version) bits.push(tls.version);
    summary = bits.filter(Boolean).join(' · ');
  } else if (type === 'close') {
    summary = `code ${str(o.code)}${o.reason ? ` "${str(o.reason)}"` : ''} by ${str(o.by)}${o.clean === false ? ' (not clean)' : ''}`;
  } else if (type === 'error') {
    summary = `${str(o.code)}: ${str(o.message)}`;
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

export class FrameLogState {
  /** Rows held by the page, oldest first; never more than `capacity`. Not reactive: see `version`. */
  #rows: LogRow[] = [];
  #lastSeq = 0;
  #pending: LogEventDto[][] | null = null;
  #unsub: (() => void) | null = null;

  /** Bumped once per applied batch; the derived view depends on it. */
  version = $state(0);
  capacity = $state(10_000);
  dropped = $state(0);
  /** Events this page has received since it opened or was cleared. */
  received = $state(0);
  paused = $state(false);
  /** Events that arrived while paused (shown on the Resume button). */
  arrivedWhilePaused = $state(0);
  #frozen = $state.raw<LogRow[]>([]);
  error = $state<UiError | null>(null);

  filter = $state<LogFilter>({ server: '', conn: '', dir: '', opcode: '', search: '' });
  selectedSeq = $state<number | null>(null);

  readonly all = $derived.by(() => {
    void this.version;
    return this.paused ? this.#frozen : this.#rows.slice();
  });
  readonly view = $derived.by(() => {
    const f = this.filter;
    const rows = this.all;
    if (!f.server && !f.conn && !f.dir && !f.opcode && !f.search) return rows;
    return rows.filter((r) => matches(r, f));
  });
  readonly connections = $derived.by(() => {
    // A throwaway local inside a derived computation: nothing observes it, so no SvelteSet.
    // eslint-disable-next-line svelte/prefer-svelte-reactivity
    const set = new Set<string>();
    for (const r of this.all)
      if (r.conn && (!this.filter.server || r.serverId === this.filter.server)) set.add(r.conn);
    return [...set].sort((a, b) => Number(a) - Number(b));
  });
  readonly selected = $derived(
    this.selectedSeq === null ? null : (this.all.find((r) => r.seq === this.selectedSeq) ?? null),
  );

  constructor(readonly api: Api) {}

  start(): void {
    if (this.#unsub) return;
    // Subscribe first and hold batches until the snapshot is in, then drop duplicates by seq.
    this.#pending = [];
    this.#unsub = this.api.on('log.batch', (b) => {
      if (this.#pending) this.#pending.push(b.events);
      else this.#apply(b.events);
      this.dropped = b.dropped;
    });
    this.api
      .call('log.snapshot', {})
      .then((snap) => {
        this.capacity = snap.capacity;
        this.dropped = Math.max(this.dropped, snap.dropped);
        const held = this.#pending ?? [];
        this.#pending = null;
        this.#apply(snap.events);
        for (const evs of held) this.#apply(evs);
      })
      .catch((e: unknown) => {
        this.error = errorText(e);
        const held = this.#pending ?? [];
        this.#pending = null;
        for (const evs of held) this.#apply(evs);
      });
  }

  stop(): void {
    this.#unsub?.();
    this.#unsub = null;
  }

  #apply(events: LogEventDto[]): void {
    let added = 0;
    for (const e of events) {
      if (typeof e.seq === 'number' && e.seq <= this.#lastSeq) continue;
      if (typeof e.seq === 'number') this.#lastSeq = e.seq;
      this.#rows.push(toRow(e));
      added++;
    }
    if (added === 0) return;
    const over = this.#rows.length - this.capacity;
    if (over > 0) this.#rows.splice(0, over);
    this.received += added;
    if (this.paused) this.arrivedWhilePaused += added;
    else this.version++;
  }

  pause(): void {
    if (this.paused) return;
    this.#frozen = this.#rows.slice();
    this.arrivedWhilePaused = 0;
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.arrivedWhilePaused = 0;
    this.#frozen = [];
    this.version++;
  }

  async clear(): Promise<void> {
    try {
      await this.api.call('log.clear', {});
      this.#rows = [];
      this.#frozen = [];
      this.received = 0;
      this.arrivedWhilePaused = 0;
      this.selectedSeq = null;
      this.error = null;
      this.version++;
    } catch (e) {
      this.error = errorText(e);
    }
  }

  /** Test hook and flood guard: the page never holds more than capacity rows. */
  get held(): number {
    return this.#rows.length;
  }
}
