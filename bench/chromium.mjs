// Headless Chromium for the benchmarks (bench/shells.mjs web-mode row, bench/page-load.mjs): Debian's
// /usr/bin/chromium through playwright-core, with the flags it needs here (root, closed network). The
// tests' copy of the flags is e2e/helpers/tools.ts CHROMIUM_ARGS (TypeScript; the benches are plain Node).
import { createRequire } from 'node:module';
import fs from 'node:fs';

const require = createRequire(import.meta.url);
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** playwright-core's chromium, or an error naming what to install (call it before any slow set-up). */
export function requireChromium() {
  let chromium;
  try {
    ({ chromium } = require('playwright-core'));
  } catch {
    throw new Error('playwright-core is missing: run "npm ci"');
  }
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install it with "apt-get install chromium"`);
  return chromium;
}

/** Launch it, or fail with the install hint. */
export function launchChromium(env) {
  return requireChromium().launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    env,
    timeout: 60_000,
  });
}
