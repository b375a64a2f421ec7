// The one object every shell talks to. It implements each request of the contract (shared/api.ts) by
// calling the engine modules (pki, trust, echo, doctor, store), and publishes the contract's event streams.
//
//   const engine = createEngine({ home, shell: 'web' });
//   const reply = await engine.call('cert.issue', { names: ['localhost'] }, { shell: 'web' });
//   const off = engine.subscribe('log.batch', (batch) => ...);
//   await engine.close();   // stops every echo server, cancels tasks
//
// Handler modules without live state (app, pki, trust, doctor, tasks, setup) load on first use
// (lazy.ts); the echo servers, proxies and engine-side clients are made here. `eager` is typed as the
// rest of `Handlers`, so a contract entry without an engine function does not compile.
import type { RequestName, StreamName, Streams } from '../../shared/api';
import { openStore, resolveHome, type Store } from '../store';
import { Dispatcher, type CallContext, type Handler, type Handlers, type Reply } from './dispatch';
import { EventHub, type HubStream } from './events';
import { Tasks } from './tasks';
import type { EngineDeps, ShellHooks, ShellName } from './deps';
import { echoHandlers, type EchoPart } from './handlers-echo';
import { clientHandlers } from './handlers-client';
import { isLazyName, lazyHandlers, type LazyName } from './lazy';
import { requestThrough } from './request';
import { wideningGate } from './gate';
import { proxyHandlers } from './handlers-proxy';
import { behaviourHandlers } from './handlers-behaviour';
import { helloServers, startControl, type ControlEndpoint } from '../control/server';
import { FaultRegistry } from '../faults';

export type { EngineDeps, ShellHooks } from './deps';
export type { CallContext, Reply, Handlers, WebAllow } from './dispatch';
export { WEB_FLAGS } from './gate';

export interface EngineOptions {
  /** State folder; default resolveHome(env). */
  home?: string;
  env?: NodeJS.ProcessEnv;
  /** The CLI builds no whole engine: it runs single handlers (main/cli/engine.ts). */
  shell: Exclude<ShellName, 'cli'>;
  hooks?: ShellHooks;
  /** Batch interval of status/progress streams (default 50 ms). */
  pushMs?: number;
}

export interface Engine {
  readonly store: Store;
  readonly shell: EngineOptions['shell'];
  call(name: unknown, input: unknown, ctx?: CallContext): Promise<Reply>;
  subscribe<S extends StreamName>(stream: S, cb: (data: Streams[S]) => void): () => void;
  /** Lab page URLs of running servers (the desktop window may open these in the real browser). */
  labUrls(): string[];
  /**
   * Start the servers the user left enabled (desktop app / web mode start-up), and the control endpoint
   * through which `wss-studio send` reaches them from a terminal.
   */
  startEnabledServers(): Promise<void>;
  /** Stop every server, cancel tasks, drop subscribers. Idempotent. */
  close(): Promise<void>;
}

export function createEngine(opts: EngineOptions): Engine {
  const env = opts.env ?? process.env;
  const store = openStore(opts.home ?? resolveHome(env));
  const hub = new EventHub(opts.pushMs);
  const tasks = new Tasks(hub);
  const hooks = opts.hooks ?? {};
  const ref: { echo?: EchoPart; dispatcher?: Dispatcher } = {};
  const deps: EngineDeps = {
    store,
    hub,
    tasks,
    hooks,
    shell: opts.shell,
    env,
    labUrls: () => ref.echo?.labUrls() ?? [],
    servers: () => ref.echo?.servers() ?? [],
    faults: new FaultRegistry(),
    request: (name, input, ctx) => requestThrough(ref.dispatcher!, name, input, ctx),
  };
  const echo = (ref.echo = echoHandlers(deps));
  const clients = clientHandlers(deps);
  const proxies = proxyHandlers(deps, () => echo.frameLog());
  const eager: Omit<Handlers, LazyName> = {
    ...echo.handlers,
    ...behaviourHandlers(() => echo.manager()),
    ...clients.handlers,
    ...proxies.handlers,
    'settings.problems': () => [...new Set([...echo.problems(), ...proxies.problems()])],
  };
  const lazy = lazyHandlers(deps);
  const handlerFor = async <K extends RequestName>(name: K): Promise<Handler<K> | undefined> =>
    (isLazyName(name) ? await lazy(name) : eager[name as Exclude<RequestName, LazyName>]) as
      Handler<K> | undefined;
  const dispatcher = (ref.dispatcher = new Dispatcher(handlerFor, wideningGate(deps)));
  let closing: Promise<void> | undefined;
  let control: Promise<ControlEndpoint | undefined> | undefined;

  return {
    store,
    shell: opts.shell,
    call: (name, input, ctx) => dispatcher.call(name, input, ctx ?? { shell: opts.shell }),
    subscribe(stream, cb) {
      // The frame log batches on its own timer already: hand its batches straight through.
      if (stream === 'log.batch') return echo.subscribeLog(cb as (d: Streams['log.batch']) => void);
      return hub.subscribe(stream as HubStream, cb as (d: Streams[HubStream]) => void);
    },
    labUrls: () => echo.labUrls(),
    async startEnabledServers() {
      // Both areas start whatever they can; then every problem is reported, not only the first.
      const r = await Promise.allSettled([echo.startEnabled(), proxies.startEnabled()]);
      // A state folder the control socket cannot live in costs only `wss-studio send`; the app runs on.
      control ??= startControl({
        home: store.root,
        shell: opts.shell,
        call: (name, input) => dispatcher.call(name, input, { shell: opts.shell }),
        servers: () => helloServers(echo.manager().list()),
      }).catch(() => undefined);
      await control;
      const failed = r.flatMap((x) => (x.status === 'rejected' ? [x.reason as Error] : []));
      const messages = [...new Set(failed.map((e) => e.message))];
      if (messages.length > 1) throw new Error(messages.join('\n'));
      if (failed[0]) throw failed[0];
    },
    close() {
      closing ??= (async () => {
        tasks.cancelAll();
        clients.close();
        await (await control)?.close();
        await proxies.close();
        await echo.close();
        hub.close();
      })();
      return closing;
    },
  };
}
