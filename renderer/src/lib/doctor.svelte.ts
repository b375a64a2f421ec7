// The Doctor screen's state: runs doctor.run as a long task and shows each step as it finishes
// (task.progress carries `doctorStep`), then the full report.
import type { DoctorReport, DoctorStep } from '../../../shared/api';
import { errorText } from './format';
import type { Studio, UiError } from './studio.svelte';

export class DoctorState {
  url = $state('');
  origin = $state('');
  running = $state(false);
  taskId = $state<string | null>(null);
  report = $state<DoctorReport | null>(null);
  error = $state<UiError | null>(null);

  /** Steps: the final report's once it is in, else the ones streamed so far. */
  readonly steps = $derived.by<DoctorStep[]>(() => {
    if (this.report) return this.report.steps;
    if (!this.taskId) return [];
    return this.#streamed;
  });
  get current() {
    return this.taskId ? this.studio.tasks[this.taskId] : undefined;
  }
  #streamed = $state<DoctorStep[]>([]);
  #unsub: (() => void) | null = null;

  constructor(readonly studio: Studio) {}

  async run(): Promise<void> {
    if (this.running) return;
    this.error = null;
    this.report = null;
    this.#streamed = [];
    const url = this.url.trim();
    if (!url) {
      this.error = { message: 'Enter the ws:// or wss:// URL your client opens.' };
      return;
    }
    const taskId = this.studio.api.newTaskId();
    this.taskId = taskId;
    this.running = true;
    this.#unsub?.();
    this.#unsub = this.studio.api.on('task.progress', (p) => {
      for (const u of p.updates) {
        if (u.taskId !== taskId || !u.doctorStep) continue;
        const step = u.doctorStep;
        const i = this.#streamed.findIndex((s) => s.id === step.id);
        this.#streamed = i >= 0 ? this.#streamed.with(i, step) : [...this.#streamed, step];
      }
    });
    try {
      this.report = await this.studio.api.call('doctor.run', {
        url,
        ...(this.origin.trim() ? { origin: this.origin.trim() } : {}),
        taskId,
      });
    } catch (e) {
      this.error = errorText(e);
    } finally {
      this.running = false;
      this.#unsub?.();
      this.#unsub = null;
    }
  }

  async cancel(): Promise<void> {
    if (this.taskId && this.running)
      await this.studio.api.call('task.cancel', { taskId: this.taskId });
  }
}
