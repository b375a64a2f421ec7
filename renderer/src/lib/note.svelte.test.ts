import { afterEach, expect, it, vi } from 'vitest';
import { Note } from './note.svelte';

afterEach(() => vi.useRealTimers());

it('a note fades after its time, an error stays until replaced', () => {
  vi.useFakeTimers();
  const n = new Note(1_000);
  n.show('Exported ca.pem to your downloads.');
  vi.advanceTimersByTime(999);
  expect(n.text).toBe('Exported ca.pem to your downloads.');
  vi.advanceTimersByTime(1);
  expect(n.text).toBe('');
  n.show('failed to export the CA: disk full', false);
  vi.advanceTimersByTime(10_000);
  expect(n.text).toBe('failed to export the CA: disk full');
  // A new message restarts the clock rather than being cut short by the old one.
  n.show('one');
  vi.advanceTimersByTime(600);
  n.show('two');
  vi.advanceTimersByTime(600);
  expect(n.text).toBe('two');
});
