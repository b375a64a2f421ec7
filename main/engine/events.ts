// Event streams of the contract, batched (DESIGN.md rule 4): whatever is emitted on a stream within one
// interval (default 50 ms) reaches each subscriber as ONE push. Frame-log events are concatenated, status
// snapshots keep the newest, progress updates are queued in order.
import type { StreamName, Streams } from '../../shared/api';

export const DEFAULT_PUSH_MS = 50;
/** Most frame-log events held for one push; older ones are counted as missed (the UI shows the count). */
const MAX_LOG_EVENTS_PER_PUSH = 5_000;

type Merge<S extends StreamName> = (prev: Streams[S] | undefined, next: Streams[S]) => Streams[S];

const merges: { [S in StreamName]: Merge<S> } = {
  'log.batch': (prev, next) => {
    if (!prev) return next;
    const events = prev.events.concat(next.events);
    const over = Math.max(0, events.length - MAX_LOG_EVENTS_PER_PUSH);
    return {
      events: over ? events.slice(over) : events,
      missed: prev.missed + next.missed + over,
      dropped: next.dropped,
      received: next.received,
    };
  },
  'server.status': (_prev, next) => next,
  'trust.status': (_prev, next) => next,
  'task.progress': (prev, next) => (prev ? { updates: prev.updates.concat(next.updates) } : next),
  'client.events': (prev, next) => {
    if (!prev) return next;
    const events = prev.events.concat(next.events);
    return {
      events:
        events.length > MAX_LOG_EVENTS_PER_PUSH ? events.slice(-MAX_LOG_EVENTS_PER_PUSH) : events,
    };
  },
  'proxy.status': (_prev, next) => next,
  'store.changed': (prev, next) =>
    prev ? { what: [...new Set([...prev.what, ...next.what])] } : next,
};

export class EventHub {
  private readonly subs = new Map<StreamName, Set<(d: unknown) => void>>();
  private readonly pending = new Map<StreamName, unknown>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(readonly pushMs = DEFAULT_PUSH_MS) {}

  emit<S extends StreamName>(stream: S, data: Streams[S]): void {
    if (this.closed || !this.subs.get(stream)?.size) return;
    const merge = merges[stream] as Merge<S>;
    this.pending.set(stream, merge(this.pending.get(stream) as Streams[S] | undefined, data));
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.pushMs);
      this.timer.unref?.();
    }
  }

  subscribe<S extends StreamName>(stream: S, cb: (data: Streams[S]) => void): () => void {
    let set = this.subs.get(stream);
    if (!set) this.subs.set(stream, (set = new Set()));
    const fn = cb as (d: unknown) => void;
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  }

  /** Number of subscribers on a stream (the engine only taps the frame log while someone listens). */
  listeners(stream: StreamName): number {
    return this.subs.get(stream)?.size ?? 0;
  }

  flush(): void {
    this.timer = undefined;
    const batch = [...this.pending];
    this.pending.clear();
    for (const [stream, data] of batch) {
      for (const cb of this.subs.get(stream) ?? []) {
        try {
          cb(data);
        } catch {
          // One broken subscriber (a closed window) must not starve the others.
        }
      }
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
    this.subs.clear();
  }
}
