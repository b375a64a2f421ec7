// The frame log: a ring buffer of events with a fixed capacity, so memory stays bounded however long a flood
// lasts, plus batched subscribers (DESIGN.md rule 4: pushes go out on a short timer, never one per frame).
import { performance } from 'node:perf_hooks';
import type { LogBatch, LogEvent } from './types';

export const DEFAULT_LOG_CAPACITY = 10_000;
export const DEFAULT_FLUSH_MS = 50;
/** Payload bytes kept per frame event. */
export const PREVIEW_BYTES = 4096;

export interface FrameLogOptions {
  /** Events kept (default 10,000). Older events are overwritten and counted as dropped. */
  capacity?: number;
  /** Subscriber push interval in ms (default 50): at most one batch per interval per subscriber. */
  flushMs?: number;
}

export interface SubscribeOptions {
  /** Only events of this server. */
  serverId?: string;
  /** Also deliver the events already in the ring in the first batch. */
  replay?: boolean;
}

interface Subscriber {
  fn: (batch: LogBatch) => void;
  serverId: string | undefined;
  /** Last sequence number this subscriber has seen. */
  cursor: number;
}

/** Distributive Omit, so each event variant keeps its own fields. */
export type NewEvent = LogEvent extends infer E
  ? E extends LogEvent
    ? Omit<E, 'seq' | 'time'>
    : never
  : never;

/** Epoch milliseconds with sub-millisecond precision. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export class FrameLog {
  readonly capacity: number;
  readonly flushMs: number;
  private readonly ring: (LogEvent | undefined)[];
  /**
   * Payload bytes of frame events whose preview text is not made yet, at the same index as the event.
   * Encoding 4 KiB to base64 costs microseconds; doing it when events are read (a push every 50 ms, an
   * export) instead of on the message path keeps the echo round trip as fast as a bare server's, and
   * events overwritten before anyone reads them are never encoded at all.
   */
  private readonly raw: (Buffer | undefined)[];
  /** Sequence number of the last event written (0 = none). */
  private seq = 0;
  private readonly subs = new Set<Subscriber>();
  private timer: NodeJS.Timeout | undefined;
  /** Sequence number at the last clear(): events up to it are gone. */
  private clearedAt = 0;

  constructor(opts: FrameLogOptions = {}) {
    const capacity = opts.capacity ?? DEFAULT_LOG_CAPACITY;
    const flushMs = opts.flushMs ?? DEFAULT_FLUSH_MS;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1_000_000) {
      throw new RangeError(`frame log capacity must be 1..1000000, got ${capacity}`);
    }
    if (!Number.isFinite(flushMs) || flushMs < 1 || flushMs > 10_000) {
      throw new RangeError(`frame log flushMs must be 1..10000, got ${flushMs}`);
    }
    this.capacity = capacity;
    this.flushMs = flushMs;
    this.ring = new Array<LogEvent | undefined>(capacity);
    this.raw = new Array<Buffer | undefined>(capacity);
  }

  /** Events currently held (at most capacity). */
  get size(): number {
    return Math.min(this.seq - this.clearedAt, this.capacity);
  }

  /** Events ever written. */
  get total(): number {
    return this.seq;
  }

  /** Events overwritten because the ring was full. */
  get dropped(): number {
    return Math.max(0, this.seq - this.capacity);
  }

  /**
   * Append an event; stamps seq and time on it and returns it. The log takes ownership of the object (no
   * copy: this runs twice per echoed message, so it stays allocation-free beyond the event itself).
   * For a frame event, pass the payload capture from `capture()` as `raw`: the event's `preview` is filled
   * from it when the event is first read (events(), a subscriber push, an export).
   */
  add(e: NewEvent, raw?: Buffer): LogEvent {
    const seq = ++this.seq;
    const ev = e as LogEvent;
    ev.seq = seq;
    ev.time = now();
    const i = (seq - 1) % this.capacity;
    this.ring[i] = ev;
    this.raw[i] = raw;
    if (this.subs.size > 0 && this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref();
    }
    return ev;
  }

  private lastRaw: Buffer | undefined;
  private lastEncoding: 'utf8' | 'base64' = 'utf8';
  private lastPreview = '';

  private at(seq: number): LogEvent {
    const i = (seq - 1) % this.capacity;
    const ev = this.ring[i] as LogEvent;
    const raw = this.raw[i];
    if (raw !== undefined) {
      if (ev.type === 'frame') {
        // An echoed message's in and out events share one capture and sit next to each other:
        // encode once, share the string.
        if (raw !== this.lastRaw || ev.previewEncoding !== this.lastEncoding) {
          this.lastRaw = raw;
          this.lastEncoding = ev.previewEncoding;
          this.lastPreview = encodePreview(raw, ev.previewEncoding);
        }
        ev.preview = this.lastPreview;
      }
      this.raw[i] = undefined;
    }
    return ev;
  }

  /** Events held, oldest first, optionally only those after a sequence number or of one server. */
  events(opts: { after?: number; serverId?: string } = {}): LogEvent[] {
    const first = Math.max(this.seq - this.capacity, this.clearedAt, opts.after ?? 0) + 1;
    const out: LogEvent[] = [];
    for (let s = first; s <= this.seq; s++) {
      const ev = this.at(s);
      if (opts.serverId === undefined || ev.serverId === opts.serverId) out.push(ev);
    }
    return out;
  }

  clear(): void {
    // Keep seq running so subscriber cursors and exported seq numbers stay unique.
    this.ring.fill(undefined);
    this.raw.fill(undefined);
    this.clearedAt = this.seq;
  }

  /** Receive events in batches, at most one call per flushMs. Returns the unsubscribe function. */
  subscribe(fn: (batch: LogBatch) => void, opts: SubscribeOptions = {}): () => void {
    const start = opts.replay ? Math.max(this.clearedAt, this.seq - this.capacity) : this.seq;
    const sub: Subscriber = { fn, serverId: opts.serverId, cursor: start };
    this.subs.add(sub);
    if (opts.replay && this.seq > start && this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), 0);
      this.timer.unref();
    }
    return () => {
      this.subs.delete(sub);
    };
  }

  /** Push pending events to every subscriber now (also called by the timer). */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const oldest = Math.max(this.seq - this.capacity, this.clearedAt);
    for (const sub of [...this.subs]) {
      if (sub.cursor >= this.seq) continue;
      const missed = Math.max(0, oldest - sub.cursor);
      const events = this.events({
        after: Math.max(sub.cursor, oldest),
        ...(sub.serverId !== undefined ? { serverId: sub.serverId } : {}),
      });
      sub.cursor = this.seq;
      if (events.length === 0 && missed === 0) continue;
      try {
        sub.fn({ events, missed, dropped: this.dropped });
      } catch {
        // A failing subscriber must not stop the others or the server; it is dropped.
        this.subs.delete(sub);
      }
    }
  }

  /** Stop the timer (pending events are flushed first). */
  close(): void {
    this.flush();
    this.subs.clear();
  }

  /** The log as JSON Lines: one event per line. */
  toJsonLines(opts: { serverId?: string } = {}): string {
    return this.events(opts)
      .map((e) => JSON.stringify(e) + '\n')
      .join('');
  }
}

/**
 * Copy of the bytes a preview needs: the first PREVIEW_BYTES (+1 so a UTF-8 cut can be checked), copied so
 * the log never keeps ws's larger receive buffer alive. Copies are carved out of shared 256 KiB slabs: a
 * fresh 4 KiB Buffer per frame costs an ArrayBuffer allocation (microseconds), a slice of a slab a memcpy.
 * A slab is freed once every event that points into it has been read or overwritten, so the memory held is
 * bounded by the ring's capacity.
 */
export function capture(data: Buffer): { raw: Buffer; truncated: boolean } {
  const truncated = data.length > PREVIEW_BYTES;
  const n = truncated ? PREVIEW_BYTES + 1 : data.length;
  if (slabUsed + n > slab.length) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  data.copy(slab, slabUsed, 0, n);
  const raw = slab.subarray(slabUsed, slabUsed + n);
  slabUsed += n;
  return { raw, truncated };
}
const SLAB_BYTES = 256 * 1024;
let slab = Buffer.allocUnsafeSlow(0);
let slabUsed = 0;

/** Preview text of a capture: UTF-8 for text/close, base64 otherwise, never cutting a UTF-8 character. */
export function encodePreview(raw: Buffer, encoding: 'utf8' | 'base64'): string {
  let end = Math.min(raw.length, PREVIEW_BYTES);
  if (encoding === 'utf8' && raw.length > PREVIEW_BYTES) {
    // Back up over continuation bytes (10xxxxxx) so the last character is whole.
    while (end > 0 && ((raw[end] as number) & 0xc0) === 0x80) end--;
  }
  return raw.toString(encoding, 0, end);
}

/** Preview of a payload, made now: first PREVIEW_BYTES bytes, UTF-8 for text, base64 otherwise. */
export function preview(
  data: Buffer,
  encoding: 'utf8' | 'base64',
): { preview: string; previewEncoding: 'utf8' | 'base64'; truncated: boolean } {
  const c = capture(data);
  return {
    preview: encodePreview(c.raw, encoding),
    previewEncoding: encoding,
    truncated: c.truncated,
  };
}
