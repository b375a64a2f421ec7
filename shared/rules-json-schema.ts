// The published JSON Schema of a rules file (schemas/rules.schema.json), converted from the same valibot
// schema the engine validates with. Checks JSON Schema cannot express (RE2 syntax, template syntax, "exactly
// one of") are left to the engine, which reports them with their path. Regenerate with
// `node scripts/rules-schema.mjs`; shared/rules.test.ts fails when the file is stale.
import { toJsonSchema } from '@valibot/to-json-schema';
import { RulesFileSchema } from './rules';

export function rulesJsonSchema(): Record<string, unknown> {
  const s = toJsonSchema(RulesFileSchema, { errorMode: 'ignore' }) as Record<string, unknown>;
  return {
    ...s,
    $id: 'https://wss-studio.local/schemas/rules.schema.json',
    title: 'WSS Studio rules file',
    description:
      'Rules (first match wins), on-connect scripts and periodic pushes of one WSS Studio echo server. See README "Rules, scripts, pushes, replay".',
  };
}
