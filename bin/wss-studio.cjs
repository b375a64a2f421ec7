#!/usr/bin/env node
// Entry for the `wss-studio` command. The CLI is bundled into one CommonJS file, dist/cli.cjs, at install
// time (scripts/postinstall.mjs) so that it starts fast and needs no TypeScript at run time.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const Module = require('node:module');

const bundle = path.join(__dirname, '..', 'dist', 'cli.cjs');
let source;
try {
  // The build keeps the bundle ASCII (esbuild escapes the rest; scripts/build.mjs checks it), and latin1 is
  // the cheapest exact decoding of ASCII.
  source = fs.readFileSync(bundle, 'latin1');
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
  if (typeof Module.enableCompileCache === 'function') {
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
