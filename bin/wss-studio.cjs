#!/usr/bin/env node
// Entry for the `wss-studio` command. The CLI is bundled into one CommonJS file, dist/cli.cjs, at install
// time (scripts/postinstall.mjs) so that it starts fast and needs no TypeScript at run time.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const Module = require('node:module');

// `proxy` and `ui` (whose UI can front servers) run the proxy for as long as the user keeps them, in a Node
// started with V8 heap flags: without them a 64 KiB WebSocket flood through the proxy starts a full GC
// every ~100 messages (main/proxy/heap.ts says why). Heap flags only act when V8 starts, and NODE_OPTIONS
// does not take them, so this launcher starts the command again in a Node that has them (a user's own
// --initial-old-space-size is kept) and passes on its signals and exit code. e2e/proxy-cli.test.ts checks
// that these are main/proxy/heap.ts's PROXY_V8_FLAGS.
const HEAP_FLAGS = ['--initial-old-space-size=64'];
const HEAP_FLAG = /^--initial[-_]old[-_]space[-_]size(=|$)/;
const LAUNCHED = 'WSS_STUDIO_LAUNCHED_WITH_HEAP_FLAGS';
if (
  (process.argv[2] === 'proxy' || process.argv[2] === 'ui') &&
  !process.execArgv.some((a) => HEAP_FLAG.test(a)) &&
  !process.env[LAUNCHED]
) {
  const child = require('node:child_process').spawn(
    process.execPath,
    [...process.execArgv, ...HEAP_FLAGS, __filename, ...process.argv.slice(2)],
    // The IPC channel is only there to close: if this launcher dies without passing a signal on (SIGKILL),
    // the command sees 'disconnect' and stops as on Ctrl-C instead of running on unowned.
    { stdio: ['inherit', 'inherit', 'inherit', 'ipc'], env: { ...process.env, [LAUNCHED]: '1' } },
  );
  // Ctrl-C in a terminal reaches both processes (one process group); a signal sent to this pid reaches
  // only us. So every signal is passed on, and the command counts two SIGINTs within 0.5 s as one press
  // (main/cli/index.ts). On Windows the console delivers Ctrl-C to both, and kill() would not interrupt.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      if (process.platform !== 'win32') child.kill(sig);
    });
  }
  child.on('error', (e) => {
    process.stderr.write(`error: failed to start wss-studio ${process.argv[2]}: ${e.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
  return;
}

const bundle = path.join(__dirname, '..', 'dist', 'cli.cjs');
const nodeCaches = typeof Module.enableCompileCache === 'function';
let source;
try {
  // Node 22.1+ reads the bundle itself (require). On Node 20 we read it for V8: the build keeps it ASCII
  // (esbuild escapes the rest; scripts/build.mjs checks it), and latin1 is the cheapest exact decoding.
  if (nodeCaches) fs.accessSync(bundle, fs.constants.R_OK);
  else source = fs.readFileSync(bundle, 'latin1');
} catch (e) {
  process.stderr.write(
    'error: failed to start wss-studio: cannot read ' +
      bundle +
      ' (' +
      (e && e.code ? e.code : String(e)) +
      ')\nhint: run "npm run build:node" in ' +
      path.join(__dirname, '..') +
      '\n',
  );
  process.exit(1);
}

/**
 * Run the bundle as a CommonJS module. Node 22.1+ keeps V8's compiled code between runs itself
 * (module.enableCompileCache). Node 20 has no such API, so the build leaves V8's code cache of a real run
 * beside the bundle (dist/cli.cjs.v8cache, scripts/code-cache.mjs) and we hand it to V8 here: the command's
 * functions are then read, not compiled. V8 checks the cache against the source and its own version and
 * flags, and rejects (ignores) one that does not match, so a stale or foreign cache only costs speed.
 * WSS_STUDIO_CODE_CACHE=write (the build's training run) writes the cache at exit; =report prints whether
 * V8 took it (a test checks that the shipped cache is accepted).
 * The bundle must not call import() on anything it does not bundle (Node 20 loses a vm script's dynamic
 * import callback when the script comes from a code cache): scripts/build.mjs fails the build if it does.
 */
const load = (file, text) => {
  const mode = process.env.WSS_STUDIO_CODE_CACHE;
  if (nodeCaches) {
    Module.enableCompileCache();
    if (mode === 'report') process.stderr.write('code cache: node\n');
    return require(file);
  }
  const vm = require('node:vm');
  const cacheFile = file + '.v8cache';
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    // no cache: compile as usual
  }
  const script = new vm.Script(Module.wrap(text), { filename: file, cachedData });
  const m = new Module(file, module);
  m.filename = file;
  m.paths = Module._nodeModulePaths(path.dirname(file));
  script
    .runInThisContext()
    .call(m.exports, m.exports, Module.createRequire(file), m, file, path.dirname(file));
  m.loaded = true;
  if (mode === 'report') {
    const state = !cachedData ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted';
    process.stderr.write('code cache: ' + state + '\n');
  } else if (mode === 'write') {
    process.once('exit', () => fs.writeFileSync(cacheFile, script.createCachedData()));
  }
  return m.exports;
};

load(bundle, source).cliMain();
