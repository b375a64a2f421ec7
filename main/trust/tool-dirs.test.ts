// Tools outside the app's PATH: a macOS app started from Finder has launchd's short PATH, so certutil from
// Homebrew is looked for in the usual prefixes too.
import { describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findOnPath, wellKnownToolDirs } from './util';

describe('findOnPath beyond PATH', () => {
  it('macOS looks in the Homebrew (Apple silicon and Intel) and MacPorts prefixes; Linux adds nothing', () => {
    expect(wellKnownToolDirs('darwin')).toEqual(
      expect.arrayContaining(['/opt/homebrew/bin', '/opt/homebrew/opt/nss/bin', '/usr/local/bin']),
    );
    expect(wellKnownToolDirs('linux')).toEqual([]);
  });

  it('finds a tool in an extra folder when PATH (as launchd sets it) lacks it, PATH first otherwise', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wss-tools-'));
    const onPath = mkdtempSync(path.join(tmpdir(), 'wss-tools-path-'));
    try {
      for (const d of [dir, onPath]) {
        writeFileSync(path.join(d, 'wss-test-certutil'), '#!/bin/sh\n');
        chmodSync(path.join(d, 'wss-test-certutil'), 0o755);
      }
      const launchd = {
        platform: 'darwin' as const,
        env: { PATH: '/usr/bin:/bin:/usr/sbin:/sbin' },
      };
      expect(findOnPath('wss-test-certutil', launchd, [dir])).toBe(
        path.join(dir, 'wss-test-certutil'),
      );
      expect(findOnPath('wss-test-certutil', launchd, [])).toBeNull();
      const withPath = { platform: 'darwin' as const, env: { PATH: onPath } };
      expect(findOnPath('wss-test-certutil', withPath, [dir])).toBe(
        path.join(onPath, 'wss-test-certutil'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(onPath, { recursive: true, force: true });
    }
  });
});
