// `npm start`: the desktop app when the Electron binary is present, else web mode in the browser.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const b = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], {
  cwd: root,
  stdio: 'inherit',
});
if (b.status !== 0) process.exit(b.status ?? 1);

const hasElectron = existsSync(path.join(root, 'node_modules', 'electron', 'path.txt'));
const [cmd, args] = hasElectron
  ? [
      process.execPath,
      [path.join(root, 'node_modules', 'electron', 'cli.js'), root, ...process.argv.slice(2)],
    ]
  : [process.execPath, [path.join(root, 'bin', 'wss-studio.cjs'), 'ui', ...process.argv.slice(2)]];
if (!hasElectron) {
  console.log(
    'note: Electron binary not installed; starting web mode instead (same UI in your browser).',
  );
}
const child = spawn(cmd, args, { cwd: root, stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 0));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
