// Over 400 lines: the ring buffer, its batched subscribers and visit() share the hot path and its bounds; split, the bounds would be in two places.
// The frame log: a ring buffer of events with a fixed capacity, so memory stays bounded however long a flood
// lasts, plus batched subscribers (pushes go out on a short timer, never one per frame).
import { performance } from 'node:perf_hooks';
import { CaptureSlabs } from './capture-slabs';
import type { LogBatch, LogEvent } from './types';

export const DEFAULT_LOG_CAPACITY = 10_000;
export const DEFAULT_FLUSH_MS = 50;
/**
 * What one push carries at most: DEFAULT_MAX_PUSH_EVENTS events and DEFAULT_MAX_PUSH_BYTES of payload
 * previews, whichever comes first. A push is built, encoded and sent in one go on the event loop that also
 * serves the sockets: unbounded, a flood made pushes of the whole ring (10,000 events, several MB of JSON)
 * that stalled every connection for tens of ms. Beyond the bound the oldest pending events are skipped and
 * counted as missed (a subscriber that falls behind loses events, never time). At 50 ms that is up to
 * 50,000 small events a second, or about 5,000 of 1 KiB. Measured by bench/shells.mjs.
 */
export const DEFAULT_MAX_PUSH_EVENTS = 2_500;
export const DEFAULT_MAX_PUSH_BYTES = 256 * 1024;
/** Bytes counted for an event kept as an object (open, close, error...), previews aside. */
const OBJECT_EVENT_BYTES = 256;
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
  /** Most events per push (default DEFAULT_MAX_PUSH_EVENTS); older pending ones count as missed. */
  maxEvents?: number;
  /** Most preview bytes per push (default DEFAULT_MAX_PUSH_BYTES); the newest event always goes out. */
  maxBytes?: number;
  /**
   * At least this many ms between two pushes (default flushMs): a window renders every push it gets, so
   * it asks for fewer. The first event after a quiet spell still goes out after flushMs.
   */
  intervalMs?: number;
}

/** What subscribeSeqs() pushes: the seq numbers of the events, not the events (read them with visit()). */
export interface SeqBatch {
  seqs: number[];
  missed: number;
  dropped: number;
  received: number;
}

/**
 * What visit() hands each event to: columnar frames field by field (no event object is made; the preview
 * is the raw capture, `data[off, off + len)`, to encode as encodePreview() does), other events as they are.
 */
export interface EventSink {
  frame(
    serverId: string,
    conn: number,
    dir: 'in' | 'out',
    opcode: 'text' | 'binary' | 'ping' | 'pong',
    length: number,
    data: Buffer,
    off: number,
    len: number,
    truncated: boolean,
    seq: number,
    time: number,
  ): void;
  event(e: LogEvent): void;
}

interface Subscriber {
  fn: (batch: LogBatch) => void;
  /** Set for subscribeSeqs(): gets seq numbers, and `fn` is not called. */
  seqFn: ((batch: SeqBatch) => void) | undefined;
  serverId: string | undefined;
  /** Last sequence number this subscriber has seen. */
  cursor: number;
  maxEvents: number;
  maxBytes: number;
  intervalMs: number;
  /** Date.now() of the last push. */
  lastPush: number;
}

/** Distributive Omit, so each event variant keeps its own fields. */
export type NewEvent = LogEvent extends infer E
  ? E extends LogEvent
    ? Omit<E, 'seq' | 'time'>
    : never
  : never;

const timeOrigin = performance.timeOrigin;

/** Epoch milliseconds with sub-millisecond precision. */
export function now(): number {
  return timeOrigin + performance.now();
}

const OPCODES = ['text', 'binary', 'ping', 'pong', 'close'] as const;
type FrameOpcode = 'text' | 'binary' | 'ping' | 'pong';
const OPCODE_INDEX: Record<FrameOpcode, number> = { text: 0, binary: 1, ping: 2, pong: 3 };
// flags bits: 0-2 opcode index, 3 dir out, 4 truncated
const OUT = 8;
const TRUNCATED = 16;

export const MAX_LOG_CAPACITY = 1_000_000;

export class FrameLog {
  /** Events kept; changed with resize(). */
  capacity: number;
  readonly flushMs: number;
  /**
   * The ring, column by column. Frames (twice per echoed message) are stored as numbers and references in
   * preallocated arrays, not as objects: nothing is allocated per frame but the payload copy, and nothing
   * the garbage collector must copy or promote piles up while the ring fills. Event objects are made when
   * events are read (events(), a subscriber push, an export). Other events (open, close, error) are rare
   * and kept as objects in `objs`.
   */
  private objs!: (LogEvent | undefined)[];
  private times!: Float64Array;
  private conns!: Float64Array;
  private lengths!: Float64Array;
  private flags!: Uint8Array;
  private serverIds!: (string | undefined)[];
  /** Payload capture of each frame: a slice [offs, offs+lens) of slab slabIds (-1: none) of `captures`. */
  private readonly captures = new CaptureSlabs();
  private slabIds!: Int32Array;
  private offs!: Int32Array;
  private lens!: Int32Array;
  /** Sequence number of the last event written (0 = none). */
  private seq = 0;
  private readonly subs = new Set<Subscriber>();
  private timer: NodeJS.Timeout | undefined;
  /** Sequence number at the last clear(): the counters (received, dropped) start after it. */
  private clearedAt = 0;
  /** Events up to this seq are gone (cleared, or cut by a smaller capacity), whatever the ring holds. */
  private base = 0;
  /** Whether the last capture (reused by addFrame(..., same = true)) was cut to the preview. */
  private lastTruncated = false;
  /**
   * Preview string cache for adjacent frames sharing one capture (an echo's in and out), keyed by the
   * capture's slab, generation, offset and length: a recycled slab's new captures never hit an old entry,
   * nor does the capture after an empty one (same offset).
   */
  private encId = -1;
  private encGen = -1;
  private encOff = -1;
  private encLen = -1;
  private encUtf8 = false;
  private encText = '';

  constructor(opts: FrameLogOptions = {}) {
    const capacity = opts.capacity ?? DEFAULT_LOG_CAPACITY;
    const flushMs = opts.flushMs ?? DEFAULT_FLUSH_MS;
    checkCapacity(capacity);
    if (!Number.isFinite(flushMs) || flushMs < 1 || flushMs > 10_000) {
      throw new RangeError(`frame log flushMs must be 1..10000, got ${flushMs}`);
    }
    this.capacity = capacity;
    this.flushMs = flushMs;
    this.allocate(capacity);
  }

  /** Fresh, empty columns for `capacity` events (the constructor, and resize before it copies over). */
  private allocate(capacity: number): void {
    this.objs = new Array<LogEvent | undefined>(capacity).fill(undefined);
    this.times = new Float64Array(capacity);
    this.conns = new Float64Array(capacity);
    this.lengths = new Float64Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.serverIds = new Array<string | undefined>(capacity).fill(undefined);
    this.slabIds = new Int32Array(capacity).fill(-1);
    this.offs = new Int32Array(capacity);
    this.lens = new Int32Array(capacity);
  }

  /** Sequence number of the oldest event that is gone (held events are oldest()+1 .. seq). */
  private oldest(): number {
    return Math.max(this.seq - this.capacity, this.base);
  }

  /** Events currently held (at most capacity). */
  get size(): number {
    return this.seq - this.oldest();
  }

  /** Events ever written. */
  get total(): number {
    return this.seq;
  }

  /** Events written since the last clear(): always `size + dropped`, one scope for every counter. */
  get received(): number {
    return this.seq - this.clearedAt;
  }

  /** Events since the last clear() that are no longer held (overwritten by the ring, or cut by resize). */
  get dropped(): number {
    return this.received - this.size;
  }

  /**
   * Change how many events are kept. Growing keeps everything held; shrinking keeps the newest
   * `capacity` events (the rest count as dropped). The columns are copied once, O(held).
   */
  resize(capacity: number): void {
    checkCapacity(capacity);
    if (capacity === this.capacity) return;
    const keepFrom = Math.max(this.oldest(), this.seq - capacity);
    const old = {
      objs: this.objs,
      times: this.times,
      conns: this.conns,
      lengths: this.lengths,
      flags: this.flags,
      serverIds: this.serverIds,
      slabIds: this.slabIds,
      offs: this.offs,
      lens: this.lens,
      capacity: this.capacity,
    };
    this.allocate(capacity);
    this.captures.resetRefs();
    for (let s = keepFrom + 1; s <= this.seq; s++) {
      const i = (s - 1) % old.capacity;
      const j = (s - 1) % capacity;
      this.objs[j] = old.objs[i];
      this.times[j] = old.times[i] as number;
      this.conns[j] = old.conns[i] as number;
      this.lengths[j] = old.lengths[i] as number;
      this.flags[j] = old.flags[i] as number;
      this.serverIds[j] = old.serverIds[i];
      const id = old.slabIds[i] as number;
      this.slabIds[j] = id;
      if (id >= 0) this.captures.ref(id);
      this.offs[j] = old.offs[i] as number;
      this.lens[j] = old.lens[i] as number;
    }
    // Slabs only the cut events referred to go back (spare) or are let go.
    this.captures.sweep();
    this.capacity = capacity;
    this.base = keepFrom;
  }

  /**
   * Append an event object; stamps seq and time on it and returns it. The log takes ownership of the
   * object. Frames on the message path go through addFrame() instead.
   */
  add(e: NewEvent): LogEvent {
    const seq = ++this.seq;
    const ev = e as LogEvent;
    ev.seq = seq;
    ev.time = now();
    const i = (seq - 1) % this.capacity;
    this.objs[i] = ev;
    this.release(i);
    this.serverIds[i] = undefined;
    this.arm();
    return ev;
  }

  /**
   * Append a text/binary/ping/pong frame without allocating an event object. The first PREVIEW_BYTES of the
   * payload (+1, to cut UTF-8 cleanly) are copied into a slab, so the log never keeps ws's larger receive
   * buffer alive; a slab is recycled once every frame pointing into it has been overwritten, so the memory
   * held stays bounded by the capacity (plus a few spare slabs) and a flood allocates nothing. `same`: the payload is the one of the previous addFrame
   * (the echo of the frame just logged): its capture is reused, not copied again. Returns the seq.
   */
  addFrame(
    serverId: string,
    conn: number,
    dir: 'in' | 'out',
    opcode: FrameOpcode,
    data: Buffer,
    same = false,
  ): number {
    const seq = ++this.seq;
    const i = (seq - 1) % this.capacity;
    // Let go of the overwritten frame's capture first: its slab may be the one this capture reuses.
    this.release(i);
    const cap = this.captures;
    if (!same || cap.lastId < 0) {
      const truncated = data.length > PREVIEW_BYTES;
      cap.capture(data, truncated ? PREVIEW_BYTES + 1 : data.length);
      this.lastTruncated = truncated;
    }
    this.objs[i] = undefined;
    this.times[i] = now();
    this.conns[i] = conn;
    this.lengths[i] = data.length;
    this.flags[i] =
      OPCODE_INDEX[opcode] | (dir === 'out' ? OUT : 0) | (this.lastTruncated ? TRUNCATED : 0);
    this.serverIds[i] = serverId;
    this.slabIds[i] = cap.lastId;
    cap.ref(cap.lastId);
    this.offs[i] = cap.lastOff;
    this.lens[i] = cap.lastLen;
    this.arm();
    return seq;
  }

  /** Slot i is being overwritten: drop its reference to its capture's slab. */
  private release(i: number): void {
    const id = this.slabIds[i] as number;
    if (id < 0) return;
    this.slabIds[i] = -1;
    this.captures.unref(id);
  }

  private arm(): void {
    if (this.subs.size > 0 && this.timer === undefined) {
      this.timer = setTimeout(() => this.tick(), this.flushMs);
      this.timer.unref();
    }
  }

  /** Server id of the event with this seq (cheap: used to filter without building the event). */
  private serverOf(seq: number): string {
    const i = (seq - 1) % this.capacity;
    return (this.objs[i]?.serverId ?? this.serverIds[i]) as string;
  }

  /** The event with this sequence number, built fresh for a columnar frame. */
  private at(seq: number): LogEvent {
    const i = (seq - 1) % this.capacity;
    const obj = this.objs[i];
    if (obj !== undefined) return obj;
    const flags = this.flags[i] as number;
    const opcode = OPCODES[flags & 7] as FrameOpcode;
    const utf8 = opcode === 'text';
    const id = this.slabIds[i] as number;
    const gen = this.captures.gen(id);
    const off = this.offs[i] as number;
    const len = this.lens[i] as number;
    // An echo's in and out frames share one capture and sit next to each other: encode once.
    if (
      id !== this.encId ||
      gen !== this.encGen ||
      off !== this.encOff ||
      len !== this.encLen ||
      utf8 !== this.encUtf8
    ) {
      this.encId = id;
      this.encGen = gen;
      this.encOff = off;
      this.encLen = len;
      this.encUtf8 = utf8;
      this.encText = encodePreview(
        this.captures.buf(id).subarray(off, off + len),
        utf8 ? 'utf8' : 'base64',
      );
    }
    return {
      type: 'frame',
      serverId: this.serverIds[i] as string,
      conn: this.conns[i] as number,
      dir: flags & OUT ? 'out' : 'in',
      opcode,
      length: this.lengths[i] as number,
      preview: this.encText,
      previewEncoding: utf8 ? 'utf8' : 'base64',
      truncated: (flags & TRUNCATED) !== 0,
      seq,
      time: this.times[i] as number,
    };
  }

  /**
   * Hand the events with these seq numbers (held ones, e.g. a SeqBatch's) to `sink`, in order, without
   * building the frame objects at() would.
   */
  visit(seqs: readonly number[], sink: EventSink): void {
    const oldest = this.oldest();
    for (const seq of seqs) {
      if (seq <= oldest || seq > this.seq) continue;
      const i = (seq - 1) % this.capacity;
      const obj = this.objs[i];
      if (obj !== undefined) {
        sink.event(obj);
        continue;
      }
      const flags = this.flags[i] as number;
      const id = this.slabIds[i] as number;
      sink.frame(
        this.serverIds[i] as string,
        this.conns[i] as number,
        flags & OUT ? 'out' : 'in',
        OPCODES[flags & 7] as FrameOpcode,
        this.lengths[i] as number,
        this.captures.buf(id),
        this.offs[i] as number,
        this.lens[i] as number,
        (flags & TRUNCATED) !== 0,
        seq,
        this.times[i] as number,
      );
    }
  }

  /** Events held, oldest first, optionally only those after a sequence number or of one server. */
  events(opts: { after?: number; serverId?: string } = {}): LogEvent[] {
    const first = Math.max(this.oldest(), opts.after ?? 0) + 1;
    const out: LogEvent[] = [];
    for (let s = first; s <= this.seq; s++) {
      if (opts.serverId === undefined || this.serverOf(s) === opts.serverId) out.push(this.at(s));
    }
    return out;
  }

  clear(): void {
    // Keep seq running so subscriber cursors and exported seq numbers stay unique.
    this.objs.fill(undefined);
    this.slabIds.fill(-1);
    this.captures.resetRefs();
    this.captures.sweep();
    this.serverIds.fill(undefined);
    this.clearedAt = this.seq;
    this.base = this.seq;
  }

  /** Receive events in batches, at most one call per flushMs. Returns the unsubscribe function. */
  subscribe(fn: (batch: LogBatch) => void, opts: SubscribeOptions = {}): () => void {
    return this.addSubscriber(fn, undefined, opts);
  }

  /**
   * subscribe(), for a subscriber that reads the events itself with visit() (the CLI's JSON Lines): it
   * gets their seq numbers, and must read them before it returns (the ring overwrites them later).
   */
  subscribeSeqs(fn: (batch: SeqBatch) => void, opts: SubscribeOptions = {}): () => void {
    return this.addSubscriber(() => {}, fn, opts);
  }

  private addSubscriber(
    fn: (batch: LogBatch) => void,
    seqFn: ((batch: SeqBatch) => void) | undefined,
    opts: SubscribeOptions,
  ): () => void {
    const start = opts.replay ? this.oldest() : this.seq;
    const maxEvents = opts.maxEvents ?? DEFAULT_MAX_PUSH_EVENTS;
    const maxBytes = opts.maxBytes ?? DEFAULT_MAX_PUSH_BYTES;
    const intervalMs = opts.intervalMs ?? this.flushMs;
    for (const [name, n] of [
      ['maxEvents', maxEvents],
      ['maxBytes', maxBytes],
      ['intervalMs', intervalMs],
    ] as const) {
      if (!Number.isInteger(n) || n < 1) {
        throw new RangeError(`frame log ${name} must be a positive integer, got ${n}`);
      }
    }
    const sub: Subscriber = {
      fn,
      seqFn,
      serverId: opts.serverId,
      cursor: start,
      maxEvents,
      maxBytes,
      intervalMs,
      lastPush: -Infinity,
    };
    this.subs.add(sub);
    if (opts.replay && this.seq > start && this.timer === undefined) {
      this.timer = setTimeout(() => this.tick(), 0);
      this.timer.unref();
    }
    return () => {
      this.subs.delete(sub);
    };
  }

  /** Push pending events to every subscriber now, whatever its interval. */
  flush(): void {
    this.tick(true);
  }

  /**
   * The timer: push to every subscriber whose interval has passed; if one still has events pending, come
   * back when its interval ends (or after flushMs, for events of the others meanwhile).
   */
  private tick(now = false): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const oldest = this.oldest();
    const t = Date.now();
    let wait = Infinity;
    for (const sub of [...this.subs]) {
      if (sub.cursor >= this.seq) continue;
      // 1 ms of slack: a timer may fire a little early. More than the interval left: the clock was set
      // back, push now.
      const left = sub.lastPush + sub.intervalMs - 1 - t;
      if (!now && left > 0 && left < sub.intervalMs) {
        wait = Math.min(wait, left);
        continue;
      }
      sub.lastPush = t;
      const from = Math.max(sub.cursor, oldest);
      const { seqs, skipped } = this.newest(from, sub);
      const missed = Math.max(0, oldest - sub.cursor) + skipped;
      sub.cursor = this.seq;
      if (seqs.length === 0 && missed === 0) continue;
      try {
        const counts = { missed, dropped: this.dropped, received: this.received };
        if (sub.seqFn) sub.seqFn({ seqs, ...counts });
        else sub.fn({ events: seqs.map((q) => this.at(q)), ...counts });
      } catch {
        // A failing subscriber must not stop the others or the server; it is dropped.
        this.subs.delete(sub);
      }
    }
    if (wait !== Infinity && this.timer === undefined) {
      this.timer = setTimeout(() => this.tick(), Math.min(this.flushMs, Math.ceil(wait) + 1));
      this.timer.unref();
    }
  }

  /**
   * The newest events after seq `after` (of the subscriber's server, if it has one) within its bounds,
   * oldest first (their seq numbers), and how many matching events before them are skipped.
   */
  private newest(after: number, sub: Subscriber): { seqs: number[]; skipped: number } {
    const seqs: number[] = [];
    let bytes = 0;
    let s = this.seq;
    for (; s > after; s--) {
      if (sub.serverId !== undefined && this.serverOf(s) !== sub.serverId) continue;
      const i = (s - 1) % this.capacity;
      const obj = this.objs[i];
      bytes +=
        obj === undefined
          ? (this.lens[i] as number)
          : obj.type === 'frame'
            ? obj.preview.length
            : OBJECT_EVENT_BYTES;
      if (seqs.length >= sub.maxEvents || (bytes > sub.maxBytes && seqs.length > 0)) break;
      seqs.push(s);
    }
    let skipped = 0;
    if (sub.serverId === undefined) skipped = Math.max(0, s - after);
    else for (; s > after; s--) if (this.serverOf(s) === sub.serverId) skipped++;
    return { seqs: seqs.reverse(), skipped };
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

function checkCapacity(capacity: number): void {
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_LOG_CAPACITY) {
    throw new RangeError(`frame log capacity must be 1..${MAX_LOG_CAPACITY}, got ${capacity}`);
  }
}

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
  const truncated = data.length > PREVIEW_BYTES;
  const raw = data.subarray(0, truncated ? PREVIEW_BYTES + 1 : data.length);
  return { preview: encodePreview(raw, encoding), previewEncoding: encoding, truncated };
}
