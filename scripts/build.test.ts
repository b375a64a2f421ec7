// The build produces every entry package.json and electron-builder point at.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..');

describe('build outputs (made by vitest global setup / npm run build)', () => {
  it('has the Electron main and preload bundles package.json "main" needs, and the CLI bundle', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    const main = path.join(root, pkg.main);
    expect(pkg.main).toBe('dist/app/main.cjs');
    expect(fs.existsSync(main), `${main} missing: run "node scripts/build.mjs"`).toBe(true);
    expect(fs.readFileSync(main, 'utf8')).toMatch(/BrowserWindow/);
    expect(fs.readFileSync(path.join(root, 'dist', 'app', 'preload.cjs'), 'utf8')).toMatch(
      /contextBridge/,
    );
    expect(fs.existsSync(path.join(root, 'dist', 'cli.mjs'))).toBe(true);
    // built from the current sources, not left over from an older build
    const built = fs.statSync(main).mtimeMs;
    const src = fs.statSync(path.join(root, 'main', 'app', 'main.ts')).mtimeMs;
    expect(built).toBeGreaterThanOrEqual(src);
  });
});
