#!/usr/bin/env node
// Entry for the `wss-studio` command. The CLI is bundled into dist/cli.mjs (+ dist/chunks/) at install
// time (scripts/postinstall.mjs) so that it starts fast and needs no TypeScript at run time.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const { pathToFileURL } = require('node:url');
const bundle = path.join(__dirname, '..', 'dist', 'cli.mjs');
if (!fs.existsSync(bundle)) {
  process.stderr.write(
    'error: failed to start wss-studio: ' +
      bundle +
      ' is missing\nhint: run "npm run build:node" in ' +
      path.join(__dirname, '..') +
      '\n',
  );
  process.exit(1);
}
// Node 22.1+ keeps V8's compiled code of the bundle between runs (in the OS temp folder, or
// $NODE_COMPILE_CACHE); Node 20 has no such API and skips this.
const mod = require('node:module');
if (typeof mod.enableCompileCache === 'function') mod.enableCompileCache();
import(pathToFileURL(bundle).href).then((m) => m.cliMain());
