// trust.*: the trust stores (main/trust) behind the contract. Install/uninstall are long tasks with
// progress; the desktop app confirms natively first and runs the Linux system store's root step through the
// OS prompt (pkexec); web mode hands back the exact sudo line instead.
import type { TrustResult, TrustStoreChange, TrustStoreStatus } from '../../shared/api';
import { loadCa, requireCa, type CaInfo } from '../pki';
import {
  systemTrustElevation,
  trustInstall,
  trustStatusAll,
  trustUninstall,
  type StoreChange,
  type TrustOptions,
} from '../trust';
import type { Handlers } from './dispatch';
import type { EngineDeps } from './index';
import { confirmOrCancel } from './handlers-app';

export function trustHandlers(
  d: EngineDeps,
): Pick<Handlers, 'trust.status' | 'trust.install' | 'trust.uninstall'> {
  const context = { env: d.env };

  const change = async (
    op: 'install' | 'uninstall',
    input: { stores?: TrustOptions['stores']; taskId?: string },
  ): Promise<TrustResult> => {
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
          ...(input.stores?.length ? { stores: input.stores } : {}),
        };
        t.progress(op === 'install' ? 'installing the CA' : 'removing the CA');
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
            const [after] = await trustStatusAll(ca, { context, stores: ['system'] });
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

  return {
    'trust.status': async () => {
      const ca: CaInfo | null = loadCa(d.store);
      if (!ca) return [];
      const stores: TrustStoreStatus[] = await trustStatusAll(ca, { context });
      d.hub.emit('trust.status', { stores });
      return stores;
    },
    'trust.install': (input) => change('install', input),
    'trust.uninstall': (input) => change('uninstall', input),
  };
}
