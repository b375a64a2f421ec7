// CLI commands for "wss-studio trust ...": show, install and remove the CA in the stores that decide
// trust. Status is measured from each store on every run. Exit codes: install/uninstall 0 when every
// selected store reached the goal, 1 otherwise (the fix is printed); bad --stores is 2.
import path from 'node:path';
import { bool, list, type Parsed } from './args';
import type { Command, Io } from './command';
import { message } from '../../shared/errors';
import { loadCa, requireCa } from '../pki';
import { storeFor } from './home';
import { TRUST_CACHE_FILE } from '../store';
import { uninstallAllOurs } from '../trust/history';
import { cliEngine } from './engine';
import {
  changeSucceeded,
  parseStoreList,
  stateText,
  trustSummaryLines,
  STORE_IDS,
  type StoreChange,
  type StoreId,
  type StoreStatus,
  type TrustCa,
  type TrustOptions,
} from '../trust';

const storesOpt = {
  stores: {
    type: 'list' as const,
    value: 'LIST',
    help: `comma-separated: ${STORE_IDS.join(',')} (default: every store detected)`,
  },
};
const jsonOpt = { json: { type: 'boolean' as const, help: 'print as JSON' } };

const DETAILS = `Stores: system (Linux: /usr/local/share/ca-certificates and friends, needs root),
nss (Chrome/Chromium ~/.pki/nssdb and every Firefox profile; needs "certutil"),
java (cacerts of $JAVA_HOME or the keytool on PATH), macos (login keychain; System with
WSS_STUDIO_MACOS_KEYCHAIN=system), windows (current user's Root store).`;

function options(p: Parsed, io: Io): TrustOptions {
  return { stores: parseStoreList(list(p, 'stores')), context: { env: io.env } };
}

function caJson(ca: Pick<TrustCa, 'commonName' | 'fingerprint256' | 'certPath'>) {
  return { commonName: ca.commonName, fingerprint256: ca.fingerprint256, certPath: ca.certPath };
}

/** --stores as the API takes it: absent means every store detected. */
function storesInput(p: Parsed): { stores?: StoreId[] } {
  const stores = parseStoreList(list(p, 'stores'));
  return stores.length ? { stores } : {};
}

function printChanges(results: StoreChange[], op: 'install' | 'uninstall', io: Io): void {
  const done = op === 'install' ? 'installed' : 'removed';
  for (const r of results) {
    const what = r.changed ? done : 'unchanged';
    io.out(`${r.store.padEnd(8)}${stateText(r.state).padEnd(17)}${what}: ${r.detail}`);
    for (const w of r.warnings ?? []) io.out(`${' '.repeat(25)}warning: ${w}`);
  }
}

/** Failures go to stderr in both text and JSON modes, each with the exact fix. */
function printFailures(results: StoreChange[], op: 'install' | 'uninstall', io: Io): void {
  const goal = op === 'install' ? 'trusted' : 'not-trusted';
  const failed = results.filter(
    (r) => r.state !== goal && !(op === 'uninstall' && r.state === 'not-present'),
  );
  for (const r of failed) {
    const cause = `${stateText(r.state)}: ${r.detail}`;
    io.err(`error: ${message({ action: `${op} the CA in ${r.label}`, cause })}`);
    if (r.fix) io.err(`hint: ${r.state === 'needs-permission' ? 'run: ' : ''}${r.fix}`);
  }
}

async function change(p: Parsed, io: Io, op: 'install' | 'uninstall'): Promise<number> {
  const input = storesInput(p);
  const store = storeFor(io);
  requireCa(store, `${op} CA in trust stores`);
  const engine = cliEngine(io, store);
  // The engine records the CA before the first store changes; if it cannot, it says so as progress.
  engine.onProgress((u) => {
    if (u.step.startsWith('warning: ')) io.err(u.step);
  });
  const r = await engine.handle(op === 'install' ? 'trust.install' : 'trust.uninstall', input);
  const results = r.stores as StoreChange[];
  if (bool(p, 'json')) {
    io.out(JSON.stringify(r, null, 2));
  } else if (!results.length) {
    io.out('no trust store detected: pass "--stores" to pick one');
  } else {
    printChanges(results, op, io);
  }
  printFailures(results, op, io);
  return results.length && changeSucceeded(results, op) ? 0 : 1;
}

/** `trust uninstall --all-ours`: current and replaced CAs, each removed by its certificate bytes. */
async function allOurs(p: Parsed, io: Io): Promise<number> {
  const store = storeFor(io);
  const { cas, problems } = await uninstallAllOurs(store, loadCa(store), {
    ...options(p, io),
    cacheFile: path.join(store.root, TRUST_CACHE_FILE),
  });
  for (const w of problems) io.err(`warning: skipped ${w}`);
  if (!cas.length) {
    io.out('no WSS Studio CA to remove: none is current and none was ever installed');
    return 0;
  }
  if (bool(p, 'json')) {
    const json = cas.map((c) => ({
      ca: caJson(c.ca),
      current: c.current,
      results: c.results,
      keptFor: c.keptFor.map((s) => s.store),
    }));
    io.out(JSON.stringify({ cas: json }, null, 2));
  }
  for (const c of cas) {
    if (!bool(p, 'json')) {
      io.out(
        `${c.current ? 'current' : 'replaced'} CA ${JSON.stringify(c.ca.commonName)} (SHA-256 ${c.ca.fingerprint256})`,
      );
      if (!c.results.length) io.out('  no trust store detected: pass "--stores" to pick one');
      printChanges(c.results, 'uninstall', io);
      if (c.keptFor.length) {
        const ids = c.keptFor.map((s) => s.store).join(',');
        io.out(
          `  still ${c.keptFor.map((s) => `${stateText(s.state)} in ${s.store}`).join(', ')} (not selected): kept in the list of CAs to remove; run: wss-studio trust uninstall --all-ours --stores ${ids}`,
        );
      }
    }
    printFailures(c.results, 'uninstall', io);
  }
  return cas.every((c) => c.done) ? 0 : 1;
}

export const commands: Command[] = [
  {
    path: ['trust', 'status'],
    summary: 'show whether each trust store trusts the CA (measured now)',
    options: { ...storesOpt, ...jsonOpt },
    details: DETAILS,
    run: async (p, io) => {
      const input = storesInput(p);
      const store = storeFor(io);
      const ca = requireCa(store, 'show trust status');
      const engine = cliEngine(io, store);
      const [stores, replaced] = await Promise.all([
        engine.handle('trust.status', input),
        engine.handle('trust.replaced', input),
      ]);
      if (bool(p, 'json')) {
        // trust.status's result and trust.replaced's, side by side.
        io.out(JSON.stringify({ stores, replaced }, null, 2));
        return 0;
      }
      io.out(`CA ${JSON.stringify(ca.commonName)} (SHA-256 ${ca.fingerprint256})`);
      for (const l of trustSummaryLines(stores as StoreStatus[], { targets: true })) io.out(l);
      for (const o of replaced) {
        io.out(
          `replaced CA ${JSON.stringify(o.commonName)} (SHA-256 ${o.fingerprint256}) is STILL trusted by: ${o.trustedBy.join(', ')}`,
        );
      }
      if (replaced.length) io.out('fix: wss-studio trust uninstall --all-ours');
      return 0;
    },
  },
  {
    path: ['trust', 'install'],
    summary: 'install the CA into the trust stores (idempotent)',
    options: { ...storesOpt, ...jsonOpt },
    details: DETAILS,
    run: (p, io) => change(p, io, 'install'),
  },
  {
    path: ['trust', 'uninstall'],
    summary: 'remove the CA from the trust stores (only ours, matched by fingerprint)',
    options: {
      ...storesOpt,
      'all-ours': {
        type: 'boolean',
        help: 'also every CA this install ever trusted (replaced by "ca init --force" or an import)',
      },
      ...jsonOpt,
    },
    details: `${DETAILS}\nCAs are matched by their certificate bytes: other certificates are never touched.`,
    run: (p, io) => (bool(p, 'all-ours') ? allOurs(p, io) : change(p, io, 'uninstall')),
  },
];
