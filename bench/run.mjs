#!/usr/bin/env node
// `npm run bench`: every benchmark in turn, each printing its own table.
//   node bench/run.mjs [echo] [shells] [certs] [proxy] [rules]     (default: all five)
// Arguments after "--" go to each benchmark, e.g. "npm run bench -- shells -- --rounds 3".
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const ALL = ['echo', 'shells', 'certs', 'proxy', 'rules'];
const argv = process.argv.slice(2);
const cut = argv.indexOf('--');
const names = (cut >= 0 ? argv.slice(0, cut) : argv).filter(Boolean);
const pass = cut >= 0 ? argv.slice(cut + 1) : [];
const unknown = names.filter((n) => !ALL.includes(n));
if (unknown.length) {
  console.error(
    `error: failed to run benchmarks: unknown benchmark "${unknown[0]}"\nhint: choose from ${ALL.join(', ')}`,
  );
  process.exit(2);
}
let failed = 0;
for (const name of names.length ? names : ALL) {
  console.log(`\n## bench/${name}.mjs\n`);
  const r = spawnSync(process.execPath, [path.join(dir, `${name}.mjs`), ...pass], {
    stdio: 'inherit',
  });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
