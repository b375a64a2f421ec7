// `npm run test:electron`: builds, then runs e2e/*.electron.ts against the real Electron binary under a
// virtual display (xvfb-run) on Linux when there is no display. Fails loudly, naming what is missing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { electronBinaryPath } from './fetch-electron.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bin = electronBinaryPath();
if (!existsSync(bin)) {
  console.error(
    `error: failed to run test:electron: the Electron binary ${bin} is missing\nhint: run "node scripts/fetch-electron.mjs" (or "npm install" without ELECTRON_SKIP_BINARY_DOWNLOAD) where its release host is reachable`,
  );
  process.exit(1);
}

const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], {
  cwd: root,
  stdio: 'inherit',
});
if (build.status !== 0) process.exit(build.status ?? 1);

const vitest = [
  path.join(root, 'node_modules', 'vitest', 'vitest.mjs'),
  'run',
  '--config',
  'vitest.electron.config.ts',
];
let cmd = process.execPath;
let args = vitest;
if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
  if (spawnSync('xvfb-run', ['--help'], { stdio: 'ignore' }).error) {
    console.error(
      'error: failed to run test:electron: no display and no "xvfb-run"\nhint: install it with "sudo apt-get install xvfb", or run from a desktop session',
    );
    process.exit(1);
  }
  cmd = 'xvfb-run';
  args = ['-a', '-s', '-screen 0 1280x800x24', process.execPath, ...vitest];
}
const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
