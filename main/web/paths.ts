// Where the built renderer is, whichever way the code runs: from the CLI bundle (dist/cli.cjs ->
// dist/renderer), from the Electron bundle (dist/app/main.cjs -> dist/renderer) or from source under
// vitest (main/web -> ../../dist/renderer). WSS_STUDIO_RENDERER_DIR overrides (tests, packagers).
import { existsSync } from 'node:fs';
import path from 'node:path';

export function rendererDirCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  const out: string[] = [];
  if (env.WSS_STUDIO_RENDERER_DIR) out.push(path.resolve(env.WSS_STUDIO_RENDERER_DIR));
  out.push(
    path.join(here, 'renderer'),
    path.join(here, '..', 'renderer'),
    path.join(here, '..', '..', 'dist', 'renderer'),
  );
  return out;
}

/** The first candidate holding index.html, else the most likely one (so the error names a real path). */
export function findRendererDir(env: NodeJS.ProcessEnv = process.env): {
  dir: string;
  built: boolean;
} {
  if (env.WSS_STUDIO_RENDERER_DIR) {
    // An explicit folder is used as given, never silently swapped for another build.
    const dir = path.resolve(env.WSS_STUDIO_RENDERER_DIR);
    return { dir, built: existsSync(path.join(dir, 'index.html')) };
  }
  const c = rendererDirCandidates(env);
  const hit = c.find((d) => existsSync(path.join(d, 'index.html')));
  if (hit) return { dir: hit, built: true };
  // Not built yet: name the dist/renderer the build would create.
  const guess =
    c.find((d) => path.basename(path.dirname(d)) === 'dist' && existsSync(path.dirname(d))) ??
    (c[0] as string);
  return { dir: guess, built: false };
}
