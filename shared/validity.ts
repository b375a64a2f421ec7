// One rule for "how many days left" of a certificate, used by the CLI and the UI alike (they used to differ:
// the CLI floored, 824 for a fresh 825-day certificate, and the UI rounded, "0d" for a --days 1 one).
//
// Rule: a certificate that is still valid has the days it is valid for *started* days included, so one
// issued with --days N shows N at issue time and 1 on its last day; it never shows 0 while it still works.
// An expired one counts the whole days since it expired (0 = today).
const DAY_MS = 86_400_000;

export interface DaysLeft {
  expired: boolean;
  /** Valid: days left, at least 1. Expired: whole days since expiry, 0 on the day it expired. */
  days: number;
}

export function daysLeft(notAfter: string | number, now: number = Date.now()): DaysLeft {
  const t = typeof notAfter === 'number' ? notAfter : Date.parse(notAfter);
  const ms = t - now;
  if (ms > 0) return { expired: false, days: Math.ceil(ms / DAY_MS) };
  return { expired: true, days: Math.floor((now - t) / DAY_MS) };
}
