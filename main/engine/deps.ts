// What the handler files get from the engine: the store, the event hub, tasks, the shell's hooks. Its own
// module so that handlers-*.ts import these types without importing index.ts (which imports them).
import type { ServerDto } from '../../shared/api';
import type { FaultRegistry } from '../faults';
import type { Store } from '../store';
import type { EventHub } from './events';
import type { Tasks } from './tasks';

export type ShellName = 'electron' | 'web' | 'test';

export interface ShellHooks {
  copy?(text: string): Promise<boolean> | boolean;
  saveFile?(suggestedName: string, data: Buffer): Promise<{ saved: boolean; path?: string }>;
  openExternal?(url: string): Promise<boolean>;
  /** Native confirmation before trusting or removing the CA; false = the user said no. */
  confirm?(q: { title: string; message: string; detail?: string; ok: string }): Promise<boolean>;
  /** Run a command with the OS privilege prompt (desktop: pkexec argv from the trust engine). */
  runPrivileged?(argv: string[]): Promise<{ code: number | null; stderr: string }>;
}

/** Internals shared by the handler files. */
export interface EngineDeps {
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
  /** Echo servers and proxies register here; faults.* and conn.inject look them up (main/faults). */
  faults: FaultRegistry;
}
