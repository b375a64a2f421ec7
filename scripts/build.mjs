// Builds the Node side (CLI, Electron main, preload) with esbuild and the renderer with Vite.
//   node scripts/build.mjs          everything
//   node scripts/build.mjs --node   only the Node bundles (what postinstall runs: fast, no renderer)
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
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

// Outputs of earlier builds (the ESM CLI and its chunks before it became one CommonJS file) would pile up or
// be loaded stale: start the Node outputs clean.
for (const stale of [
  'dist/chunks',
  'dist/app',
  'dist/cli.mjs',
  'dist/cli.mjs.map',
  'dist/cli.cjs',
  'dist/cli.cjs.map',
  'dist/cli.cjs.v8cache',
]) {
  rmSync(path.join(root, stale), { recursive: true, force: true });
}

// The CLI is one CommonJS file. Command groups are still loaded on demand: esbuild turns each
// `import('./cert')` into a lazily run module body, so "wss-studio cert issue" never runs the web server's
// or the echo engine's module code. CommonJS rather than ESM with chunks because Node 20's ES module loader
// (resolving, linking and the builtin facades of a dozen chunks) cost more than the work of `cert issue`.
const cli = await build({
  ...common,
  entryPoints: { cli: 'main/cli/index.ts' },
  outfile: 'dist/cli.cjs',
  metafile: true,
});
// bin/wss-studio.cjs runs the bundle as a vm script with a code cache, and Node 20 drops such a script's
// dynamic import() callback: every import() must be of bundled code (esbuild turns those into calls).
const dynamic = Object.values(cli.metafile.outputs)
  .flatMap((o) => o.imports)
  .filter((i) => i.kind === 'dynamic-import' && i.external);
if (dynamic.length) {
  console.error(
    `error: failed to build dist/cli.cjs: import() of ${dynamic.map((i) => `"${i.path}"`).join(', ')} is not bundled\nhint: import it statically (built-in modules) or bundle it`,
  );
  process.exit(1);
}
// bin/wss-studio.cjs reads the bundle as latin1 (cheaper than UTF-8): it must be ASCII, as esbuild writes it
// by default (charset: 'ascii' escapes every other character).
const bytes = readFileSync(path.join(root, 'dist', 'cli.cjs'));
const nonAscii = bytes.findIndex((b) => b > 0x7f);
if (nonAscii >= 0) {
  console.error(
    `error: failed to build dist/cli.cjs: byte ${nonAscii} is not ASCII\nhint: do not set esbuild's charset to utf8 for the CLI`,
  );
  process.exit(1);
}
// V8's compiled code for the bundle, made by a real run (scripts/code-cache.mjs) so that the functions a
// command uses are in it; bin/wss-studio.cjs hands it to V8 on Node 20 (Node 22+ has its own cache).
const cache = spawnSync(process.execPath, [path.join(root, 'scripts', 'code-cache.mjs')], {
  cwd: root,
  stdio: 'inherit',
});
if (cache.status !== 0) process.exit(cache.status ?? 1);

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
