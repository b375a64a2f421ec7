// Long tasks (CA generation, trust install, doctor): a caller-chosen task id, progress pushed on the
// `task.progress` stream, and cancellation through an AbortSignal the engine function honours.
import type { RequestName, TaskProgress } from '../../shared/api';
import { inputError, q } from '../../shared/errors';
import type { EventHub } from './events';

export interface TaskHandle {
  id: string;
  signal: AbortSignal;
  progress(
    step: string,
    extra?: Partial<Omit<TaskProgress, 'taskId' | 'task' | 'state' | 'step'>>,
  ): void;
}

let counter = 0;

export class Tasks {
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly hub: EventHub) {}

  async run<T>(
    task: RequestName,
    taskId: string | undefined,
    fn: (t: TaskHandle) => Promise<T>,
  ): Promise<T> {
    const id = taskId ?? `task-${++counter}`;
    if (this.running.has(id)) {
      throw inputError(
        'TASK_ID_IN_USE',
        `start ${q(task)}`,
        `task id ${q(id)} is already running`,
        {
          field: 'taskId',
          hint: 'use a fresh task id (client.newTaskId())',
        },
      );
    }
    const ac = new AbortController();
    this.running.set(id, ac);
    const emit = (u: Omit<TaskProgress, 'taskId' | 'task'>) =>
      this.hub.emit('task.progress', { updates: [{ taskId: id, task, ...u }] });
    const handle: TaskHandle = {
      id,
      signal: ac.signal,
      progress: (step, extra) => emit({ state: 'running', step, ...extra }),
    };
    emit({ state: 'running', step: 'started' });
    try {
      const r = await fn(handle);
      emit({ state: ac.signal.aborted ? 'cancelled' : 'done', step: 'finished', fraction: 1 });
      return r;
    } catch (e) {
      const cancelled = ac.signal.aborted;
      emit({
        state: cancelled ? 'cancelled' : 'failed',
        step: 'finished',
        message: e instanceof Error ? e.message : String(e),
      });
      throw e;
    } finally {
      this.running.delete(id);
    }
  }

  cancel(taskId: string): boolean {
    const ac = this.running.get(taskId);
    if (!ac) return false;
    ac.abort(new Error('cancelled by the user'));
    return true;
  }

  cancelAll(): void {
    for (const ac of this.running.values()) ac.abort(new Error('shutting down'));
  }
}
