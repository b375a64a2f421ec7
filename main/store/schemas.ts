// Shapes of the JSON files the store reads back (files read from disk are input too, validated like any other).
// Same valibot style as shared/api.ts; a file that parses but has the wrong shape is reported with its
// path, the field and what is wrong, never as a raw TypeError.
import * as v from 'valibot';

const text = (max = 4096) =>
  v.pipe(v.string('must be a string'), v.maxLength(max, `must be at most ${max} characters`));
const KeyType = v.picklist(['rsa', 'ecdsa'], 'must be "rsa" or "ecdsa"');
const bool = v.boolean('must be true or false');

/** store.json: the layout version. Only the version is read here; its value is checked by the caller. */
export const StoreMetaSchema = v.object(
  { schema: v.number('must be a number (the layout version)') },
  'must be a JSON object',
);

/**
 * settings.json: one key per area, each checked by its area (main/store/settings.ts); here only that it is an
 * object in the layout this build reads.
 */
export const SettingsSchema = v.pipe(
  v.unknown(),
  // valibot's object schemas accept arrays (typeof "object"): refuse them first.
  v.check((x) => !Array.isArray(x), 'must be a JSON object'),
  v.looseObject(
    { schema: v.optional(v.literal(1, 'must be 1 (the settings layout this build reads)')) },
    'must be a JSON object',
  ),
);

/** ca/ca.json */
export const CaMetaSchema = v.object(
  {
    schema: v.literal(1, 'must be 1'),
    keyType: KeyType,
    constrained: bool,
    permitted: v.array(text(300), 'must be an array of names and ranges'),
    source: v.picklist(['created', 'mkcert'], 'must be "created" or "mkcert"'),
    createdAt: text(64),
    importedFrom: v.optional(text()),
  },
  'must be a JSON object',
);
export type CaMeta = v.InferOutput<typeof CaMetaSchema>;

/** certs/<id>/meta.json */
export const LeafMetaSchema = v.object(
  {
    schema: v.literal(1, 'must be 1'),
    id: text(128),
    names: v.pipe(
      v.array(text(2048), 'must be an array of names'),
      v.minLength(1, 'must list at least one name'),
    ),
    keyType: KeyType,
    client: bool,
    days: v.pipe(v.number('must be a number'), v.integer('must be a whole number')),
    caFingerprint256: text(128),
    createdAt: text(64),
    renewedAt: v.optional(text(64)),
  },
  'must be a JSON object',
);
export type LeafMeta = v.InferOutput<typeof LeafMetaSchema>;

/**
 * trust-cache.json: the last measured trust state per store (main/trust/cache.ts), for the "not trusted by"
 * warning of `cert issue`. `inputs` is a SHA-256 over the CA fingerprint and everything the measurement reads;
 * a file that does not fit is ignored and rewritten (it is a cache: nothing is lost).
 */
export const TrustCacheSchema = v.object(
  {
    schema: v.literal(1, 'must be 1'),
    entries: v.pipe(
      v.array(
        v.object(
          {
            store: v.picklist(
              ['system', 'nss', 'java', 'macos', 'windows'],
              'must be a trust store id',
            ),
            inputs: v.pipe(text(64), v.regex(/^[0-9a-f]{64}$/, 'must be 64 hex digits')),
            state: v.picklist(
              [
                'trusted',
                'not-trusted',
                'not-present',
                'tool-missing',
                'needs-permission',
                'error',
              ],
              'must be a trust state',
            ),
          },
          'must be a JSON object',
        ),
        'must be an array',
      ),
      v.maxLength(16, 'must have at most 16 entries'),
    ),
  },
  'must be a JSON object',
);
export type TrustCache = v.InferOutput<typeof TrustCacheSchema>;

/** The first problem as `"names" must be an array of names` (field path as in shared/api.ts). */
export function describeIssue(issues: readonly v.BaseIssue<unknown>[]): string {
  const issue = issues[0];
  if (!issue) return 'the content is not what was expected';
  let field = '';
  for (const item of issue.path ?? []) {
    const key = (item as { key?: unknown }).key;
    if (typeof key === 'number') field += `[${key}]`;
    else if (typeof key === 'string') field += field ? `.${key}` : key;
  }
  if (!field) return `the file ${issue.message}`;
  // valibot reports a missing key with the object's own message: say what happened instead.
  if (issue.received === 'undefined' && issue.type === 'object')
    return `${JSON.stringify(field)} is missing`;
  return `${JSON.stringify(field)} ${issue.message}`;
}
