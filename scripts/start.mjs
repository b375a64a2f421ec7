// `npm start`: the desktop app when the Electron binary is present, else web mode in the browser. A desktop
// launch that dies in its first seconds (Ubuntu 24.04+ AppArmor sandbox abort, no display) is explained
// and falls back to web mode too (scripts/launch.mjs).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { electronBinaryPath } from './fetch-electron.mjs';
import { runWithFallback } from './launch.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const b = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], {
  cwd: root,
  stdio: 'inherit',
});
if (b.status !== 0) process.exit(b.status ?? 1);

const electronDir = path.join(root, 'node_modules', 'electron');
const pathTxt = path.join(electronDir, 'path.txt');
const args = process.argv.slice(2);
const web = [process.execPath, [path.join(root, 'bin', 'wss-studio.cjs'), 'ui', ...args]];
const children = [];
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => children.forEach((c) => c.exitCode === null && c.kill(sig)));
}

if (!existsSync(pathTxt)) {
  console.log(
    'note: Electron binary not installed ("node scripts/fetch-electron.mjs" gets it); starting web mode instead (same UI in your browser).',
  );
  const child = spawn(web[0], web[1], { cwd: root, stdio: 'inherit' });
  children.push(child);
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  const electronBinary = electronBinaryPath();
  const code = await runWithFallback({
    desktop: [process.execPath, [path.join(electronDir, 'cli.js'), root, ...args]],
    web,
    electronBinary,
    cwd: root,
    onChild: (c) => children.push(c),
  });
  process.exit(code);
}
