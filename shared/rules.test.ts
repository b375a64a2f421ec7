// The published JSON Schema is generated from the engine's schema and kept in sync; the example rules files
// are valid.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { checkRules, formatProblem } from './rules';
import { rulesJsonSchema } from './rules-json-schema';

const root = path.resolve(__dirname, '..');

describe('rules schema', () => {
  it('schemas/rules.schema.json matches shared/rules.ts (run "node scripts/rules-schema.mjs")', () => {
    const onDisk = JSON.parse(
      fs.readFileSync(path.join(root, 'schemas/rules.schema.json'), 'utf8'),
    );
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(rulesJsonSchema())));
    // Unknown fields are refused by editors too (strict objects).
    expect(JSON.stringify(onDisk)).toContain('"additionalProperties":false');
  });
  it.each(fs.readdirSync(path.join(root, 'examples/rules')))('examples/rules/%s is valid', (f) => {
    const r = checkRules(JSON.parse(fs.readFileSync(path.join(root, 'examples/rules', f), 'utf8')));
    expect(r.ok ? [] : r.problems.map(formatProblem)).toEqual([]);
  });
});
