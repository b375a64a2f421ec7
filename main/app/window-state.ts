// Remembers the window's size and position in settings.json (key "window"), and never restores it off-screen.
import type { Store } from '../store';

export interface Bounds {
  x?: number;
  y?: number;
  width: number;
  height: number;
}
export const DEFAULT_BOUNDS: Bounds = { width: 1200, height: 800 };

/** Saved bounds clamped to sane sizes and dropped when they do not overlap any display's work area. */
export function sanitizeBounds(
  saved: unknown,
  workAreas: { x: number; y: number; width: number; height: number }[],
): Bounds {
  if (!saved || typeof saved !== 'object') return { ...DEFAULT_BOUNDS };
  const s = saved as Record<string, unknown>;
  const num = (v: unknown) =>
    typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : undefined;
  const width = Math.min(Math.max(num(s.width) ?? DEFAULT_BOUNDS.width, 900), 10000);
  const height = Math.min(Math.max(num(s.height) ?? DEFAULT_BOUNDS.height, 600), 10000);
  const x = num(s.x);
  const y = num(s.y);
  if (x === undefined || y === undefined) return { width, height };
  const visible = workAreas.some(
    (a) =>
      x < a.x + a.width - 50 && x + width > a.x + 50 && y >= a.y - 10 && y < a.y + a.height - 50,
  );
  return visible ? { x, y, width, height } : { width, height };
}

export function loadBounds(store: Store, workAreas: Parameters<typeof sanitizeBounds>[1]): Bounds {
  try {
    return sanitizeBounds(store.readSettings().window, workAreas);
  } catch {
    return { ...DEFAULT_BOUNDS };
  }
}

export function saveBounds(store: Store, b: Bounds): void {
  try {
    const s = store.readSettings();
    store.writeSettings({ ...s, window: { x: b.x, y: b.y, width: b.width, height: b.height } });
  } catch {
    // A corrupt settings.json is reported elsewhere and never overwritten here.
  }
}
