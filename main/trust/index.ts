// Trust stores: one file per store behind one interface (see types.ts), picked from what is detected,
// like mkcert's TRUST_STORES. This file is the API the CLI, `ca show`, `cert issue` and the app call.
// Nothing here throws for a broken or missing store: a missing Java or certutil shows up as a state,
// so it can never block issuing certificates.
import { inputError, q } from '../../shared/errors';
import { TRUST_STATE_LABELS } from '../../shared/trust-labels';
import { javaStore } from './java';
import { macosStore } from './macos';
import { nssStore } from './nss';
import { systemLinuxStore, systemPrivilegedCommand, type PrivilegedCommand } from './system-linux';
import {
  STORE_IDS,
  type StoreChange,
  type StoreId,
  type StoreStatus,
  type TrustCa,
  type TrustContext,
  type TrustState,
  type TrustStore,
} from './types';
import { defaultContext } from './util';
import { windowsStore } from './windows';

export type {
  StoreChange,
  StoreId,
  StoreStatus,
  TrustCa,
  TrustContext,
  TrustState,
  TrustStore,
  TrustTarget,
  Runner,
  RunResult,
} from './types';
export { STORE_IDS } from './types';
export { defaultContext, defaultRunner } from './util';
export { systemPrivilegedCommand, type PrivilegedCommand } from './system-linux';

export const STORES: Record<StoreId, TrustStore> = {
  system: systemLinuxStore,
  nss: nssStore,
  java: javaStore,
  macos: macosStore,
  windows: windowsStore,
};

export interface TrustOptions {
  /** Explicit selection (--stores); default: every store detected on this machine. */
  stores?: StoreId[];
  /** Overrides of the real context (tests: temp HOME, temp root, fake runner). */
  context?: Partial<TrustContext>;
}

/**
 * Parse a `--stores` value: "system,nss,java" (repeatable, comma-separated, case-insensitive).
 * Unknown names are input errors naming the valid ones. An empty result means "default selection".
 */
export function parseStoreList(values: string[]): StoreId[] {
  const out: StoreId[] = [];
  for (const raw of values.flatMap((v) => v.split(','))) {
    const name = raw.trim().toLowerCase();
    if (!name) continue;
    if (!(STORE_IDS as readonly string[]).includes(name)) {
      throw inputError('UNKNOWN_STORE', 'select trust stores', `unknown store ${q(raw.trim())}`, {
        field: '--stores',
        value: raw,
        hint: `use a comma-separated list of: ${STORE_IDS.join(', ')}`,
      });
    }
    if (!out.includes(name as StoreId)) out.push(name as StoreId);
  }
  // "--stores ''" (an empty variable in a script) must never widen to "every store detected".
  if (values.length && !out.length) {
    throw inputError('UNKNOWN_STORE', 'select trust stores', 'no store named in "--stores"', {
      field: '--stores',
      value: values.join(','),
      hint: `name at least one of: ${STORE_IDS.join(', ')}; leave "--stores" out for every store detected`,
    });
  }
  return out;
}

/** Stores detected on this machine, probed in parallel (this runs on every `ca show`). */
export async function detectStores(ctx: TrustContext): Promise<StoreId[]> {
  const found = await Promise.all(
    STORE_IDS.map(async (id) => {
      try {
        return (await STORES[id].detect(ctx)) ? id : null;
      } catch {
        return null;
      }
    }),
  );
  return found.filter((x): x is StoreId => x !== null);
}

async function selected(opts: TrustOptions, ctx: TrustContext): Promise<StoreId[]> {
  return opts.stores?.length ? opts.stores : detectStores(ctx);
}

function crashed(id: StoreId, e: unknown): StoreStatus {
  return {
    store: id,
    label: STORES[id].label,
    state: 'error',
    detail: `unexpected failure: ${e instanceof Error ? e.message : String(e)}`,
  };
}

/** Status of every selected (default: detected) store, measured in parallel. Never throws. */
export async function trustStatusAll(ca: TrustCa, opts: TrustOptions = {}): Promise<StoreStatus[]> {
  const ctx = defaultContext(opts.context);
  const ids = await selected(opts, ctx);
  return Promise.all(
    ids.map(async (id) => {
      try {
        return await STORES[id].status(ca, ctx);
      } catch (e) {
        return crashed(id, e);
      }
    }),
  );
}

async function change(
  ca: TrustCa,
  opts: TrustOptions,
  op: 'install' | 'uninstall',
): Promise<StoreChange[]> {
  const ctx = defaultContext(opts.context);
  const ids = await selected(opts, ctx);
  // Stores are independent: change them in parallel. Each store serialises its own writes.
  return Promise.all(
    ids.map(async (id) => {
      try {
        return await STORES[id][op](ca, ctx);
      } catch (e) {
        return { ...crashed(id, e), changed: false };
      }
    }),
  );
}

/** Install our CA into every selected (default: detected) store. Idempotent. Never throws. */
export function trustInstall(ca: TrustCa, opts: TrustOptions = {}): Promise<StoreChange[]> {
  return change(ca, opts, 'install');
}

/** Remove our CA (by fingerprint) from every selected (default: detected) store. Idempotent. */
export function trustUninstall(ca: TrustCa, opts: TrustOptions = {}): Promise<StoreChange[]> {
  return change(ca, opts, 'uninstall');
}

/** The root command for the desktop app's OS prompt (pkexec) for the Linux system store. */
export function systemTrustElevation(
  ca: TrustCa,
  op: 'install' | 'uninstall',
  opts: TrustOptions = {},
): PrivilegedCommand | null {
  return systemPrivilegedCommand(ca, op, defaultContext(opts.context));
}

export function stateText(s: TrustState): string {
  return TRUST_STATE_LABELS[s];
}

/**
 * Short per-store lines for `ca show` and `trust status`:
 *   system  trusted          in /etc/ssl/certs/ca-certificates.crt
 *   nss     not trusted      missing from 1 of 2 NSS databases: ...
 *                            fix: wss-studio trust install --stores nss
 * With `targets`, each database/keychain of a store with more than one is listed under it.
 */
export function trustSummaryLines(
  statuses: StoreStatus[],
  opts: { targets?: boolean } = {},
): string[] {
  if (!statuses.length) return ['no trust store detected'];
  const pad = ' '.repeat(25);
  const lines: string[] = [];
  for (const s of statuses) {
    lines.push(`${s.store.padEnd(8)}${stateText(s.state).padEnd(17)}${s.detail}`);
    if (opts.targets && (s.targets?.length ?? 0) > 1) {
      for (const t of s.targets ?? []) {
        lines.push(
          `${pad}${stateText(t.state).padEnd(13)}${t.label}${t.detail ? `: ${t.detail}` : ''}`,
        );
      }
    }
    if (s.fix && s.state !== 'trusted') lines.push(`${pad}fix: ${s.fix}`);
    for (const w of s.warnings ?? []) lines.push(`${pad}warning: ${w}`);
  }
  return lines;
}

/**
 * Warnings for `cert issue` (warn, never fail): one line per detected store where the CA is not
 * trusted, naming the fix. Stores that are not present produce nothing.
 */
export function trustWarnings(statuses: StoreStatus[], cliName = 'wss-studio'): string[] {
  const bad = statuses.filter((s) => s.state !== 'trusted' && s.state !== 'not-present');
  if (!bad.length) return [];
  const out = bad.map((s) =>
    s.state === 'not-trusted'
      ? `the CA is not trusted by ${s.label}: ${s.detail}`
      : `cannot tell whether ${s.label} trusts the CA (${stateText(s.state)}): ${s.detail}`,
  );
  const fixes = [...new Set(bad.map((s) => s.fix).filter((f): f is string => Boolean(f)))];
  out.push(fixes.length ? `fix: ${fixes.join('  |  ')}` : `fix: ${cliName} trust install`);
  return out;
}

/** Whether an install/uninstall reached its goal for every store (the CLI exit code). */
export function changeSucceeded(results: StoreChange[], op: 'install' | 'uninstall'): boolean {
  const goal: TrustState = op === 'install' ? 'trusted' : 'not-trusted';
  return results.every(
    (r) => r.state === goal || (op === 'uninstall' && r.state === 'not-present'),
  );
}

/**
 * Everything `ca show` and `cert issue` need in one call (the CLI's trust-hooks): the summary lines,
 * the JSON per store, and the ids of detected stores that do not trust the CA. Never throws.
 */
export async function trustReport(
  ca: TrustCa,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ lines: string[]; json: StoreStatus[]; untrusted: StoreId[] }> {
  const statuses = await trustStatusAll(ca, { context: { env } });
  return {
    lines: trustSummaryLines(statuses),
    json: statuses,
    untrusted: statuses
      .filter((s) => s.state !== 'trusted' && s.state !== 'not-present')
      .map((s) => s.store),
  };
}
