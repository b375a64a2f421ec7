// Task ids shared by the engine and the pages that follow its tasks, in a module without the schemas (the
// engine's workflow handler imports it without loading valibot).
import type { SetupStepId } from './api';

/** The id setup.localhost gives the task it starts for one step (so a page can follow its progress). */
export function subtaskId(taskId: string, step: SetupStepId): string {
  return `${taskId.slice(0, 63 - step.length)}-${step}`;
}
