// Server definitions: the rules are shared/api.ts's ServerOptionsSchema (built from the pure predicates of
// shared/validation.ts), the one schema for requests and for settings.json entries. This module only checks
// a definition given to the manager directly with that same schema, fills the defaults (SERVER_DEFAULTS of
// shared/servers.ts) and refuses the one bad combination the schema cannot see (requireClientCert on ws).
import { randomBytes } from 'node:crypto';
import * as v from 'valibot';
import { fieldPath, ServerOptionsSchema } from '../../shared/api';
import { inputError, q } from '../../shared/errors';
import { SERVER_DEFAULTS } from '../../shared/servers';
import { isId } from '../../shared/validation';
import type { ServerDefinition, ServerDefinitionInput } from './types';

const idSchema = v.string('must be a string (the server id)');

/**
 * One entry of settings.json "servers": the API's own server options (the same rules server.add checks)
 * plus the id and the enabled flag the manager stores; normalizeDefinition() then fills the defaults.
 */
export const StoredServerSchema = v.strictObject({
  ...ServerOptionsSchema.entries,
  id: idSchema,
  enabled: v.optional(v.boolean('must be true or false')),
});

/** What the manager accepts from a caller: the stored shape with every field optional. */
const DefinitionInputSchema = v.strictObject({
  ...StoredServerSchema.entries,
  id: v.optional(idSchema),
});

/**
 * Check a definition given to the manager directly (the CLI, tests; requests arrive checked already) with
 * the shared schema. The error names the field and why, never the rejected value.
 */
export function checkDefinition(input: unknown): ServerDefinitionInput {
  const r = v.safeParse(DefinitionInputSchema, input, { abortEarly: true });
  if (r.success) return r.output;
  const issue = r.issues[0]!;
  const path = fieldPath(issue);
  const key = issue.path?.[0]?.key;
  const field = typeof key === 'string' ? key : 'definition';
  const unknownKey = issue.type === 'strict_object' && path !== '';
  return fail(
    field,
    unknownKey
      ? `${JSON.stringify(path)} is not a server field`
      : `${JSON.stringify(path || field)} ${issue.message}`,
    unknownKey
      ? `use only: ${Object.keys(DefinitionInputSchema.entries).join(', ')}`
      : `fix "${path || field}" and retry`,
  );
}

function fail(field: string, cause: string, hint: string): never {
  throw inputError('INVALID_SERVER', 'define echo server', cause, { field, hint });
}

/**
 * Check and complete a definition. `base` supplies current values for an update; an id is generated when
 * none is given.
 */
export function normalizeDefinition(input: unknown, base?: ServerDefinition): ServerDefinition {
  const i = { ...(base ?? {}), ...checkDefinition(input) };
  const scheme = i.scheme ?? 'ws';
  const requireClientCert = i.requireClientCert ?? SERVER_DEFAULTS.requireClientCert;
  if (requireClientCert && scheme !== 'wss')
    fail(
      'requireClientCert',
      'requireClientCert needs a wss server (a client certificate is sent inside TLS)',
      'use scheme "wss", or leave requireClientCert off',
    );
  // Ids are the engine's (server.add takes none): checked here for settings.json and direct callers.
  const id = i.id ?? `${scheme}-${randomBytes(3).toString('hex')}`;
  const shown = id.length <= 64 ? `${q(id)} ` : ''; // a short id is named; a huge one is not echoed
  if (!isId(id))
    fail('id', `id ${shown}must be 1-40 lower-case letters, digits or dashes`, 'e.g. "ws-main"');
  const { certId, clientCaFile } = i;
  return {
    id,
    name: i.name ?? `${scheme} echo`,
    scheme,
    host: i.host ?? SERVER_DEFAULTS.host,
    port: i.port ?? SERVER_DEFAULTS.port,
    path: i.path ?? SERVER_DEFAULTS.path,
    ...(typeof certId === 'string' ? { certId } : {}),
    protocols: [...new Set(i.protocols ?? [])],
    perMessageDeflate: i.perMessageDeflate ?? SERVER_DEFAULTS.perMessageDeflate,
    requireClientCert,
    ...(typeof clientCaFile === 'string' ? { clientCaFile } : {}),
    allowedOrigins: [...new Set(i.allowedOrigins ?? [])],
    maxPayload: i.maxPayload ?? SERVER_DEFAULTS.maxPayload,
    mode: i.mode ?? SERVER_DEFAULTS.mode,
    enabled: i.enabled ?? SERVER_DEFAULTS.enabled,
  };
}
