// The engine as the benchmarks load it: bundled from TypeScript with esbuild into one CommonJS file (the
// children of bench/echo, rules, proxy and shells require it), and the ECDSA CA + localhost leaf they serve
// wss:// with.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/**
 * Bundle `input` (esbuild's `entryPoints` or `stdin`; a bare file name means bench/<name>) into `outfile`.
 * `electron` stays external: the bundle never loads it outside the app.
 */
export async function bundleEngine(input, outfile) {
  await build({
    ...(typeof input === 'string'
      ? { entryPoints: [path.join(root, 'bench', input)] }
      : { stdin: { resolveDir: root, loader: 'ts', ...input.stdin } }),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile,
    external: ['electron'],
    logLevel: 'warning',
  });
  return outfile;
}

/** A new ECDSA CA in `home` and a leaf for localhost and 127.0.0.1: the PEMs a wss:// server needs. */
export async function benchTls(engine, home) {
  const store = engine.openStore(home);
  const ca = await engine.createCa(store, { keyType: 'ecdsa' });
  const { leaf } = await engine.issueLeaf(store, {
    names: ['localhost', '127.0.0.1'],
    keyType: 'ecdsa',
  });
  return {
    certPem: leaf.certPem,
    keyPem: engine.readLeafKeyPem(store, leaf.id),
    caPem: ca.certPem,
  };
}
