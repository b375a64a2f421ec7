// Runs after `npm install` in this repository.
// 1. Bundles the CLI so `wss-studio` works at once (no build step by hand).
// 2. Fetches the Electron binary. Electron's own install script is denied in package.json
//    (`allowScripts.electron: false`) on purpose: where its release host cannot be reached it fails
//    the whole install. We run it here instead and turn a failure into one clear line, so the CLI
//    and web mode still install and work.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

const built = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--node'], {
  cwd: root,
  stdio: 'inherit',
});
if (built.status !== 0) process.exit(built.status ?? 1);

const electronDir = path.join(root, 'node_modules', 'electron');
if (existsSync(electronDir) && !existsSync(path.join(electronDir, 'path.txt'))) {
  let ok = false;
  if (!process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
    const r = spawnSync(process.execPath, [path.join(electronDir, 'install.js')], {
      cwd: electronDir,
      stdio: 'ignore',
      timeout: 180_000,
    });
    ok = r.status === 0 && existsSync(path.join(electronDir, 'path.txt'));
  }
  if (!ok) {
    console.log(
      'note: desktop shell unavailable (Electron binary not downloaded); get it with "node node_modules/electron/install.js" where its release host is reachable. CLI ("npx wss-studio --help") and web mode ("npx wss-studio ui") work now.',
    );
  }
}
