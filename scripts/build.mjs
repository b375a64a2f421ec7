// Builds the Node side (CLI, Electron main, preload) with esbuild and the renderer with Vite.
//   node scripts/build.mjs          everything
//   node scripts/build.mjs --node   only the Node bundles (what postinstall runs: fast, no renderer)
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const onlyNode = process.argv.includes('--node');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  logLevel: 'warning',
  absWorkingDir: root,
  // electron is provided by the Electron runtime; never bundle it.
  external: ['electron'],
};

const entries = [
  { in: 'main/cli/index.ts', out: 'dist/cli.cjs' },
  { in: 'main/app/main.ts', out: 'dist/app/main.cjs' },
  { in: 'main/app/preload.ts', out: 'dist/app/preload.cjs' },
].filter((e) => existsSync(path.join(root, e.in)));

for (const e of entries) {
  await build({ ...common, entryPoints: [e.in], outfile: e.out });
}

if (!onlyNode) {
  const { build: viteBuild } = await import('vite');
  await viteBuild({ configFile: path.join(root, 'renderer', 'vite.config.ts'), logLevel: 'warn' });
}
