// The build produces every entry package.json and electron-builder point at.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import Module from 'node:module';
import os from 'node:os';
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
    expect(fs.existsSync(path.join(root, 'dist', 'cli.cjs'))).toBe(true);
    // built from the current sources, not left over from an older build
    const built = fs.statSync(main).mtimeMs;
    const src = fs.statSync(path.join(root, 'main', 'app', 'main.ts')).mtimeMs;
    expect(built).toBeGreaterThanOrEqual(src);
  });

  // Node 20 has no compile cache of its own: the build leaves V8's code cache of a `cert issue` run beside
  // the bundle and bin/wss-studio.cjs hands it to V8 (a start-up cost, bench/certs).
  const nodeCaches =
    typeof (Module as { enableCompileCache?: unknown }).enableCompileCache === 'function';
  const bin = path.join(root, 'bin', 'wss-studio.cjs');
  const env = { ...process.env, WSS_STUDIO_CODE_CACHE: 'report' };

  it('ships a code cache that V8 accepts for the CLI bundle', () => {
    const r = spawnSync(process.execPath, [bin, '--version'], { env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(nodeCaches ? 'code cache: node' : 'code cache: accepted');
    if (!nodeCaches) expect(fs.existsSync(path.join(root, 'dist', 'cli.cjs.v8cache'))).toBe(true);
  });

  it('ignores a cache that does not match the bundle and runs the CLI anyway', () => {
    // A copy of bin/ and dist/cli.cjs whose cache is another build's: V8 rejects it, the command works.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wss-code-cache-test-'));
    try {
      fs.mkdirSync(path.join(tmp, 'bin'));
      fs.mkdirSync(path.join(tmp, 'dist'));
      fs.copyFileSync(bin, path.join(tmp, 'bin', 'wss-studio.cjs'));
      const bundle = fs.readFileSync(path.join(root, 'dist', 'cli.cjs'), 'utf8');
      fs.writeFileSync(path.join(tmp, 'dist', 'cli.cjs'), bundle + '\n// another build\n');
      fs.copyFileSync(
        path.join(root, 'dist', 'cli.cjs.v8cache'),
        path.join(tmp, 'dist', 'cli.cjs.v8cache'),
      );
      const r = spawnSync(
        process.execPath,
        [path.join(tmp, 'bin', 'wss-studio.cjs'), '--version'],
        {
          env,
          encoding: 'utf8',
        },
      );
      expect(r.status, r.stderr).toBe(0);
      // Node 22.1+: the bin uses Node's own cache and never reads the file.
      expect(r.stderr).toContain(nodeCaches ? 'code cache: node' : 'code cache: rejected');
      expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
