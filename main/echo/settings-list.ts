// One list of definitions under a key of settings.json (echo servers under `servers`, proxies under
// `proxies`): read and checked the same way, so a bad entry is reported with its index and the fix, and
// never silently dropped or overwritten.
import { failure, isWssError } from '../../shared/errors';

export function readDefinitionList<T extends { id: string }>(
  raw: unknown,
  key: string,
  what: string,
  normalize: (item: unknown) => T,
): T[] {
  if (raw === undefined) return [];
  const action = `load ${what} definitions`;
  if (!Array.isArray(raw)) {
    throw failure(
      'INVALID_SETTINGS',
      action,
      `settings key "${key}" is not a list`,
      `fix or remove the "${key}" key in settings.json`,
    );
  }
  const seen = new Set<string>();
  return raw.map((item, i) => {
    let def: T;
    try {
      def = normalize(item);
    } catch (err) {
      throw failure(
        'INVALID_SETTINGS',
        action,
        `settings.json ${key}[${i}]: ${isWssError(err) ? err.data.cause : String(err)}`,
        'fix or remove that entry in settings.json',
      );
    }
    if (typeof (item as { id?: unknown } | null)?.id !== 'string' || seen.has(def.id)) {
      throw failure(
        'INVALID_SETTINGS',
        action,
        `settings.json ${key}[${i}] has a missing or duplicate id`,
        `give each ${what} a unique "id"`,
      );
    }
    seen.add(def.id);
    return def;
  });
}
