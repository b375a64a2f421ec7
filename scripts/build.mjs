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

// Node's built-in modules reach the CLI's chunks through require(), not ESM import: an ESM import of a
// built-in builds a module facade by reading every export, which runs the lazy getters (`import fs from
// 'node:fs'` loaded fs's stream classes; node:crypto and node:util theirs), a few ms of every command.
const builtinsViaRequire = {
  name: 'builtins-via-require',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (a) =>
      a.kind === 'import-statement' ? { path: a.path, namespace: 'builtin' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (a) => ({
      contents: `module.exports = require(${JSON.stringify(a.path)});`,
      loader: 'js',
    }));
  },
};

// The CLI is ESM with code splitting: each command group is its own chunk, loaded only when that command
// runs, so "wss-studio cert issue" never parses the web server or the echo engine (fast start).
// The banner gives the chunks require (built-ins, bundled CommonJS dependencies such as ws) and
// __filename/__dirname.
await build({
  ...common,
  format: 'esm',
  splitting: true,
  entryPoints: { cli: 'main/cli/index.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  plugins: [builtinsViaRequire],
  banner: {
    // process.getBuiltinModule (Node 20.16+, 22.3+; package.json's engines need 20.19 or 22.12) rather
    // than ESM imports of node:module, node:url and node:path in every chunk (see builtinsViaRequire).
    js: [
      "const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);",
      "const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url);",
      "const __dirname = process.getBuiltinModule('node:path').dirname(__filename);",
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
