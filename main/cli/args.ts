// A small, strict argument parser: no dependency, so the CLI starts fast.
// Unknown flags and missing values are usage errors (exit 2) that name the flag.
import { inputError, q } from '../../shared/errors';

export type OptType = 'boolean' | 'string' | 'list';

export interface OptSpec {
  type: OptType;
  /** Short alias without the dash, e.g. 'h'. */
  short?: string;
  /** Shown in help, e.g. 'rsa|ecdsa'. */
  value?: string;
  help: string;
}

export type Parsed = {
  positionals: string[];
  opts: Record<string, string | boolean | string[] | undefined>;
};

export function parseArgs(argv: string[], spec: Record<string, OptSpec>, command: string): Parsed {
  const positionals: string[] = [];
  const opts: Parsed['opts'] = {};
  const byShort = new Map(
    Object.entries(spec)
      .filter(([, s]) => s.short)
      .map(([k, s]) => [s.short as string, k]),
  );
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
    } else {
      const long = byShort.get(arg.slice(1));
      if (!long) throw unknown(arg, command);
      name = long;
    }
    const s = spec[name];
    if (!s) throw unknown(arg, command);
    if (s.type === 'boolean') {
      if (inline !== undefined) {
        throw inputError('USAGE', `run ${q(command)}`, `option "--${name}" takes no value`, {
          field: `--${name}`,
          value: inline,
          hint: `write "--${name}" alone`,
        });
      }
      opts[name] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--'))) {
      throw inputError('USAGE', `run ${q(command)}`, `option "--${name}" needs a value`, {
        field: `--${name}`,
        hint: `write "--${name} ${s.value ?? 'VALUE'}"`,
      });
    }
    if (s.type === 'list') {
      const prev = (opts[name] as string[] | undefined) ?? [];
      opts[name] = [...prev, value];
    } else {
      opts[name] = value;
    }
  }
  return { positionals, opts };
}

function unknown(arg: string, command: string) {
  return inputError('USAGE', `run ${q(command)}`, `unknown option ${q(arg)}`, {
    field: arg,
    hint: `see "wss-studio ${command.replace(/^wss-studio /, '')} --help"`,
  });
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.opts[name];
  return typeof v === 'string' ? v : undefined;
}

export function bool(p: Parsed, name: string): boolean {
  return p.opts[name] === true;
}

export function list(p: Parsed, name: string): string[] {
  const v = p.opts[name];
  return Array.isArray(v) ? v : [];
}

/** Parse an integer option within bounds, or throw an input error that names the option and the range. */
export function intOpt(
  p: Parsed,
  name: string,
  min: number,
  max: number,
  command: string,
): number | undefined {
  const raw = str(p, name);
  if (raw === undefined) return undefined;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw inputError(
      'USAGE',
      `run ${q(command)}`,
      `option "--${name}" must be a whole number from ${min} to ${max}, got ${q(raw)}`,
      {
        field: `--${name}`,
        value: raw,
        hint: `pass e.g. "--${name} ${max}"`,
      },
    );
  }
  return n;
}
