// Vitest global setup: build the CLI bundle (and the renderer if it was never built) once, before any
// test file runs. Test files must not rebuild: scripts/build.mjs replaces dist/cli.cjs, which would break
// a binary another test file is running at that moment.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export default function setup(): void {
  const root = path.resolve(__dirname, '..', '..');
  const full = !existsSync(path.join(root, 'dist', 'renderer', 'index.html'));
  execFileSync(process.execPath, ['scripts/build.mjs', ...(full ? [] : ['--node'])], {
    cwd: root,
    stdio: 'inherit',
  });
}
