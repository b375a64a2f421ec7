// Builds the Node side (CLI, Electron main, preload) with esbuild and the renderer with Vite.
//   node scripts/build.mjs          everything
//   node scripts/build.mjs --node   only the Node bundles (what postinstall runs: fast, no renderer)
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
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

// Stale chunks from an earlier build would pile up: start the Node outputs clean.
for (const stale of ['dist/chunks', 'dist/app', 'dist/cli.cjs', 'dist/cli.cjs.map']) {
  rmSync(path.join(root, stale), { recursive: true, force: true });
}

// The CLI is ESM with code splitting: each command group is its own chunk, loaded only when that command
// runs, so "wss-studio cert issue" never parses the web server or the echo engine (fast start).
// The banner gives bundled CommonJS dependencies (ws) require/__dirname in ESM chunks.
await build({
  ...common,
  format: 'esm',
  splitting: true,
  entryPoints: { cli: 'main/cli/index.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  banner: {
    js: [
      "import { createRequire as __wssCreateRequire } from 'node:module';",
      "import { fileURLToPath as __wssFileURLToPath } from 'node:url';",
      "import { dirname as __wssDirname } from 'node:path';",
      'const require = __wssCreateRequire(import.meta.url);',
      'const __filename = __wssFileURLToPath(import.meta.url);',
      'const __dirname = __wssDirname(__filename);',
    ].join(' '),
  },
});

const entries = [
  { in: 'main/app/main.ts', out: 'dist/app/main.cjs' },
  { in: 'main/app/preload.ts', out: 'dist/app/preload.cjs' },
];

for (const e of entries) {
  // Electron loads CommonJS main/preload scripts.
  await build({ ...common, entryPoints: [e.in], outfile: e.out });
}

if (!onlyNode) {
  const { build: viteBuild } = await import('vite');
  await viteBuild({ configFile: path.join(root, 'renderer', 'vite.config.ts'), logLevel: 'warn' });
}
