// The renderer's copy helper: in the desktop app it goes through the native app.copy request (the window's
// session denies the page's own clipboard permission, see e2e/app-bundle.test.ts); in web mode, and when
// the native copy says no, the page's Clipboard API.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { copyText } from '../renderer/src/lib/clipboard';

const writeText = vi.fn(async (_t: string) => {});
vi.stubGlobal('navigator', { clipboard: { writeText } });
afterEach(() => writeText.mockClear());

function bridge(copied: boolean) {
  const calls: [string, unknown][] = [];
  const requests = {
    'app.copy': async (input: unknown) => {
      calls.push(['app.copy', input]);
      return { ok: true, result: { copied } };
    },
  };
  return { calls, g: { wssStudio: { requests, subscribe: () => () => {} } } };
}

describe('copyText', () => {
  it('desktop app: copies through app.copy and never touches navigator.clipboard', async () => {
    const b = bridge(true);
    expect(await copyText('-----BEGIN CERTIFICATE-----', b.g)).toBe(true);
    expect(b.calls).toEqual([['app.copy', { text: '-----BEGIN CERTIFICATE-----' }]]);
    expect(writeText).not.toHaveBeenCalled();
  });

  it('web mode (no bridge) or a native copy that failed: the Clipboard API', async () => {
    expect(await copyText('a', {})).toBe(true);
    const b = bridge(false);
    expect(await copyText('b', b.g)).toBe(true);
    expect(writeText.mock.calls.map((c) => c[0])).toEqual(['a', 'b']);
  });
});
