// Makes dist/cli.cjs.v8cache: V8's compiled code of the CLI bundle after a real `cert issue` (the command
// whose start-up time bench/certs measures), so that Node 20 reads those functions instead of compiling
// them on every run (bin/wss-studio.cjs). Run by scripts/build.mjs after the bundle is written.
// The training run works in a temp folder: its own WSS_STUDIO_HOME, HOME and trust root, so it never
// touches the user's CA or trust stores. Node 22.1+ caches compiled code itself; there this does nothing.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import Module from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bin = path.join(root, 'bin', 'wss-studio.cjs');
const cacheFile = path.join(root, 'dist', 'cli.cjs.v8cache');

if (typeof Module.enableCompileCache !== 'function') {
  fs.rmSync(cacheFile, { force: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wss-code-cache-'));
  try {
    for (const d of ['home', 'user', 'trust-root', 'out']) fs.mkdirSync(path.join(tmp, d));
    const env = {
      ...process.env,
      WSS_STUDIO_HOME: path.join(tmp, 'home'),
      HOME: path.join(tmp, 'user'),
      WSS_STUDIO_TRUST_ROOT: path.join(tmp, 'trust-root'),
      JAVA_HOME: '',
    };
    const run = (args, extra = {}) => {
      const r = spawnSync(process.execPath, [bin, ...args], {
        env: { ...env, ...extra },
        encoding: 'utf8',
      });
      if (r.status !== 0) {
        throw new Error(`"wss-studio ${args.join(' ')}" exited ${r.status}: ${r.stderr}`);
      }
    };
    run(['ca', 'init']);
    run(['cert', 'issue', 'localhost', '--out-dir', path.join(tmp, 'out')], {
      WSS_STUDIO_CODE_CACHE: 'write',
    });
  } catch (e) {
    // The CLI works without the cache, only slower to start: say so, do not fail the install.
    console.warn(`warning: no code cache for the CLI (it will start slower): ${e.message}`);
    fs.rmSync(cacheFile, { force: true });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
