// Runs after `npm install` in this repository.
// 1. Builds everything (CLI, Electron main/preload, and the renderer) so `npx wss-studio ui` and the CLI
//    work at once. The renderer adds about 1-1.5 s to the install (Vite; measured on a loaded 2-core box),
//    cheaper than shipping a built copy that can drift from the sources. Without devDependencies
//    (`npm install --omit=dev`) Vite is missing: then only the Node bundles are built, and we say so.
// 2. Fetches the Electron binary (scripts/fetch-electron.mjs: progress, no time cap, one line on failure).
//    Electron's own install script is denied in package.json (`allowScripts.electron: false`) because where
//    its release host cannot be reached it fails the whole install. npm before 11.16 ignores allowScripts
//    and runs it anyway (silently, before this script); then the binary is already there or the install
//    already failed, and we only add a note.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { fetchElectron, npmIgnoresAllowScripts } from './fetch-electron.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

let hasVite = true;
try {
  createRequire(path.join(root, 'package.json')).resolve('vite');
} catch {
  hasVite = false;
}
const built = spawnSync(
  process.execPath,
  [path.join(root, 'scripts', 'build.mjs'), ...(hasVite ? [] : ['--node'])],
  { cwd: root, stdio: 'inherit' },
);
if (built.status !== 0) process.exit(built.status ?? 1);
if (!hasVite) {
  console.log(
    'note: the UI was not built (devDependencies not installed); web mode and the desktop app need "npm install" with devDependencies, then "npm run build".',
  );
}

const WORKS_NOW = 'The CLI ("npx wss-studio --help") and web mode ("npx wss-studio ui") work now.';
const electronDir = path.join(root, 'node_modules', 'electron');
if (existsSync(electronDir) && !existsSync(path.join(electronDir, 'path.txt'))) {
  if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
    console.log(
      `note: desktop shell not installed (ELECTRON_SKIP_BINARY_DOWNLOAD is set); get it later with "node scripts/fetch-electron.mjs". ${WORKS_NOW}`,
    );
  } else {
    const r = await fetchElectron();
    if (!r.ok) {
      console.log(
        `note: desktop shell unavailable: ${r.reason}. Retry with "node scripts/fetch-electron.mjs" where the host is reachable (or set ELECTRON_MIRROR). ${WORKS_NOW}`,
      );
    }
  }
} else if (npmIgnoresAllowScripts()) {
  console.log(
    'note: this npm is older than 11.16 and ignores "allowScripts", so Electron\'s own install script ran during this install; see README "Quick start" for why npm >= 11.16 is recommended.',
  );
}
