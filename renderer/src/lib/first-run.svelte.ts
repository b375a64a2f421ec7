// "Make localhost trusted": CA -> trust -> localhost certificate -> wss:// server, one visible step each.
// Re-running is safe: every step reuses what already exists (CA, a valid localhost leaf, its server).
import type { LeafDto, ServerDto, TrustStoreId } from '../../../shared/api';
import { errorText } from './format';
import type { Studio, UiError } from './studio.svelte';

export type StepState = 'pending' | 'running' | 'done' | 'warn' | 'failed' | 'skipped';

export interface FlowStep {
  id: 'ca' | 'trust' | 'cert' | 'server';
  label: string;
  state: StepState;
  detail: string;
  error?: UiError;
}

export const LOCALHOST_NAMES = ['localhost', '127.0.0.1', '::1'];

function storesFor(platform: string | undefined): TrustStoreId[] {
  if (platform === 'darwin') return ['macos', 'nss', 'java'];
  if (platform === 'win32') return ['windows', 'nss', 'java'];
  return ['system', 'nss', 'java'];
}

export class FirstRun {
  steps = $state<FlowStep[]>([
    { id: 'ca', label: 'Create the local certificate authority', state: 'pending', detail: '' },
    {
      id: 'trust',
      label: 'Install it where browsers and tools look',
      state: 'pending',
      detail: '',
    },
    {
      id: 'cert',
      label: 'Issue a certificate for localhost 127.0.0.1 ::1',
      state: 'pending',
      detail: '',
    },
    { id: 'server', label: 'Start a wss:// echo server', state: 'pending', detail: '' },
  ]);
  running = $state(false);
  finished = $state(false);
  url = $state<string | null>(null);
  /** Which trust stores the flow may touch (the system store needs admin rights; the user decides). */
  selected = $state<Record<string, boolean>>({});
  caTaskId = $state<string | null>(null);
  /** sudo lines for stores that need root (web mode cannot prompt). */
  sudo = $state<{ store: string; sudo: string }[]>([]);
  /** Expert options for a new CA. */
  keyType = $state<'ecdsa' | 'rsa'>('ecdsa');
  constrained = $state(true);

  // Getters, not $derived: they read `studio`, which is only set in the constructor.
  get storeChoices(): TrustStoreId[] {
    return storesFor(this.studio.info?.platform);
  }
  get caProgress(): string | undefined {
    const t = this.caTaskId ? this.studio.tasks[this.caTaskId] : undefined;
    return t?.message ?? t?.step;
  }

  constructor(readonly studio: Studio) {}

  isSelected(id: string): boolean {
    return this.selected[id] ?? true;
  }

  toggle(id: string, on: boolean): void {
    this.selected = { ...this.selected, [id]: on };
  }

  #set(id: FlowStep['id'], patch: Partial<FlowStep>): void {
    this.steps = this.steps.map((s) => (s.id === id ? { ...s, ...patch } : s));
  }

  async #trust(): Promise<void> {
    this.#set('trust', { state: 'running', detail: 'checking stores' });
    const status = await this.studio.api.call('trust.status', {});
    this.studio.trust = status;
    const wanted = status.filter(
      (s) =>
        this.isSelected(s.store) && (s.state === 'not-trusted' || s.state === 'needs-permission'),
    );
    if (wanted.length > 0) {
      this.#set('trust', {
        state: 'running',
        detail: `installing into ${wanted.map((s) => s.label).join(', ')}`,
      });
      const res = await this.studio.api.call('trust.install', {
        stores: wanted.map((s) => s.store),
        taskId: this.studio.api.newTaskId(),
      });
      this.sudo = (res.privileged ?? []).filter((p) => !p.ran);
      this.studio.trust = await this.studio.api.call('trust.status', {}).catch(() => res.stores);
    }
    const chosen = this.studio.trust.filter(
      (s) => this.isSelected(s.store) && s.state !== 'not-present',
    );
    const ok = chosen.filter((s) => s.state === 'trusted');
    const notOk = chosen.filter((s) => s.state !== 'trusted');
    if (ok.length === 0) {
      this.#set('trust', {
        state: 'warn',
        detail: 'not trusted in any selected store yet: see the badges on the Overview for the fix',
      });
    } else if (notOk.length > 0) {
      this.#set('trust', {
        state: 'warn',
        detail: `trusted in ${ok.map((s) => s.label).join(', ')}; not in ${notOk.map((s) => s.label).join(', ')}`,
      });
    } else {
      this.#set('trust', {
        state: 'done',
        detail: `trusted in ${ok.map((s) => s.label).join(', ')}`,
      });
    }
  }

  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.finished = false;
    this.url = null;
    for (const s of this.steps) this.#set(s.id, { state: 'pending', detail: '', error: undefined });
    const api = this.studio.api;
    let current: FlowStep['id'] = 'ca';
    try {
      // 1. CA
      if (this.studio.ca) {
        this.#set('ca', { state: 'skipped', detail: `using "${this.studio.ca.commonName}"` });
      } else {
        this.#set('ca', { state: 'running', detail: 'generating the key' });
        this.caTaskId = this.studio.api.newTaskId();
        this.studio.ca = await api.call('ca.create', {
          taskId: this.caTaskId,
          keyType: this.keyType,
          constrained: this.constrained,
        });
        this.#set('ca', { state: 'done', detail: `created "${this.studio.ca.commonName}"` });
      }

      // 2. Trust, only in the stores the user left ticked and that exist here. A failure here does not
      //    stop the flow: the server still works for clients given the CA, and the badges say what to fix.
      current = 'trust';
      try {
        await this.#trust();
      } catch (e) {
        const err = errorText(e);
        this.#set('trust', { state: 'warn', detail: err.message, error: err });
      }

      // 3. A valid leaf for localhost from this CA, else issue one.
      current = 'cert';
      this.#set('cert', { state: 'running', detail: 'looking for an existing certificate' });
      await this.studio.refreshLeaves();
      let leaf: LeafDto | undefined = this.studio.leaves.find(
        (l) =>
          l.caFingerprint256 === this.studio.ca?.fingerprint256 &&
          LOCALHOST_NAMES.every((n) => l.names.includes(n)) &&
          Date.parse(l.notAfter) > Date.now() + 86_400_000,
      );
      if (leaf) {
        this.#set('cert', { state: 'skipped', detail: `reusing certificate ${leaf.id}` });
      } else {
        const r = await api.call('cert.issue', { names: LOCALHOST_NAMES });
        leaf = r.leaf;
        await this.studio.refreshLeaves();
        this.#set('cert', {
          state: r.warnings.length ? 'warn' : 'done',
          detail: r.warnings.length ? r.warnings.join('; ') : `issued ${leaf.id}`,
        });
      }

      // 4. A wss server with that leaf: reuse, else add; then start.
      current = 'server';
      this.#set('server', { state: 'running', detail: 'starting' });
      await this.studio.refreshServers();
      let server: ServerDto | undefined = this.studio.servers.find(
        (s) => s.definition.scheme === 'wss' && s.definition.certId === leaf.id,
      );
      server ??= await api.call('server.add', {
        name: 'localhost (wss)',
        scheme: 'wss',
        port: 0,
        certId: leaf.id,
      });
      if (server.state !== 'running') server = await api.call('server.start', { id: server.id });
      await this.studio.refreshServers();
      // The server binds 127.0.0.1; show the name the certificate and the browser care about.
      this.url = server.url?.replace('//127.0.0.1:', '//localhost:') ?? null;
      this.#set('server', {
        state: 'done',
        detail: server.url ? `listening at ${this.url}` : 'running',
      });
      this.finished = true;
    } catch (e) {
      const err = errorText(e);
      this.#set(current, { state: 'failed', detail: err.message, error: err });
    } finally {
      this.running = false;
    }
  }
}
