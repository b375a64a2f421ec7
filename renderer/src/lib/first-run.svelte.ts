// "Make localhost trusted": CA -> trust -> localhost certificate -> wss:// server, one visible step each.
// The workflow is the engine's task setup.localhost (main/engine/handlers-setup.ts, also `wss-studio
// setup`): which stores, which certificate is reused, which server is started are its rules. This class
// only starts it with the user's choices and shows its progress (every update carries every step).
import {
  subtaskId,
  type SetupStep,
  type SetupStepId,
  type SetupStepState,
  type TrustStoreId,
} from '../../../shared/api';
import { errorText } from './format';
import type { Studio, UiError } from './studio.svelte';

export type StepState = SetupStepState;

export interface FlowStep {
  id: SetupStepId;
  label: string;
  state: StepState;
  detail: string;
  error?: UiError;
}

const LABELS: Record<SetupStepId, string> = {
  ca: 'Create the local certificate authority',
  trust: 'Install it where browsers and tools look',
  cert: 'Issue a certificate for localhost 127.0.0.1 ::1',
  server: 'Start a wss:// echo server',
};

const pendingSteps = (): FlowStep[] =>
  (Object.keys(LABELS) as SetupStepId[]).map((id) => ({
    id,
    label: LABELS[id],
    state: 'pending',
    detail: '',
  }));

export class FirstRun {
  steps = $state<FlowStep[]>(pendingSteps());
  running = $state(false);
  finished = $state(false);
  url = $state<string | null>(null);
  /** Which trust stores the flow may touch (the system store needs admin rights; the user decides). */
  selected = $state<Record<string, boolean>>({});
  /** The CA step's own task, whose progress ("generating RSA-3072 key") shows beside the button. */
  caTaskId = $state<string | null>(null);
  /** sudo lines for stores that need root (web mode cannot prompt). */
  sudo = $state<{ store: string; sudo: string }[]>([]);
  /** Expert options for a new CA. */
  keyType = $state<'ecdsa' | 'rsa'>('ecdsa');
  constrained = $state(true);

  // Getters, not $derived: they read `studio`, which is only set in the constructor.
  /** The stores the engine would touch on this platform (app.info), offered as checkboxes. */
  get storeChoices(): TrustStoreId[] {
    return this.studio.info?.setupStores ?? [];
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

  /** The engine's picture of the steps, with this page's labels and errors in its words. */
  #show(steps: SetupStep[]): void {
    this.steps = this.steps.map((s) => {
      const e = steps.find((x) => x.id === s.id);
      if (!e) return s;
      return {
        ...s,
        state: e.state,
        detail: e.detail,
        error: e.error ? errorText(e.error) : undefined,
      };
    });
  }

  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.finished = false;
    this.url = null;
    this.sudo = [];
    this.steps = pendingSteps();
    const api = this.studio.api;
    const taskId = api.newTaskId();
    this.caTaskId = subtaskId(taskId, 'ca');
    const off = api.on('task.progress', (p) => {
      for (const u of p.updates) if (u.taskId === taskId && u.setup) this.#show(u.setup);
    });
    try {
      const r = await api.call('setup.localhost', {
        taskId,
        stores: this.storeChoices.filter((id) => this.isSelected(id)),
        keyType: this.keyType,
        constrained: this.constrained,
      });
      this.#show(r.steps);
      this.studio.ca = r.ca;
      this.studio.trust = r.trust;
      this.sudo = r.sudo;
      this.url = r.url ?? null;
      await Promise.all([this.studio.refreshLeaves(), this.studio.refreshServers()]);
      this.finished = true;
    } catch (e) {
      // The step that was under way failed (the reply can overtake its last progress update).
      const err = errorText(e);
      const at =
        this.steps.find((s) => s.state === 'failed') ??
        this.steps.find((s) => s.state === 'running') ??
        this.steps.find((s) => s.state === 'pending') ??
        this.steps[0]!;
      this.steps = this.steps.map((s) =>
        s.id === at.id ? { ...s, state: 'failed', detail: err.message, error: err } : s,
      );
    } finally {
      off();
      this.running = false;
    }
  }
}
