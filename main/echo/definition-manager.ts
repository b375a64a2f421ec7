// The part the echo server manager and the proxy manager share: a list of definitions persisted in
// settings.json under one key, each with its runtime instance, a per-id serial queue of start/stop/update,
// the enabled flag remembered across app starts, and a status pushed on every change. Subclasses say how to
// build and start an instance (launch), how a status looks and how it is pushed (emit).
import type * as v from 'valibot';
import { failure, inputError, isWssError, q, type WssError } from '../../shared/errors';
import { keepSkipped, readSettingsList, type SkippedEntry } from '../store/settings';
import { NO_FAULTS, type FaultController } from '../faults';

/** The part of the store a manager needs (main/store's Store satisfies it). */
export interface SettingsStore {
  /** Named in problems with the file (main/store's Store has it). */
  readonly settingsPath?: string;
  readSettings(): { [k: string]: unknown };
  writeSettings(s: { schema: 1; [k: string]: unknown }): void;
}

export interface ManagedEntry<D, S> {
  def: D;
  server?: S;
  state: 'stopped' | 'starting' | 'running' | 'stopping' | 'error';
  error?: WssError;
  startedAt?: string;
  /** Serialises start/stop/update of this entry. */
  queue: Promise<unknown>;
  /** Faults in force while it runs (reset on stop). */
  faults?: FaultController;
}

/** How a manager reads its settings.json entries: the stored schema and the completion of one entry. */
export interface StoredDefinitions<D> {
  schema: v.GenericSchema;
  normalize: (entry: unknown) => D;
}

/** Pair a schema with the completion of what it parsed (checked here, where both types are known). */
export function storedDefinitions<Schema extends v.GenericSchema, D>(
  schema: Schema,
  normalize: (entry: v.InferOutput<Schema>) => D,
): StoredDefinitions<D> {
  return { schema, normalize: normalize as (entry: unknown) => D };
}

export interface DefinitionManagerOptions<D> {
  settings: SettingsStore | undefined;
  /** The settings.json key this manager owns ("servers", "proxies"). */
  key: string;
  stored: StoredDefinitions<D>;
  /** What "not found" says: the thing's name ("echo server", "proxy") and its plural for the hint. */
  noun: { code: string; action: string; one: string; many: string; withValue: boolean };
}

export abstract class DefinitionManager<
  D extends { id: string; enabled?: boolean },
  S extends { stop(): Promise<void> },
  E extends ManagedEntry<D, S>,
  St,
  L,
> {
  protected readonly entries = new Map<string, E>();
  protected readonly listeners = new Set<L>();
  protected readonly settings: SettingsStore | undefined;
  private readonly opts: DefinitionManagerOptions<D>;
  private skipped: SkippedEntry[] = [];

  constructor(opts: DefinitionManagerOptions<D>) {
    this.opts = opts;
    this.settings = opts.settings;
  }

  abstract status(id: string): St;
  /** Build and start the instance of e.def; set e.server (and anything else) once it listens. */
  protected abstract launch(e: E): Promise<void>;
  /** Push a change of id (a subclass may coalesce). */
  protected abstract emit(id: string): void;
  /** The action named when a start fails with an unexpected error. */
  protected abstract startAction(def: D): string;
  /** After a successful start was pushed. */
  protected started(_e: E): void {}
  /** Before a running instance is stopped. */
  protected stopping(_e: E): void {}

  /** Every entry, in definition order. */
  list(): St[] {
    return [...this.entries.keys()].map((id) => this.status(id));
  }

  /** Start one and remember to start it next time. Throws (and leaves nothing listening) on failure. */
  start(id: string): Promise<St> {
    const e = this.entry(id);
    return this.enqueue(e, async () => {
      if (!e.server) await this.doStart(e);
      this.setEnabled(e, true);
      return this.status(id);
    });
  }

  /** Stop one and remember it stays stopped. */
  stop(id: string): Promise<St> {
    const e = this.entry(id);
    return this.enqueue(e, async () => {
      await this.doStop(e);
      this.setEnabled(e, false);
      return this.status(id);
    });
  }

  /** App start-up: start every enabled one. Failures land in status. */
  async startEnabled(): Promise<St[]> {
    const ids = [...this.entries.values()].filter((e) => e.def.enabled).map((e) => e.def.id);
    await Promise.all(ids.map((id) => this.start(id).catch(() => undefined)));
    return ids.map((id) => this.status(id));
  }

  /** App shutdown: stop everything, keeping each enabled flag for the next start. */
  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.entries.values()].map((e) =>
        this.enqueue(e, () => this.doStop(e)).catch(() => undefined),
      ),
    );
  }

  /** Status changes; returns the unsubscribe. */
  onStatus(fn: L): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }

  /**
   * Entries of this manager's settings.json key that could not be used: skipped at load, each with the
   * file's path, its index, the field and what is wrong. They stay in the file as written (persist keeps them).
   */
  get problems(): string[] {
    return this.skipped.map((s) => s.problem);
  }

  // --- for subclasses ----------------------------------------------------------------------------------------

  protected entry(id: string): E {
    const e = this.entries.get(id);
    if (!e) {
      const n = this.opts.noun;
      throw inputError(n.code, `find ${n.action} ${q(id)}`, `no ${n.one} with id ${q(id)}`, {
        field: 'id',
        ...(n.withValue ? { value: id } : {}),
        hint: `known ${n.many}: ${[...this.entries.keys()].map((k) => q(k)).join(', ') || '(none)'}`,
      });
    }
    return e;
  }

  protected enqueue<T>(e: E, op: () => Promise<T>): Promise<T> {
    const run = e.queue.then(op, op);
    e.queue = run.catch(() => undefined);
    return run;
  }

  /** Put def in place of e.def (persisted; rolled back if that fails) and restart e if it runs. */
  protected async replace(e: E, def: D): Promise<void> {
    const old = e.def;
    e.def = def;
    try {
      this.persist();
    } catch (err) {
      e.def = old;
      throw err;
    }
    if (e.server) {
      await this.doStop(e);
      await this.doStart(e);
    }
    this.emit(def.id);
  }

  /** Stop e and forget it (persisted; put back if that fails). Returns its last status. */
  protected async removeEntry(e: E, forget: (id: string) => void): Promise<St> {
    const id = e.def.id;
    await this.doStop(e);
    const last = this.status(id);
    forget(id);
    try {
      this.persist();
    } catch (err) {
      this.entries.set(id, e);
      throw err;
    }
    return last;
  }

  protected async doStart(e: E): Promise<void> {
    const def = e.def;
    e.error = undefined;
    e.state = 'starting';
    this.emit(def.id);
    try {
      await this.launch(e);
      e.state = 'running';
      e.startedAt = new Date().toISOString();
      this.emit(def.id);
      this.started(e);
    } catch (err) {
      e.server = undefined;
      e.state = 'error';
      e.error = isWssError(err) ? err : failure('START_FAILED', this.startAction(def), String(err));
      this.emit(def.id);
      throw e.error;
    }
  }

  protected async doStop(e: E): Promise<void> {
    const server = e.server;
    if (!server) {
      if (e.state === 'error') {
        e.state = 'stopped';
        e.error = undefined;
        this.emit(e.def.id);
      }
      return;
    }
    e.state = 'stopping';
    this.emit(e.def.id);
    this.stopping(e);
    await server.stop();
    e.server = undefined;
    e.state = 'stopped';
    e.startedAt = undefined;
    // Faults belong to a running instance's session: a stopped one starts clean.
    e.faults?.set({ ...NO_FAULTS });
    this.emit(e.def.id);
  }

  protected setEnabled(e: E, enabled: boolean): void {
    if (e.def.enabled === enabled) return;
    e.def = { ...e.def, enabled };
    this.persist();
  }

  protected loadDefinitions(): D[] {
    if (!this.settings) return [];
    const { items, skipped } = readSettingsList(
      this.settings.settingsPath ?? 'settings.json',
      this.opts.key,
      this.settings.readSettings()[this.opts.key],
      this.opts.stored.schema,
      this.opts.stored.normalize,
    );
    this.skipped = skipped;
    return items;
  }

  protected persist(): void {
    if (!this.settings) return;
    const current = this.settings.readSettings();
    this.settings.writeSettings({
      ...current,
      schema: 1,
      [this.opts.key]: keepSkipped(
        [...this.entries.values()].map((e) => e.def),
        this.skipped,
      ),
    });
  }
}
