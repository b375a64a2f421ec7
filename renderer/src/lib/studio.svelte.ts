// App-wide state: the CA, trust stores, certificates and servers, kept fresh from the engine's event
// streams. One instance, created in App.svelte and passed down to the screens. Everything is loaded once
// (refreshAll); after that server.status and trust.status carry the new lists, and store.changed (which
// carries no data) triggers the one reload of the CA or the certificates. Screens never reload after an
// action: a change made by the CLI or another window arrives the same way as their own.
import type {
  AppInfo,
  CaDto,
  LeafDto,
  ServerDto,
  TaskProgress,
  TrustStoreStatus,
} from '../../../shared/api';
import type { Api } from './api';
import { errorText } from './format';

export interface UiError {
  message: string;
  hint?: string;
  code?: string;
  field?: string;
}

export class Studio {
  info = $state<AppInfo | null>(null);
  ca = $state<CaDto | null>(null);
  trust = $state<TrustStoreStatus[]>([]);
  leaves = $state<LeafDto[]>([]);
  servers = $state<ServerDto[]>([]);
  loaded = $state(false);
  trustLoading = $state(false);
  loadError = $state<UiError | null>(null);
  /** Latest progress per task id (CA creation, trust install, doctor). */
  tasks = $state<Record<string, TaskProgress>>({});

  readonly caMissing = $derived(this.loaded && this.ca === null);
  readonly allTrusted = $derived(
    this.trust.length > 0 &&
      this.trust.filter((s) => s.state !== 'not-present').every((s) => s.state === 'trusted'),
  );

  readonly #unsub: (() => void)[] = [];

  constructor(readonly api: Api) {}

  /** Subscribe to the streams and load everything once. */
  async start(): Promise<void> {
    this.#unsub.push(
      this.api.on('server.status', (p) => (this.servers = p.servers)),
      this.api.on('trust.status', (p) => this.applyTrust(p.stores)),
      this.api.on('store.changed', (p) => {
        if (p.what.includes('ca')) void this.refreshCa();
        if (p.what.includes('certs')) void this.refreshLeaves();
      }),
      this.api.on('task.progress', (p) => {
        const next = { ...this.tasks };
        for (const u of p.updates) next[u.taskId] = u;
        this.tasks = next;
      }),
    );
    await this.refreshAll();
  }

  stop(): void {
    for (const u of this.#unsub.splice(0)) u();
  }

  async refreshAll(): Promise<void> {
    try {
      const [info, ca, leaves, servers] = await Promise.all([
        this.api.call('app.info', {}),
        this.api.call('ca.get', {}),
        this.api.call('cert.list', {}),
        this.api.call('server.list', {}),
      ]);
      this.info = info;
      this.ca = ca;
      this.leaves = leaves;
      this.servers = servers;
      this.loadError = null;
    } catch (e) {
      this.loadError = errorText(e);
    } finally {
      this.loaded = true;
    }
    void this.refreshTrust();
  }

  async refreshCa(): Promise<void> {
    this.ca = await this.api.call('ca.get', {});
    void this.refreshTrust();
  }

  async refreshLeaves(): Promise<void> {
    this.leaves = await this.api.call('cert.list', {});
  }

  async refreshServers(): Promise<void> {
    this.servers = await this.api.call('server.list', {});
  }

  async refreshTrust(): Promise<void> {
    if (!this.ca) {
      this.trust = [];
      return;
    }
    this.trustLoading = true;
    try {
      this.trust = await this.api.call('trust.status', {});
    } catch (e) {
      this.loadError = errorText(e);
    } finally {
      this.trustLoading = false;
    }
  }

  /**
   * Store statuses just measured (a trust.status push, an install's answer). A per-store install or
   * uninstall measures only the stores it touched: those replace their rows, the others stay.
   */
  applyTrust(stores: TrustStoreStatus[]): void {
    const kept = this.trust.map((s) => stores.find((f) => f.store === s.store) ?? s);
    this.trust = [...kept, ...stores.filter((f) => !this.trust.some((s) => s.store === f.store))];
  }

  /** An action's own answer (a certificate just issued), shown before store.changed reloads the list. */
  putLeaf(leaf: LeafDto): void {
    this.leaves = [...this.leaves.filter((l) => l.id !== leaf.id), leaf];
  }

  leaf(id: string | null | undefined): LeafDto | undefined {
    return id ? this.leaves.find((l) => l.id === id) : undefined;
  }
}
