// trust.*: the trust stores (main/trust) behind the contract. Install/uninstall are long tasks with
// progress; the desktop app confirms natively first and runs the Linux system store's root step through the
// OS prompt (pkexec); web mode hands back the exact sudo line instead.
import path from 'node:path';
import type {
  ReplacedCaDto,
  TrustResult,
  TrustStoreChange,
  TrustStoreStatus,
} from '../../shared/api';
import { loadCa, requireCa, type CaInfo } from '../pki';
import {
  systemTrustElevation,
  trustInstall,
  trustStatusAll,
  trustUninstall,
  type StoreChange,
  type TrustOptions,
} from '../trust';
import { TRUST_CACHE_FILE } from '../store';
import { replacedStillTrusted, tryRecordTrustedCa, uninstallAllOurs } from '../trust/history';
import type { Handlers } from './dispatch';
import type { CoreDeps } from './deps';
import { confirmOrCancel } from './confirm';

export function trustHandlers(
  d: CoreDeps,
): Pick<Handlers, 'trust.status' | 'trust.install' | 'trust.uninstall' | 'trust.replaced'> {
  const context = { env: d.env };
  // Every measurement here is real; it refreshes the trust-state cache that cert issue's warning reads.
  // Read when a request runs, not when the table is built (the store may not exist yet then).
  const cacheFile = () => path.join(d.store.root, TRUST_CACHE_FILE);

  const change = async (
    op: 'install' | 'uninstall',
    input: {
      stores?: TrustOptions['stores'];
      taskId?: string;
      scope?: 'current' | 'replaced' | 'all';
    },
  ): Promise<TrustResult> => {
    if (op === 'uninstall' && input.scope && input.scope !== 'current') {
      return allOurs(input, input.scope === 'all');
    }
    const ca = requireCa(d.store, op === 'install' ? 'trust CA' : 'remove CA from trust stores');
    await confirmOrCancel(
      d,
      op === 'install'
        ? {
            title: 'Trust the WSS Studio CA?',
            message: `Add "${ca.commonName}" to your trust stores?`,
            detail: `Browsers and tools will accept certificates it issues${
              ca.constrained
                ? ` (only for ${ca.permitted.join(', ')})`
                : ' for ANY site: the CA is not name-constrained'
            }.\nSHA-256: ${ca.fingerprint256}`,
            ok: 'Trust CA',
          }
        : {
            title: 'Remove the WSS Studio CA?',
            message: `Remove "${ca.commonName}" from your trust stores?`,
            detail: 'Certificates it issued will show certificate errors again.',
            ok: 'Remove CA',
          },
      op === 'install' ? 'trust CA' : 'remove CA from trust stores',
    );
    return d.tasks.run(
      op === 'install' ? 'trust.install' : 'trust.uninstall',
      input.taskId,
      async (t) => {
        const opts: TrustOptions = {
          context,
          cacheFile: cacheFile(),
          ...(input.stores?.length ? { stores: input.stores } : {}),
        };
        t.progress(op === 'install' ? 'installing the CA' : 'removing the CA');
        // Recorded before the first store changes, so a replaced CA can always be found and removed.
        const unrecorded = op === 'install' ? tryRecordTrustedCa(d.store, ca) : null;
        if (unrecorded) t.progress(`warning: ${unrecorded}`);
        const results: StoreChange[] = await (op === 'install'
          ? trustInstall(ca, opts)
          : trustUninstall(ca, opts));
        const stores: TrustStoreChange[] = results;
        const out: TrustResult = { stores };
        const sys = results.findIndex(
          (r) => r.store === 'system' && r.state === 'needs-permission',
        );
        if (sys >= 0) {
          const cmd = systemTrustElevation(ca, op, { context });
          if (cmd && d.hooks.runPrivileged) {
            t.progress('asking for administrator rights');
            const r = await d.hooks.runPrivileged(cmd.argv);
            const [after] = await trustStatusAll(ca, {
              context,
              cacheFile: cacheFile(),
              stores: ['system'],
            });
            if (after) out.stores[sys] = { ...after, changed: r.code === 0 };
            out.privileged = [
              {
                store: 'system',
                sudo: cmd.sudo,
                ran: true,
                ok: r.code === 0,
                ...(r.code === 0 ? {} : { message: r.stderr.trim() || `exit code ${r.code}` }),
              },
            ];
          } else if (cmd) {
            out.privileged = [{ store: 'system', sudo: cmd.sudo, ran: false }];
          }
        }
        d.hub.emit('trust.status', { stores: out.stores });
        return out;
      },
    );
  };

  /**
   * Every WSS Studio CA, current and replaced, out of the selected stores (by certificate bytes). The
   * result lists each store once: the worst outcome over the CAs (a store still trusting any of ours).
   */
  const allOurs = async (
    input: { stores?: TrustOptions['stores']; taskId?: string },
    includeCurrent: boolean,
  ): Promise<TrustResult> => {
    await confirmOrCancel(
      d,
      {
        title: includeCurrent ? 'Remove every WSS Studio CA?' : 'Remove replaced WSS Studio CAs?',
        message: includeCurrent
          ? 'Remove the current and every replaced WSS Studio CA from your trust stores?'
          : 'Remove the WSS Studio CAs you replaced from your trust stores? The current CA stays.',
        detail: 'Only certificates WSS Studio installed are removed, matched by their exact bytes.',
        ok: 'Remove CAs',
      },
      'remove every WSS Studio CA from trust stores',
    );
    return d.tasks.run('trust.uninstall', input.taskId, async (t) => {
      t.progress('removing every WSS Studio CA');
      const opts: TrustOptions = {
        context,
        cacheFile: cacheFile(),
        ...(input.stores?.length ? { stores: input.stores } : {}),
      };
      const r = await uninstallAllOurs(d.store, loadCa(d.store), opts, includeCurrent);
      const byStore = new Map<string, TrustStoreChange>();
      for (const c of r.cas) {
        for (const s of c.results) {
          const prev = byStore.get(s.store);
          const bad = (x: TrustStoreChange) =>
            x.state !== 'not-trusted' && x.state !== 'not-present';
          if (!prev || (bad(s) && !bad(prev)))
            byStore.set(s.store, { ...s, changed: s.changed || !!prev?.changed });
          else if (s.changed) prev.changed = true;
        }
      }
      const stores = [...byStore.values()];
      d.hub.emit('trust.status', { stores: await currentStatus() });
      return { stores };
    });
  };

  const currentStatus = async (): Promise<TrustStoreStatus[]> => {
    const ca: CaInfo | null = loadCa(d.store);
    return ca ? trustStatusAll(ca, { context, cacheFile: cacheFile() }) : [];
  };

  return {
    'trust.replaced': async ({ stores: only }): Promise<ReplacedCaDto[]> => {
      const old = await replacedStillTrusted(d.store, loadCa(d.store), {
        context,
        ...(only?.length ? { stores: only } : {}),
      });
      return old.map((o) => ({
        commonName: o.ca.commonName,
        fingerprint256: o.ca.fingerprint256,
        trustedBy: o.stores.map((s) => s.store),
      }));
    },
    'trust.status': async ({ stores: only }) => {
      const ca: CaInfo | null = loadCa(d.store);
      if (!ca) return [];
      const some = !!only?.length;
      const stores: TrustStoreStatus[] = await trustStatusAll(ca, {
        context,
        cacheFile: cacheFile(),
        ...(some ? { stores: only } : {}),
      });
      // The stream carries the whole picture: a status of some stores only would hide the others.
      if (!some) d.hub.emit('trust.status', { stores });
      return stores;
    },
    'trust.install': (input) => change('install', input),
    'trust.uninstall': (input) => change('uninstall', input),
  };
}
