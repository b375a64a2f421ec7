// The slabs the frame log copies payload captures into, recycled: a slab goes back to a short spare list once
// no ring slot refers to it, and the next slab is taken from there. Allocating a fresh slab for every
// 256 KiB of captures (outside the JS heap) made V8 run full GCs for the external memory it adds up to: at
// 64 KiB messages through the proxy, 117 full GCs where a bare pass-through had 9.

/** Bytes per slab: many small captures, or 63 of the largest (PREVIEW_BYTES + 1). */
export const SLAB_BYTES = 256 * 1024;
/** Slabs with no capture in use kept for reuse; any more are let go (memory stays bounded by the ring). */
export const SPARE_SLABS = 4;

export class CaptureSlabs {
  /** Slabs by id; undefined once let go (its id is reused). */
  private readonly bufs: (Buffer | undefined)[] = [];
  /** Ring slots referring to each slab. */
  private readonly refs: number[] = [];
  /** Bumped each time a slab id starts a new life: captures are identified by (id, generation, offset). */
  private readonly gens: number[] = [];
  private readonly spare: number[] = [];
  private readonly freeIds: number[] = [];
  /** The slab captures go into (never spare while current), and how much of it is used. */
  private cur = -1;
  private used = 0;
  /** The last capture: slab id (-1: none yet), offset and length. */
  lastId = -1;
  lastOff = 0;
  lastLen = 0;

  /** Copy the first `n` bytes of `data` into the current slab; the capture is lastId/lastOff/lastLen. */
  capture(data: Buffer, n: number): void {
    if (this.cur < 0 || this.used + n > SLAB_BYTES) this.next();
    const buf = this.bufs[this.cur] as Buffer;
    // set() of a whole typed array (or a plain view of its head) is a memmove with no C++ call.
    buf.set(n === data.length ? data : new Uint8Array(data.buffer, data.byteOffset, n), this.used);
    this.lastId = this.cur;
    this.lastOff = this.used;
    this.lastLen = n;
    this.used += n;
  }

  /** The slab with this id (valid while a slot refers to it). */
  buf(id: number): Buffer {
    return this.bufs[id] as Buffer;
  }

  /** Generation of the slab with this id: changes when it is reused for new captures. */
  gen(id: number): number {
    return this.gens[id] as number;
  }

  ref(id: number): void {
    (this.refs[id] as number)++;
  }

  unref(id: number): void {
    const n = (this.refs[id] as number) - 1;
    this.refs[id] = n;
    if (n === 0 && id !== this.cur) this.release(id);
  }

  /** Forget every reference (clear, resize); the caller then ref()s what it keeps and calls sweep(). */
  resetRefs(): void {
    this.refs.fill(0);
  }

  /** Release every slab no slot refers to (after resetRefs() and the ref()s). */
  sweep(): void {
    this.spare.length = 0;
    for (let id = 0; id < this.bufs.length; id++) {
      if (this.bufs[id] !== undefined && id !== this.cur && this.refs[id] === 0) this.release(id);
    }
  }

  /** Bytes of slabs held (in use, current and spare). */
  get bytes(): number {
    return this.bufs.reduce((n, b) => n + (b === undefined ? 0 : b.length), 0);
  }

  private next(): void {
    const old = this.cur;
    let id = this.spare.pop();
    if (id === undefined) {
      id = this.freeIds.pop() ?? this.bufs.length;
      this.bufs[id] = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.refs[id] = 0;
    }
    // A reused id keeps counting its generations, so no old (id, generation) pair comes back.
    this.gens[id] = (this.gens[id] ?? 0) + 1;
    this.cur = id;
    this.used = 0;
    if (old >= 0 && this.refs[old] === 0) this.release(old);
  }

  private release(id: number): void {
    if (this.spare.length < SPARE_SLABS) {
      this.spare.push(id);
      return;
    }
    this.bufs[id] = undefined;
    this.freeIds.push(id);
  }
}
