// Lists in settings.json (echo servers under "servers", proxies under "proxies", ...): each entry is checked
// with the API's own schema for that definition (shared/api.ts; no second copy of the rules here), then by the
// area's own completion (e.g. normalizeDefinition), exactly as a request would be.
//
// Policy for damage (a corrupt file is reported with its path and never overwritten silently):
// - settings.json that is not JSON, not an object, has an unknown "schema", or a list key that is not an
//   array: the area refuses to load with the file's path and the field (Store.readSettings / readSettingsList
//   throw STORE_CORRUPT); nothing is started from it and nothing is written over it.
// - one bad entry: skipped and reported (path, index, field, what is wrong); the other entries load and
//   start. The entry stays in the file byte for byte as written: writers append `skipped` raw entries back
//   (keepSkipped), so fixing it by hand brings it back on the next start.
import * as v from 'valibot';
import { failure, q, type WssError } from '../../shared/errors';
import { describeIssue } from './schemas';

/** An entry of a settings.json list that could not be used. */
export interface SkippedEntry {
  index: number;
  /** The entry exactly as read (written back unchanged). */
  raw: unknown;
  /** `"/home/u/.local/share/wss-studio/settings.json" servers[1]: "port" must be from 0 to 65535` */
  problem: string;
}

export interface SettingsList<T> {
  items: T[];
  skipped: SkippedEntry[];
}

const MAX_ENTRIES = 1000;

/**
 * Check the list `raw` read from `file` under `key`. `schema` is the API's input schema for one entry,
 * `complete` the area's own normalisation (throws a WssError naming the field). Entries without a string id
 * or with an id seen before are skipped too (ids address entries in every request).
 */
export function readSettingsList<S extends v.GenericSchema, T extends { id: string }>(
  file: string,
  key: string,
  raw: unknown,
  schema: S,
  complete: (entry: v.InferOutput<S>) => T,
): SettingsList<T> {
  const where = q(file);
  if (raw === undefined) return { items: [], skipped: [] };
  if (!Array.isArray(raw) || raw.length > MAX_ENTRIES) {
    throw failure(
      'STORE_CORRUPT',
      `read ${where}`,
      `${q(key)} must be an array of at most ${MAX_ENTRIES} entries`,
      `fix or remove the ${q(key)} key by hand; WSS Studio does not start anything from it and never overwrites it`,
    );
  }
  const items: T[] = [];
  const skipped: SkippedEntry[] = [];
  const seen = new Set<string>();
  raw.forEach((entry: unknown, index) => {
    const at = `${where} ${key}[${index}]`;
    const skip = (why: string) => skipped.push({ index, raw: entry, problem: `${at}: ${why}` });
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      return skip('the entry must be a JSON object');
    const r = v.safeParse(schema, entry, { abortEarly: true });
    if (!r.success) return skip(describeEntryIssue(r.issues[0]!));
    let item: T;
    try {
      item = complete(r.output);
    } catch (e) {
      const d = (e as { data?: { cause?: unknown } }).data;
      return skip(typeof d?.cause === 'string' ? d.cause : (e as Error).message);
    }
    if (seen.has(item.id))
      return skip(`the id ${JSON.stringify(item.id)} is used by an earlier entry`);
    seen.add(item.id);
    items.push(item);
  });
  return { items, skipped };
}

/** `"port" must be from 0 to 65535 (got 70000)`; an unknown key is named as such. */
function describeEntryIssue(issue: v.BaseIssue<unknown>): string {
  const key = issue.path?.at(-1)?.key;
  if (issue.type === 'strict_object' && typeof key === 'string')
    return issue.received === 'undefined'
      ? `${JSON.stringify(key)} is missing`
      : `${JSON.stringify(key)} is not a known field`;
  const got = issue.input;
  const shown =
    typeof got === 'number' ||
    typeof got === 'boolean' ||
    (typeof got === 'string' && got.length <= 64)
      ? ` (got ${typeof got === 'number' ? String(got) : JSON.stringify(got)})`
      : '';
  return describeIssue([issue]) + shown;
}

/** What a writer stores under the key: the live entries, then the skipped ones exactly as they were read. */
export function keepSkipped<T>(items: T[], skipped: readonly SkippedEntry[]): unknown[] {
  return [...items, ...skipped.map((s) => s.raw)];
}

/** The start-up report of skipped entries of one area (web mode and the CLI print it as a warning). */
export function skippedFailure(what: string, problems: readonly string[]): WssError | undefined {
  if (problems.length === 0) return undefined;
  return failure(
    'SETTINGS_ENTRY_SKIPPED',
    `load every ${what}`,
    problems.join('; '),
    'fix or remove those entries in the file by hand (they are kept as written), then restart',
  );
}

/** An area's skipped entries, or the one message saying why it did not load at all (for the UI). */
export function settingsProblems(load: () => string[]): string[] {
  try {
    return load();
  } catch (e) {
    return [(e as Error).message];
  }
}
