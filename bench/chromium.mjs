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

/**
 * Launch it, or fail with the install hint. `disableFeatures`: Chromium features to turn off besides the
 * ones playwright-core turns off. Chromium honours only the last --disable-features switch, so a second one
 * would switch playwright's list back on: the browser is launched once to read playwright's switch off its
 * command line, then again with that list plus ours.
 */
export async function launchChromium(env, { disableFeatures = [] } = {}) {
  const chromium = requireChromium();
  const launch = (extra) =>
    chromium.launch({
      executablePath: CHROMIUM,
      args: [...CHROMIUM_ARGS, ...extra],
      env,
      timeout: 60_000,
    });
  if (!disableFeatures.length) return launch([]);
  const tag = (n) => `--wss-bench-launch=${process.pid}-${Date.now()}-${n}`;
  const first = tag(1);
  const probe = await launch([first]);
  let theirs;
  try {
    theirs = commandLineOf(first)
      .filter((a) => a.startsWith('--disable-features='))
      .at(-1);
  } finally {
    await probe.close();
  }
  const merged = [
    ...new Set([
      ...(theirs?.slice('--disable-features='.length).split(',') ?? []),
      ...disableFeatures,
    ]),
  ].filter(Boolean);
  const second = tag(2);
  const browser = await launch([second, `--disable-features=${merged.join(',')}`]);
  const seen = commandLineOf(second).filter((a) => a.startsWith('--disable-features='));
  if (seen.at(-1) !== `--disable-features=${merged.join(',')}`) {
    await browser.close();
    throw new Error(`Chromium's last --disable-features is not the merged list: ${seen.join(' ')}`);
  }
  return browser;
}

/** The command line (argv) of the browser process launched with `tag` among its switches. */
function commandLineOf(tag) {
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (argv.includes(tag)) return argv;
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no Chromium process with ${tag}`);
}
