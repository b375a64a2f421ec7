// Live frame log for the UI. Built for floods: events arrive in batches (<= 1 push per ~50 ms), rows are
// plain frozen objects in a non-reactive ring (no deep proxies), and the view is recomputed once per batch.
// The page keeps at most `capacity` rows, the same capacity as the engine's ring buffer, so it shows what
// the engine holds. The counters are the engine's, over one scope (since the last clear, surviving a
// reload): received = kept + dropped.
//
// Following vs paused: the view follows the newest rows unless paused, by the user (Pause), by scrolling
// up (the rows would otherwise move under the reader during a flood), or by selecting a row (so the row
// being read stays put). Scrolling back to the bottom or closing the selection resumes what they paused.
import type { LogEventDto } from '../../../shared/api';
import { matches, toRow, type LogFilter, type LogRow } from './log-rows';
import { replaySelection } from './log-replay';
export type { LogFilter, LogRow } from './log-rows';
import type { Api } from './api';
import { errorText } from './format';
import type { UiError } from './studio.svelte';

export class FrameLogState {
  /** Rows held by the page, oldest first; never more than `capacity`. Not reactive: see `version`. */
  #rows: LogRow[] = [];
  #lastSeq = 0;
  #pending: LogEventDto[][] | null = null;
  #unsub: (() => void) | null = null;

  /** Bumped once per applied batch; the derived view depends on it. */
  version = $state(0);
  capacity = $state(10_000);
  /** Engine counters since the last clear: received = kept + dropped. */
  dropped = $state(0);
  received = $state(0);
  paused = $state(false);
  /** Why the view is paused: the Pause button, scrolling up, or a selected row. */
  pausedBy = $state<'user' | 'scroll' | 'select' | null>(null);
  /** Events that arrived while paused (shown on the Resume button). */
  arrivedWhilePaused = $state(0);
  #frozen = $state.raw<LogRow[]>([]);
  error = $state<UiError | null>(null);

  filter = $state<LogFilter>({ server: '', conn: '', dir: '', opcode: '', search: '' });
  selectedSeq = $state<number | null>(null);
  /** The other end of a range selected with Shift from the selected row (replay a stretch of a connection). */
  rangeEndSeq = $state<number | null>(null);

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
  // Connection numbers seen per server, kept as rows arrive (not rescanned per batch: floods are cheap).
  // Plain, non-reactive bookkeeping; `connVersion` tells the derived list when it grew.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #conns = new Map<string, Set<string>>();
  connVersion = $state(0);
  readonly connections = $derived.by(() => {
    void this.connVersion;
    const server = this.filter.server;
    const out: string[] = [];
    for (const [id, set] of this.#conns) if (!server || id === server) out.push(...set);
    return out
      .sort((a, b) => Number(a) - Number(b))
      .filter((c, i, all) => i === 0 || all[i - 1] !== c);
  });
  /** The selected range of one connection (from the selected row to the Shift-selected end), for replay. */
  readonly replay = $derived(replaySelection(this.all, this.selectedSeq, this.rangeEndSeq));
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
      this.received = b.received;
    });
    this.api
      .call('log.snapshot', {})
      .then((snap) => {
        this.capacity = snap.capacity;
        // A batch may already have brought newer counters; they only grow until a clear.
        this.dropped = Math.max(this.dropped, snap.dropped);
        this.received = Math.max(this.received, snap.received);
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

  // Big batches (up to thousands of events) are turned into rows in chunks, one macrotask each, so a
  // click never waits behind a whole batch. The queue is bounded: beyond `capacity` the oldest queued
  // events would be evicted on arrival anyway, so they are only counted.
  #queue: LogEventDto[] = [];
  #draining = false;
  static readonly CHUNK = 1_500;

  #apply(events: LogEventDto[]): void {
    for (const e of events) this.#queue.push(e);
    const excess = this.#queue.length - this.capacity;
    if (excess > 0) {
      const skipped = this.#queue.splice(0, excess);
      let counted = 0;
      for (const e of skipped) {
        if (typeof e.seq === 'number') {
          if (e.seq <= this.#lastSeq) continue;
          this.#lastSeq = e.seq;
        }
        counted++;
      }
      if (this.paused) this.arrivedWhilePaused += counted;
    }
    if (!this.#draining && this.#queue.length > 0) {
      this.#draining = true;
      setTimeout(() => this.#drain(), 0);
    }
  }

  #drain(): void {
    this.#applyNow(this.#queue.splice(0, FrameLogState.CHUNK));
    if (this.#queue.length > 0) setTimeout(() => this.#drain(), 0);
    else this.#draining = false;
  }

  #applyNow(events: LogEventDto[]): void {
    let added = 0;
    for (const e of events) {
      if (typeof e.seq === 'number' && e.seq <= this.#lastSeq) continue;
      if (typeof e.seq === 'number') this.#lastSeq = e.seq;
      const row = toRow(e);
      this.#rows.push(row);
      if (row.conn) {
        let set = this.#conns.get(row.serverId);
        // eslint-disable-next-line svelte/prefer-svelte-reactivity
        if (!set) this.#conns.set(row.serverId, (set = new Set()));
        if (!set.has(row.conn)) {
          set.add(row.conn);
          this.connVersion++;
        }
      }
      added++;
    }
    if (added === 0) return;
    const over = this.#rows.length - this.capacity;
    if (over > 0) this.#rows.splice(0, over);
    if (this.paused) this.arrivedWhilePaused += added;
    else this.version++;
  }

  pause(by: 'user' | 'scroll' | 'select' = 'user'): void {
    if (this.paused) {
      // The Pause button makes any automatic pause the user's own: only Resume ends it.
      if (by === 'user') this.pausedBy = 'user';
      return;
    }
    this.#frozen = this.#rows.slice();
    this.arrivedWhilePaused = 0;
    this.paused = true;
    this.pausedBy = by;
  }

  /** Resumes only a pause of that cause (e.g. scrolling back down does not undo the Pause button). */
  resumeIf(by: 'scroll' | 'select'): void {
    if (this.paused && this.pausedBy === by) this.resume();
  }

  /**
   * Select a row (pauses following so it stays put), or null to close the selection. `extend` (Shift)
   * keeps the selected row and makes `seq` the other end of a range.
   */
  select(seq: number | null, extend = false): void {
    if (extend && seq !== null && this.selectedSeq !== null) {
      this.rangeEndSeq = seq === this.selectedSeq ? null : seq;
      return;
    }
    this.rangeEndSeq = null;
    this.selectedSeq = seq;
    if (seq === null) this.resumeIf('select');
    else this.pause('select');
  }

  /** Change how many events the engine (and this page) keep. */
  async setCapacity(capacity: number): Promise<void> {
    try {
      const c = await this.api.call('log.configure', { capacity });
      this.capacity = c.capacity;
      this.received = c.received;
      this.dropped = c.dropped;
      const over = this.#rows.length - c.capacity;
      if (over > 0) this.#rows.splice(0, over);
      if (this.paused && this.#frozen.length > c.capacity)
        this.#frozen = this.#frozen.slice(this.#frozen.length - c.capacity);
      this.error = null;
      this.version++;
    } catch (e) {
      this.error = errorText(e);
    }
  }

  resume(): void {
    this.paused = false;
    this.pausedBy = null;
    this.arrivedWhilePaused = 0;
    this.#frozen = [];
    this.version++;
  }

  async clear(): Promise<void> {
    try {
      await this.api.call('log.clear', {});
      this.#rows = [];
      this.#queue = [];
      this.#conns.clear();
      this.connVersion++;
      this.#frozen = [];
      this.received = 0;
      this.dropped = 0;
      this.arrivedWhilePaused = 0;
      this.selectedSeq = null;
      this.rangeEndSeq = null;
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
