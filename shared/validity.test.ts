import { describe, expect, it } from 'vitest';
import { daysLeft } from './validity';

const DAY = 86_400_000;
describe('daysLeft (one rule for CLI and UI)', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  it('a fresh N-day certificate shows N, and 1 (not 0) on its last day', () => {
    expect(daysLeft(now + 825 * DAY, now)).toEqual({ expired: false, days: 825 });
    // Issued a few ms ago: still 825, the CLI used to print 824.
    expect(daysLeft(now + 825 * DAY - 5, now)).toEqual({ expired: false, days: 825 });
    expect(daysLeft(now + 1 * DAY - 1000, now)).toEqual({ expired: false, days: 1 });
    expect(daysLeft(now + 1, now)).toEqual({ expired: false, days: 1 });
  });
  it('expired: whole days since, 0 on the day', () => {
    expect(daysLeft(now, now)).toEqual({ expired: true, days: 0 });
    expect(daysLeft(now - DAY + 1, now)).toEqual({ expired: true, days: 0 });
    expect(daysLeft(new Date(now - 3 * DAY).toISOString(), now)).toEqual({
      expired: true,
      days: 3,
    });
  });
});
