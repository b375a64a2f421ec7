// Trust stores: one file per store behind one interface (see types.ts), picked from what is detected,
// like mkcert's TRUST_STORES. This file is the API the CLI, `ca show`, `cert issue` and the app call.
// Nothing here throws for a broken or missing store: a missing Java or certutil shows up as a state,
// so it can never block issuing certificates.
import { inputError, q } from '../../shared/errors';
import { TRUST_STATE_LABELS } from '../../shared/trust-labels';
import { dropTrustCache, readTrustCache, storeInputs, writeTrustCache } from './cache';
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
  /**
   * The trust-state cache (state folder's trust-cache.json, cache.ts): a real measurement rewrites its
   * entries, install/uninstall drop them. Only trustUntrusted (cert issue's warning) answers from it.
   */
  cacheFile?: string;
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

async function measureOne(id: StoreId, ca: TrustCa, ctx: TrustContext): Promise<StoreStatus> {
  try {
    return await STORES[id].status(ca, ctx);
  } catch (e) {
    return crashed(id, e);
  }
}

/** Status of every selected (default: detected) store, measured in parallel. Never throws. */
export async function trustStatusAll(ca: TrustCa, opts: TrustOptions = {}): Promise<StoreStatus[]> {
  const ctx = defaultContext(opts.context);
  const ids = await selected(opts, ctx);
  // Keys before measuring: a store that changes meanwhile gets a stale key, never a wrong state.
  const keys = opts.cacheFile ? ids.map((id) => storeInputs(id, ca, ctx)) : [];
  const statuses = await Promise.all(ids.map((id) => measureOne(id, ca, ctx)));
  if (opts.cacheFile) {
    writeTrustCache(
      opts.cacheFile,
      statuses.map((s, i) => ({ store: s.store, inputs: keys[i] ?? null, state: s.state })),
    );
  }
  return statuses;
}

/**
 * The state of every detected store, from the cache (opts.cacheFile) where a store's inputs are unchanged,
 * measured (and recorded) otherwise. Detection always runs (file checks only). For `cert issue`'s warning;
 * everything that shows or changes trust measures for real. Never throws.
 */
export async function trustStatesCached(
  ca: TrustCa,
  opts: TrustOptions & { cacheFile: string },
): Promise<{ store: StoreId; state: TrustState }[]> {
  const ctx = defaultContext(opts.context);
  const ids = await selected(opts, ctx);
  const cached = readTrustCache(opts.cacheFile);
  const fresh: { store: StoreId; inputs: string | null; state: TrustState }[] = [];
  const states = await Promise.all(
    ids.map(async (store) => {
      const inputs = storeInputs(store, ca, ctx);
      const hit = inputs && cached.find((e) => e.store === store && e.inputs === inputs);
      if (hit) return { store, state: hit.state };
      const { state } = await measureOne(store, ca, ctx);
      fresh.push({ store, inputs, state });
      return { store, state };
    }),
  );
  if (fresh.length) writeTrustCache(opts.cacheFile, fresh);
  return states;
}

async function change(
  ca: TrustCa,
  opts: TrustOptions,
  op: 'install' | 'uninstall',
): Promise<StoreChange[]> {
  const ctx = defaultContext(opts.context);
  const ids = await selected(opts, ctx);
  // Stores are independent: change them in parallel. Each store serialises its own writes.
  const out = await Promise.all(
    ids.map(async (id) => {
      try {
        return await STORES[id][op](ca, ctx);
      } catch (e) {
        return { ...crashed(id, e), changed: false };
      }
    }),
  );
  // Changed stores have new inputs anyway; dropping their entries also covers a change a stamp cannot see.
  if (opts.cacheFile) dropTrustCache(opts.cacheFile, ids);
  return out;
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
  cacheFile?: string,
): Promise<{ lines: string[]; json: StoreStatus[]; untrusted: StoreId[] }> {
  const statuses = await trustStatusAll(ca, {
    context: { env },
    ...(cacheFile ? { cacheFile } : {}),
  });
  return {
    lines: trustSummaryLines(statuses),
    json: statuses,
    untrusted: untrustedIds(statuses),
  };
}

function untrustedIds(states: { store: StoreId; state: TrustState }[]): StoreId[] {
  return states
    .filter((s) => s.state !== 'trusted' && s.state !== 'not-present')
    .map((s) => s.store);
}

/**
 * `cert issue`'s warning: the detected stores that do not trust the CA, answered from the trust-state cache
 * when nothing the measurement reads has changed (trustStatesCached). Same ids as trustReport's `untrusted`.
 */
export async function trustUntrusted(
  ca: TrustCa,
  env: NodeJS.ProcessEnv,
  cacheFile: string,
): Promise<StoreId[]> {
  return untrustedIds(await trustStatesCached(ca, { context: { env }, cacheFile }));
}
