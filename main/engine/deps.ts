// What the handler files get from the engine: the store, the event hub, tasks, the shell's hooks. Its own
// module so that handlers-*.ts import these types without importing index.ts (which imports them).
import type { Input, RequestName, Result, ServerDto } from '../../shared/api';
import type { FaultRegistry } from '../faults';
import type { Store } from '../store';
import type { CallContext } from './dispatch';
import type { EventHub } from './events';
import type { Tasks } from './tasks';

export type ShellName = 'electron' | 'web' | 'cli' | 'test';

export interface ShellHooks {
  copy?(text: string): Promise<boolean> | boolean;
  saveFile?(suggestedName: string, data: Buffer): Promise<{ saved: boolean; path?: string }>;
  openExternal?(url: string): Promise<boolean>;
  /** Native confirmation before trusting or removing the CA; false = the user said no. */
  confirm?(q: { title: string; message: string; detail?: string; ok: string }): Promise<boolean>;
  /** Run a command with the OS privilege prompt (desktop: pkexec argv from the trust engine). */
  runPrivileged?(argv: string[]): Promise<{ code: number | null; stderr: string }>;
}

/**
 * What the handler modules that hold no live state (app, pki, trust, doctor, tasks, setup) need: the CLI
 * builds just this (main/cli/engine.ts) and loads only the handler module of the request it runs.
 */
export interface CoreDeps {
  store: Store;
  hub: EventHub;
  tasks: Tasks;
  hooks: ShellHooks;
  shell: ShellName;
  env: NodeJS.ProcessEnv;
  /** Lab page URLs of running servers (the only non-doc links app.openExternal opens). */
  labUrls(): string[];
  /** Every echo server with its status (for export commands and renewal notes). */
  servers(): ServerDto[];
  /**
   * Run another request of the contract as `shell` would (validated, guarded, confirmed): what a workflow
   * task (setup.localhost) is made of. Rejects with the request's WssError.
   */
  request<K extends RequestName>(name: K, input: Input<K>, ctx: CallContext): Promise<Result<K>>;
}

/** Internals shared by the handler files; echo servers and proxies also need the fault registry. */
export interface EngineDeps extends CoreDeps {
  /** Echo servers and proxies register here; faults.* and conn.inject look them up (main/faults). */
  faults: FaultRegistry;
}
