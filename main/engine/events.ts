// Event streams of the contract, batched (design rule 4, "pushes go in batches"): whatever is emitted on a
// stream within one interval (default 50 ms) reaches each subscriber as ONE push. Status snapshots keep the
// newest, progress updates are queued in order. The frame log (log.batch) does not pass here: it batches on
// its own timer (main/echo/frame-log.ts) and the engine hands its batches straight through.
import type { StreamName, Streams } from '../../shared/api';

export const DEFAULT_PUSH_MS = 50;
/** Most client events held for one push; older ones are dropped. */
const MAX_CLIENT_EVENTS_PER_PUSH = 5_000;

/** Every stream but the frame log's. */
export type HubStream = Exclude<StreamName, 'log.batch'>;

type Merge<S extends HubStream> = (prev: Streams[S] | undefined, next: Streams[S]) => Streams[S];

const merges: { [S in HubStream]: Merge<S> } = {
  'server.status': (_prev, next) => next,
  'trust.status': (_prev, next) => next,
  'task.progress': (prev, next) => (prev ? { updates: prev.updates.concat(next.updates) } : next),
  'client.events': (prev, next) => {
    if (!prev) return next;
    const events = prev.events.concat(next.events);
    return {
      events:
        events.length > MAX_CLIENT_EVENTS_PER_PUSH
          ? events.slice(-MAX_CLIENT_EVENTS_PER_PUSH)
          : events,
    };
  },
  'proxy.status': (_prev, next) => next,
  'store.changed': (prev, next) =>
    prev ? { what: [...new Set([...prev.what, ...next.what])] } : next,
};

export class EventHub {
  private readonly subs = new Map<HubStream, Set<(d: unknown) => void>>();
  private readonly pending = new Map<HubStream, unknown>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(readonly pushMs = DEFAULT_PUSH_MS) {}

  emit<S extends HubStream>(stream: S, data: Streams[S]): void {
    if (this.closed || !this.subs.get(stream)?.size) return;
    const merge = merges[stream] as Merge<S>;
    this.pending.set(stream, merge(this.pending.get(stream) as Streams[S] | undefined, data));
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.pushMs);
      this.timer.unref?.();
    }
  }

  subscribe<S extends HubStream>(stream: S, cb: (data: Streams[S]) => void): () => void {
    let set = this.subs.get(stream);
    if (!set) this.subs.set(stream, (set = new Set()));
    const fn = cb as (d: unknown) => void;
    set.add(fn);
    return () => {
      set.delete(fn);
    };
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
