// Writes schemas/rules.schema.json from shared/rules.ts (the schema the engine validates with), so editors
// complete and check rules files: add "$schema": "./schemas/rules.schema.json" (or its path) to a rules file.
//   node scripts/rules-schema.mjs
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'wss-rules-schema-'));
try {
  const out = path.join(tmp, 'schema.mjs');
  await build({
    entryPoints: [path.join(root, 'shared/rules-json-schema.ts')],
    bundle: true,
    format: 'esm',
    platform: 'node',
    outfile: out,
    logLevel: 'warning',
  });
  const { rulesJsonSchema } = await import(pathToFileURL(out).href);
  mkdirSync(path.join(root, 'schemas'), { recursive: true });
  const file = path.join(root, 'schemas/rules.schema.json');
  // Formatted the way the repository's prettier check expects.
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(file)) ?? {};
  const text = await prettier.format(JSON.stringify(rulesJsonSchema()), {
    ...options,
    filepath: file,
  });
  writeFileSync(file, text);
  console.log('wrote schemas/rules.schema.json');
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
