// ca.*, names.check, cert.*: the certificate engine (main/pki) behind the contract.
import {
  checkNames,
  createCa,
  deleteLeaf,
  exportCa,
  exportLeaf,
  getLeaf,
  importMkcert,
  issueLeaf,
  listLeaves,
  loadCa,
  renewLeaf,
  staleExports,
  type UsageTarget,
  scanLeaves,
} from '../pki';
import { recordReplaced } from '../trust/history';
import type { ServerDto } from '../../shared/api';
import type { Handlers } from './dispatch';
import type { CoreDeps } from './deps';
import { caDto, exportDto, leafDto } from './dto';
import { confirmOrCancel } from './confirm';

type PkiNames =
  | 'ca.get'
  | 'ca.create'
  | 'ca.importMkcert'
  | 'ca.export'
  | 'names.check'
  | 'cert.list'
  | 'cert.damaged'
  | 'cert.get'
  | 'cert.issue'
  | 'cert.renew'
  | 'cert.delete'
  | 'cert.export';

export function pkiHandlers(d: CoreDeps): Pick<Handlers, PkiNames> {
  const { store } = d;
  const changed = (...what: ('ca' | 'certs')[]) => d.hub.emit('store.changed', { what });
  // Export commands point at a running server that uses this certificate, when there is one.
  const targetFor = (id: string): { target?: UsageTarget } => {
    const s = d.servers().find((x) => x.state === 'running' && x.definition.certId === id && x.url);
    return s ? { target: usageTarget(s) } : {};
  };
  return {
    'ca.get': () => {
      const ca = loadCa(store);
      return ca ? caDto(ca) : null;
    },
    'ca.create': async (input) => {
      if (input.force && loadCa(store)) {
        await confirmOrCancel(
          d,
          {
            title: 'Replace the CA?',
            message: 'Replace the local CA with a new one?',
            detail:
              'Certificates issued by the old CA stop being trusted once it is removed from the trust stores.',
            ok: 'Replace CA',
          },
          'replace CA',
        );
      }
      return d.tasks.run('ca.create', input.taskId, async (t) => {
        const ca = await createCa(store, {
          ...(input.keyType ? { keyType: input.keyType } : {}),
          ...(input.constrained !== undefined ? { constrained: input.constrained } : {}),
          ...(input.permitted ? { permitted: input.permitted } : {}),
          ...(input.force ? { force: true } : {}),
          beforeReplace: recordReplaced(store),
          onProgress: (step) => t.progress(step),
        });
        changed('ca');
        return caDto(ca);
      });
    },
    'ca.importMkcert': async (input) => {
      const ca = await importMkcert(store, input.caroot, {
        force: !!input.force,
        beforeReplace: recordReplaced(store),
      });
      changed('ca');
      return caDto(ca);
    },
    'ca.export': ({ format }) => {
      // Only a listening server (one with a URL): the CLI's defined-but-not-run servers have none.
      const s = d
        .servers()
        .find((x) => x.state === 'running' && x.definition.scheme === 'wss' && x.url);
      return exportDto(exportCa(store, format, s ? usageTarget(s) : undefined), format === 'pem');
    },
    'names.check': ({ names }) => checkNames(names, loadCa(store)),
    'cert.list': () => listLeaves(store).map(leafDto),
    'cert.damaged': () =>
      scanLeaves(store).damaged.map((x) => ({ id: x.id, path: x.path, problem: x.error })),
    'cert.get': ({ id }) => leafDto(getLeaf(store, id)),
    'cert.issue': async (input) => {
      const r = await issueLeaf(store, {
        names: input.names,
        ...(input.keyType ? { keyType: input.keyType } : {}),
        ...(input.client !== undefined ? { client: input.client } : {}),
        ...(input.days !== undefined ? { days: input.days } : {}),
      });
      changed('certs');
      return { leaf: leafDto(r.leaf), warnings: r.warnings };
    },
    'cert.renew': async ({ id }) => {
      const leaf = await renewLeaf(store, id);
      changed('certs');
      const servers = d
        .servers()
        .filter((s) => s.definition.certId === leaf.id)
        .map((s) => ({ id: s.id, name: s.definition.name, running: s.state === 'running' }));
      return { ...leafDto(leaf), renewal: { servers, staleExports: staleExports(store, leaf.id) } };
    },
    'cert.delete': async ({ id }) => {
      await deleteLeaf(store, id);
      changed('certs');
      return { ok: true };
    },
    'cert.export': ({ id, format, password, legacy, file }) =>
      exportDto(
        exportLeaf(store, id, format, {
          ...(password !== undefined ? { password } : {}),
          ...(legacy !== undefined ? { legacy } : {}),
          ...(file !== undefined ? { file } : {}),
          ...targetFor(id),
        }),
        format === 'pem' || format === 'key' || format === 'fullchain',
      ),
  };
}

/** Host and port of a running server's URL, for the commands printed with an export. */
function usageTarget(s: ServerDto): UsageTarget {
  const u = new URL(s.url ?? `wss://localhost:${s.port ?? 8443}/`);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) || 443 };
}
