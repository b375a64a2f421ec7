// Server definition checks. `isX` predicates are pure and never throw; normalizeDefinition() merges input over
// explicit, bounded defaults and throws an input error naming the field and the fix.
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { isAbsolute } from 'node:path';
import * as v from 'valibot';
import { ServerOptionsSchema } from '../../shared/api';
import { inputError, q } from '../../shared/errors';
import type { EchoMode, Scheme, ServerDefinition } from './types';

export const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024;
export const MAX_MAX_PAYLOAD = 1024 * 1024 * 1024;
export const DEFAULT_HOST = '127.0.0.1';

const SCHEMES: readonly Scheme[] = ['ws', 'wss'];
const MODES: readonly EchoMode[] = ['echo', 'broadcast', 'silent'];

export const isId = (v: unknown): v is string =>
  typeof v === 'string' && /^[a-z0-9][a-z0-9-]{0,39}$/.test(v);
export const isScheme = (v: unknown): v is Scheme => SCHEMES.includes(v as Scheme);
export const isMode = (v: unknown): v is EchoMode => MODES.includes(v as EchoMode);
export const isPort = (v: unknown): v is number =>
  Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535;
/** An IP literal or a DNS name (letters, digits, dashes, dots). */
export const isHost = (v: unknown): v is string =>
  typeof v === 'string' &&
  v.length > 0 &&
  v.length <= 253 &&
  (isIP(v) !== 0 ||
    /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,62}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,62}[a-zA-Z0-9])?)*\.?$/.test(
      v,
    ));
export const isPath = (v: unknown): v is string =>
  typeof v === 'string' && v.length <= 200 && /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/.test(v);
/** RFC 7230 token: what Sec-WebSocket-Protocol values must be. */
export const isToken = (v: unknown): v is string =>
  typeof v === 'string' &&
  v.length > 0 &&
  v.length <= 100 &&
  /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(v);
/** A serialised origin as browsers send it: scheme://host[:port], or "null". */
export const isOrigin = (v: unknown): v is string =>
  typeof v === 'string' &&
  (v === 'null' || /^[a-z][a-z0-9+.-]*:\/\/(\[[0-9a-fA-F:.]+\]|[^\s/:?#[\]]+)(:\d{1,5})?$/.test(v));

/**
 * One entry of settings.json "servers": the API's own server options (the same rules server.add checks)
 * plus the id and the enabled flag the manager stores; normalizeDefinition() then runs as for a request.
 */
export const StoredServerSchema = v.strictObject({
  ...ServerOptionsSchema.entries,
  id: v.string('must be a string (the server id)'),
  enabled: v.optional(v.boolean('must be true or false')),
});

function bad(field: string, value: unknown, why: string, hint: string) {
  return inputError('INVALID_SERVER', 'define echo server', `${field} ${q(value)} ${why}`, {
    field,
    value,
    hint,
  });
}

function stringList(
  input: Record<string, unknown>,
  key: string,
  ok: (v: unknown) => boolean,
  max: number,
  hint: string,
): string[] {
  const v = input[key];
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > max)
    throw bad(key, v, `must be a list of at most ${max} entries`, hint);
  for (const item of v) if (!ok(item)) throw bad(key, item, 'is not valid', hint);
  return [...new Set(v as string[])];
}

/**
 * Validate and complete a definition. `base` supplies current values for an update; an id is generated
 * when none is given.
 */
export function normalizeDefinition(input: unknown, base?: ServerDefinition): ServerDefinition {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw bad(
      'definition',
      input,
      'must be an object',
      'pass fields such as {"scheme":"ws","port":8080}',
    );
  }
  const i = { ...(base ?? {}), ...(input as Record<string, unknown>) } as Record<string, unknown>;
  const known = new Set([
    'id',
    'name',
    'scheme',
    'host',
    'port',
    'path',
    'certId',
    'protocols',
    'perMessageDeflate',
    'requireClientCert',
    'clientCaFile',
    'allowedOrigins',
    'maxPayload',
    'mode',
    'enabled',
  ]);
  for (const k of Object.keys(i)) {
    if (!known.has(k))
      throw bad(k, i[k], 'is not a server field', `use only: ${[...known].join(', ')}`);
  }
  const scheme = i.scheme ?? 'ws';
  if (!isScheme(scheme)) throw bad('scheme', scheme, 'must be "ws" or "wss"', 'use "ws" or "wss"');
  const id = i.id ?? `${scheme}-${randomBytes(3).toString('hex')}`;
  if (!isId(id))
    throw bad('id', id, 'must be 1-40 lower-case letters, digits or dashes', 'e.g. "ws-main"');
  const name = i.name ?? `${scheme} echo`;
  if (typeof name !== 'string' || name.length > 80)
    throw bad('name', name, 'must be text of at most 80 characters', 'shorten the name');
  const host = i.host ?? DEFAULT_HOST;
  if (!isHost(host))
    throw bad(
      'host',
      host,
      'is not an IP address or host name',
      'use e.g. "127.0.0.1", "::1" or "0.0.0.0"',
    );
  const port = i.port ?? 0;
  if (!isPort(port))
    throw bad(
      'port',
      port,
      'must be a whole number from 0 to 65535',
      'use 0 for a free port, or e.g. 8080',
    );
  const path = i.path ?? '/';
  if (!isPath(path))
    throw bad(
      'path',
      path,
      'must start with "/" and contain only URL path characters',
      'e.g. "/" or "/echo"',
    );
  const certId = i.certId;
  if (
    certId !== undefined &&
    certId !== null &&
    (typeof certId !== 'string' || certId.length === 0 || certId.length > 100)
  ) {
    throw bad('certId', certId, 'is not a certificate id', 'see "wss-studio cert list"');
  }
  const protocols = stringList(
    i,
    'protocols',
    isToken,
    32,
    'subprotocols are tokens such as "chat.v1"',
  );
  const allowedOrigins = stringList(
    i,
    'allowedOrigins',
    isOrigin,
    64,
    'origins look like "https://app.test:8443"',
  );
  const perMessageDeflate = i.perMessageDeflate ?? false;
  if (typeof perMessageDeflate !== 'boolean')
    throw bad('perMessageDeflate', perMessageDeflate, 'must be true or false', 'use true or false');
  const requireClientCert = i.requireClientCert ?? false;
  if (typeof requireClientCert !== 'boolean')
    throw bad('requireClientCert', requireClientCert, 'must be true or false', 'use true or false');
  if (requireClientCert && scheme !== 'wss')
    throw bad(
      'requireClientCert',
      requireClientCert,
      'needs a wss server (a client certificate is sent inside TLS)',
      'use scheme "wss", or leave requireClientCert off',
    );
  const clientCaFile = i.clientCaFile;
  if (
    clientCaFile !== undefined &&
    clientCaFile !== null &&
    !(typeof clientCaFile === 'string' && isAbsolute(clientCaFile) && clientCaFile.length <= 4096)
  ) {
    throw bad(
      'clientCaFile',
      clientCaFile,
      'must be the absolute path of a PEM file',
      'e.g. "/home/me/ca.pem"; leave it out to trust client certificates from the WSS Studio CA',
    );
  }
  const maxPayload = i.maxPayload ?? DEFAULT_MAX_PAYLOAD;
  if (
    !Number.isInteger(maxPayload) ||
    (maxPayload as number) < 1 ||
    (maxPayload as number) > MAX_MAX_PAYLOAD
  ) {
    throw bad(
      'maxPayload',
      maxPayload,
      `must be a whole number of bytes from 1 to ${MAX_MAX_PAYLOAD}`,
      `default is ${DEFAULT_MAX_PAYLOAD} (16 MiB)`,
    );
  }
  const mode = i.mode ?? 'echo';
  if (!isMode(mode))
    throw bad(
      'mode',
      mode,
      'must be "echo", "broadcast" or "silent"',
      'use "echo", "broadcast" or "silent"',
    );
  const enabled = i.enabled ?? false;
  if (typeof enabled !== 'boolean')
    throw bad('enabled', enabled, 'must be true or false', 'use true or false');
  return {
    id,
    name,
    scheme,
    host,
    port,
    path,
    ...(typeof certId === 'string' ? { certId } : {}),
    protocols,
    perMessageDeflate,
    requireClientCert,
    ...(typeof clientCaFile === 'string' ? { clientCaFile } : {}),
    allowedOrigins,
    maxPayload: maxPayload as number,
    mode,
    enabled,
  };
}
