// Handler modules that hold no live state load on first use: the CLI's "cert issue" loads handlers-pki and
// nothing of the echo engine, the web server, the doctor or the trust code (bench/certs measures it). Each
// dynamic import is its own chunk in the CLI bundle (scripts/build.mjs); the Electron bundle inlines them.
// Echo servers, proxies and engine-side clients own sockets and timers: createEngine (index.ts) makes them.
import type { RequestName } from '../../shared/api';
import type { Handler, Handlers } from './dispatch';
import type { CoreDeps } from './deps';

const groups = {
  app: () => import('./handlers-app').then((m) => m.appHandlers),
  pki: () => import('./handlers-pki').then((m) => m.pkiHandlers),
  trust: () => import('./handlers-trust').then((m) => m.trustHandlers),
  doctor: () => import('./handlers-doctor').then((m) => m.doctorHandlers),
  tasks: () => import('./handlers-tasks').then((m) => m.taskHandlers),
  setup: () => import('./handlers-setup').then((m) => m.setupHandlers),
};
type GroupName = keyof typeof groups;
type GroupNames<G extends GroupName> = keyof ReturnType<Awaited<ReturnType<(typeof groups)[G]>>>;

/** The requests whose handlers load lazily; index.ts must supply every other one (a compile error if not). */
export type LazyName = { [G in GroupName]: GroupNames<G> }[GroupName];

/** Which module answers each lazy request; lazy.test.ts checks each module really has its names. */
export const GROUP_OF: { [K in LazyName]: GroupName } = {
  'app.info': 'app',
  'app.openExternal': 'app',
  'app.copy': 'app',
  'app.saveFile': 'app',
  'ca.get': 'pki',
  'ca.create': 'pki',
  'ca.importMkcert': 'pki',
  'ca.export': 'pki',
  'names.check': 'pki',
  'cert.list': 'pki',
  'cert.damaged': 'pki',
  'cert.get': 'pki',
  'cert.issue': 'pki',
  'cert.renew': 'pki',
  'cert.delete': 'pki',
  'cert.export': 'pki',
  'trust.status': 'trust',
  'trust.install': 'trust',
  'trust.uninstall': 'trust',
  'trust.replaced': 'trust',
  'doctor.run': 'doctor',
  'task.cancel': 'tasks',
  'setup.localhost': 'setup',
};

export function isLazyName(name: RequestName): name is LazyName {
  return Object.prototype.hasOwnProperty.call(GROUP_OF, name);
}

/**
 * A lookup of lazy handlers over one set of deps: each module is imported and instantiated once, when the
 * first of its requests arrives.
 */
export function lazyHandlers(d: CoreDeps): <K extends LazyName>(name: K) => Promise<Handler<K>> {
  const made = new Map<GroupName, Promise<Partial<Handlers>>>();
  return async (name) => {
    const g = GROUP_OF[name];
    let p = made.get(g);
    if (!p) {
      p = groups[g]().then((make) => make(d) as Partial<Handlers>);
      made.set(g, p);
    }
    return (await p)[name] as Handler<typeof name>;
  };
}
