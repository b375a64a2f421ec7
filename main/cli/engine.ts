// The CLI's way into the engine: the same request handlers the desktop app and web mode run, called with
// `shell: 'cli'`, so `--json` prints the contract's own result types (shared/api.ts). Only the handler
// module of the request is loaded (main/engine/lazy.ts): "cert issue" never loads the echo engine.
// Input is checked by the command's flag parsing (errors name the flag, exit 2) before it gets here.
import type { ParsedInput, RequestName, Result, ServerDto, TaskProgress } from '../../shared/api';
import type { CallContext, Handler } from '../engine/dispatch';
import type { CoreDeps } from '../engine/deps';
import { EventHub } from '../engine/events';
import { isLazyName, lazyHandlers, type LazyName } from '../engine/lazy';
import { Tasks } from '../engine/tasks';
import type { Store } from '../store';
import type { Io } from './command';
import { storeFor } from './home';

export interface CliEngine {
  store: Store;
  hub: EventHub;
  /** Run one request's handler. Rejects with the handler's WssError. Progress is delivered before it settles. */
  handle<K extends LazyName>(name: K, input: ParsedInput<K>): Promise<Result<K>>;
  /**
   * The handler of any request, for a Dispatcher: this process runs no echo server, proxy or client, so
   * those requests have none (NOT_IMPLEMENTED).
   */
  lookup<K extends RequestName>(name: K): Promise<Handler<K> | undefined>;
  /** Progress updates of the long tasks this process runs (what the app shows as task.progress). */
  onProgress(cb: (u: TaskProgress) => void): void;
  close(): void;
}

const CLI: CallContext = { shell: 'cli' };

export function cliEngine(
  io: Io,
  store: Store = storeFor(io),
  opts: { request?: CoreDeps['request'] } = {},
): CliEngine {
  const hub = new EventHub();
  const deps: CoreDeps = {
    store,
    hub,
    tasks: new Tasks(hub),
    hooks: {},
    shell: 'cli',
    env: io.env,
    labUrls: () => [],
    servers: () => definedServers(store),
    // Requests made by a workflow task (setup.localhost) go through the full dispatcher, validated and
    // guarded: the command that runs one passes it (setup.ts), so no other command loads the schemas.
    request:
      opts.request ??
      (() => Promise.reject(new Error('this command runs no workflow task (no request path)'))),
  };
  const lazy = lazyHandlers(deps);
  return {
    store,
    hub,
    lookup: async <K extends RequestName>(name: K): Promise<Handler<K> | undefined> =>
      (isLazyName(name) ? await lazy(name) : undefined) as Handler<K> | undefined,
    handle: async (name, input) => {
      try {
        return await (
          await lazy(name)
        )(input, CLI);
      } finally {
        hub.flush();
      }
    },
    onProgress: (cb) => void hub.subscribe('task.progress', (p) => p.updates.forEach(cb)),
    close: () => hub.close(),
  };
}

/**
 * The servers defined in settings.json, for renewal notes. This process runs none of them: an enabled one
 * ("running") is started wherever the app or web mode is open.
 */
function definedServers(store: Store): ServerDto[] {
  let defs: unknown[] = [];
  try {
    defs = store.readSettings().servers ?? [];
  } catch {
    defs = [];
  }
  return defs.flatMap((d) => {
    const x = d as { id?: unknown; name?: unknown; certId?: unknown; enabled?: unknown };
    if (!x || typeof x.id !== 'string') return [];
    const definition = { ...x, name: typeof x.name === 'string' ? x.name : x.id };
    return [
      {
        id: x.id,
        definition: definition as ServerDto['definition'],
        state: x.enabled === true ? 'running' : 'stopped',
        connections: 0,
      } satisfies ServerDto,
    ];
  });
}
