// Live frame log for the UI. Built for floods: events arrive in batches (<= 1 push per ~50 ms), rows are
// plain frozen objects in a non-reactive ring (no deep proxies), and the view and the counters are
// published at most once per RENDER_MS (the first batch after a quiet spell at once): each publish costs
// the page a layout and a paint, on the same cores as the servers, and nobody reads 20 row updates a
// second. bench/shells.mjs measures the browser's CPU per message.
//
// While the log is busier than a window's push budget (the engine sends the newest events and counts the
// rest as missed), the page says how many events the engine holds that it was not sent (`notLive`), and
// once the pushes calm down it fetches the engine's ring again, so the rows end up what the engine holds.
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

  /** Bumped at most once per RENDER_MS while rows arrive; the derived view depends on it. */
  version = $state(0);
  capacity = $state(10_000);
  /** Engine counters since the last clear: received = kept + dropped (published with the rows). */
  dropped = $state(0);
  received = $state(0);
  /** The newest counters from the engine, published with the next render. */
  #counters = { dropped: 0, received: 0 };
  #renderTimer: ReturnType<typeof setTimeout> | null = null;
  #lastRender = -Infinity;
  #rowsChanged = false;
  /** Longest gap between two publishes of rows and counters while they stream in. */
  static readonly RENDER_MS = 250;
  /** Events the engine holds that this page was not sent (it got the newest while the log was busy). */
  notLive = $state(0);
  /** A push said events were missed since the page last read the whole ring. */
  #gap = false;
  #quietTimer: ReturnType<typeof setTimeout> | null = null;
  /** No push for this long after a gap: the flood is over, read the ring again. */
  static readonly QUIET_MS = 400;
  paused = $state(false);
  /** Why the view is paused: the Pause button, scrolling up, or a selected row. */
  pausedBy = $state<'user' | 'scroll' | 'select' | null>(null);
  /** Events that arrived while paused (shown on the Resume button): the engine's received since then. */
  arrivedWhilePaused = $state(0);
  #pausedAt = 0;
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
    if (this.#unsub || this.#hidden) return;
    // Subscribe first and hold batches until the snapshot is in, then drop duplicates by seq.
    this.#subscribe();
    this.#sync(false);
  }

  #hidden = false;
  /**
   * A hidden page (a background tab, a minimised window) shows nothing, so it takes no pushes; shown
   * again, it reads the engine's ring, as after a flood.
   */
  setVisible(visible: boolean): void {
    if (visible !== this.#hidden) return;
    this.#hidden = !visible;
    if (!visible) return this.stop();
    this.#subscribe();
    this.#gap = false;
    this.#sync(true);
  }

  #subscribe(): void {
    this.#unsub = this.api.on('log.batch', (b) => {
      if (this.#pending) this.#pending.push(b.events);
      else this.#apply(b.events);
      this.#counters = { dropped: b.dropped, received: b.received };
      if (b.missed > 0) this.#gap = true;
      if (this.#gap) this.#armQuiet();
      // Rows still being built publish themselves (with these counters) when they are done.
      if (!this.#draining) this.#schedule();
    });
  }

  stop(): void {
    this.#unsub?.();
    this.#unsub = null;
    if (this.#quietTimer !== null) clearTimeout(this.#quietTimer);
    this.#quietTimer = null;
  }

  #armQuiet(): void {
    if (this.#quietTimer !== null) clearTimeout(this.#quietTimer);
    this.#quietTimer = setTimeout(() => {
      this.#quietTimer = null;
      if (this.#gap && this.#pending === null) {
        this.#gap = false;
        this.#sync(true);
      }
    }, FrameLogState.QUIET_MS);
  }

  /**
   * Read the engine's ring (log.snapshot); pushes that arrive meanwhile are held, then applied (duplicates
   * dropped by seq). `replace`: the ring's events take the place of the rows held (it has the ones this
   * page missed).
   */
  #sync(replace: boolean): void {
    this.#pending = [];
    this.api
      .call('log.snapshot', {})
      .then((snap) => {
        this.capacity = snap.capacity;
        // A batch may already have brought newer counters; they only grow until a clear.
        this.#counters = {
          dropped: Math.max(this.#counters.dropped, snap.dropped),
          received: Math.max(this.#counters.received, snap.received),
        };
        const held = this.#pending ?? [];
        this.#pending = null;
        if (replace) {
          this.#rows = [];
          this.#queue = [];
          this.#lastSeq = 0;
          this.#applyNow(snap.events);
        } else this.#apply(snap.events);
        for (const evs of held) this.#apply(evs);
        if (!this.#draining) this.#schedule();
      })
      .catch((e: unknown) => {
        this.error = errorText(e);
        const held = this.#pending ?? [];
        this.#pending = null;
        for (const evs of held) this.#apply(evs);
      });
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
      for (const e of skipped) {
        if (typeof e.seq === 'number' && e.seq > this.#lastSeq) this.#lastSeq = e.seq;
      }
    }
    if (!this.#draining && this.#queue.length > 0) {
      this.#draining = true;
      setTimeout(() => this.#drain(), 0);
    }
  }

  #drain(): void {
    const chunk = this.#queue.splice(0, FrameLogState.CHUNK);
    // Done before the last chunk is applied, so that its publish is complete (notLive included).
    if (this.#queue.length === 0) this.#draining = false;
    this.#applyNow(chunk);
    if (this.#draining) setTimeout(() => this.#drain(), 0);
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
    if (added > 0) {
      const over = this.#rows.length - this.capacity;
      if (over > 0) this.#rows.splice(0, over);
      if (!this.paused) this.#rowsChanged = true;
    }
    this.#schedule();
  }

  /** Publish rows and counters now if the last publish is RENDER_MS old, else once it is. */
  #schedule(): void {
    if (this.#renderTimer !== null) return;
    const wait = this.#lastRender + FrameLogState.RENDER_MS - performance.now();
    if (wait <= 0) this.#publish();
    else this.#renderTimer = setTimeout(() => this.#publish(), wait);
  }

  #publish(): void {
    if (this.#renderTimer !== null) clearTimeout(this.#renderTimer);
    this.#renderTimer = null;
    this.#lastRender = performance.now();
    this.dropped = this.#counters.dropped;
    this.received = this.#counters.received;
    // While rows are still being built or a snapshot is on its way the figure would be too high: later.
    if (!this.#draining && this.#pending === null) this.notLive = this.#notLive();
    // The engine's count, so events this page was not sent count too.
    if (this.paused) this.arrivedWhilePaused = Math.max(0, this.received - this.#pausedAt);
    if (this.#rowsChanged) {
      this.#rowsChanged = false;
      this.version++;
    }
  }

  /** Events the engine holds (its newest `kept`, ending at the newest seq this page has) minus those held here. */
  #notLive(): number {
    const kept = Math.max(0, this.#counters.received - this.#counters.dropped);
    const from = this.#lastSeq - kept; // the engine holds seq > from
    const rows = this.#rows;
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((rows[mid] as LogRow).seq > from) hi = mid;
      else lo = mid + 1;
    }
    return Math.max(0, kept - (rows.length - lo));
  }

  pause(by: 'user' | 'scroll' | 'select' = 'user'): void {
    if (this.paused) {
      // The Pause button makes any automatic pause the user's own: only Resume ends it.
      if (by === 'user') this.pausedBy = 'user';
      return;
    }
    this.#frozen = this.#rows.slice();
    this.#pausedAt = this.#counters.received;
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
      this.#counters = { dropped: c.dropped, received: c.received };
      this.received = c.received;
      this.dropped = c.dropped;
      const over = this.#rows.length - c.capacity;
      if (over > 0) this.#rows.splice(0, over);
      this.notLive = this.#notLive();
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
      this.#counters = { dropped: 0, received: 0 };
      this.received = 0;
      this.dropped = 0;
      this.notLive = 0;
      this.#gap = false;
      this.#pausedAt = 0;
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
