import { afterEach, describe, expect, it, vi } from 'vitest';
import { CaptureSlabs, SLAB_BYTES, SPARE_SLABS } from './capture-slabs';
import { FrameLog, PREVIEW_BYTES } from './frame-log';

const BIG = PREVIEW_BYTES + 1; // what a truncated frame's capture takes

describe('capture slabs', () => {
  afterEach(() => vi.restoreAllMocks());

  it('a flood reuses the slabs the ring let go of: slabs allocated stay bounded by the capacity', () => {
    const alloc = vi.spyOn(Buffer, 'allocUnsafeSlow');
    const capacity = 1000;
    const log = new FrameLog({ capacity });
    const data = Buffer.alloc(1024, 0x61);
    for (let i = 0; i < 20_000; i++) {
      log.addFrame('s1', 1, 'in', 'text', data);
      log.addFrame('s1', 1, 'out', 'text', data, true); // the echo shares the capture
    }
    // The ring holds capacity/2 captures of 1 KiB; plus the current slab and the spares.
    const held = Math.ceil(((capacity / 2) * 1024) / SLAB_BYTES) + 1;
    const slabs = alloc.mock.calls.filter(([n]) => n === SLAB_BYTES).length;
    expect(slabs).toBeGreaterThan(0);
    expect(slabs).toBeLessThanOrEqual(held + SPARE_SLABS); // 79 without recycling
    expect(log.events().at(-1)).toMatchObject({ seq: 40_000, preview: 'a'.repeat(1024) });
  });

  it('a recycled slab never shows the preview of the capture it held before', () => {
    const log = new FrameLog({ capacity: 1 });
    const perSlab = Math.floor(SLAB_BYTES / BIG);
    log.addFrame('s1', 1, 'in', 'text', Buffer.alloc(5000, 0x41)); // 'A' at offset 0 of slab 0
    expect(log.events()[0]).toMatchObject({ preview: 'A'.repeat(PREVIEW_BYTES) }); // cached
    // Fill slab 0, then slab 1: the next capture goes to offset 0 of slab 0 again, reused.
    for (let i = 1; i < 2 * perSlab; i++)
      log.addFrame('s1', 1, 'in', 'text', Buffer.alloc(5000, 0x2e));
    log.addFrame('s1', 1, 'in', 'text', Buffer.alloc(5000, 0x42));
    expect(log.events()).toEqual([
      expect.objectContaining({ seq: 2 * perSlab + 1, preview: 'B'.repeat(PREVIEW_BYTES) }),
    ]);
  });

  it('clear() and resize() let go of the slabs no event refers to any more', () => {
    const log = new FrameLog({ capacity: 2000 });
    const slabs = (log as unknown as { captures: CaptureSlabs }).captures;
    for (let i = 0; i < 2000; i++) log.addFrame('s1', 1, 'in', 'binary', Buffer.alloc(5000, i));
    const full = slabs.bytes;
    expect(full).toBeGreaterThanOrEqual(2000 * BIG);
    log.resize(10);
    // 10 captures: at most two slabs (they may straddle), the current one and the spares.
    expect(slabs.bytes).toBeLessThanOrEqual((3 + SPARE_SLABS) * SLAB_BYTES);
    for (let i = 0; i < 2000; i++) log.addFrame('s1', 1, 'in', 'binary', Buffer.alloc(5000, i));
    log.resize(2000);
    for (let i = 0; i < 2000; i++) log.addFrame('s1', 1, 'in', 'binary', Buffer.alloc(5000, i));
    log.clear();
    expect(slabs.bytes).toBeLessThanOrEqual((1 + SPARE_SLABS) * SLAB_BYTES);
    // Events written after the clear read back their own bytes.
    log.addFrame('s1', 1, 'in', 'binary', Buffer.from([1, 2, 3]));
    expect(log.events()).toEqual([expect.objectContaining({ preview: 'AQID', length: 3 })]);
  });

  it('a capture is the head of the payload, cut at PREVIEW_BYTES + 1', () => {
    const c = new CaptureSlabs();
    const data = Buffer.alloc(10_000);
    for (let i = 0; i < data.length; i++) data[i] = i & 0xff;
    c.capture(data.subarray(100), BIG); // a view into a larger buffer, as ws hands out
    expect(c.buf(c.lastId).subarray(c.lastOff, c.lastOff + c.lastLen)).toEqual(
      data.subarray(100, 100 + BIG),
    );
  });
});
