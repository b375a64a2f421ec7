// task.*: requests about long tasks of any kind (doctor.run, trust installs, …) rather than one area's.
import type { Handlers } from './dispatch';
import type { CoreDeps } from './deps';

export function taskHandlers(d: Pick<CoreDeps, 'tasks'>): Pick<Handlers, 'task.cancel'> {
  return {
    // Any running task by its id; the task ends with its own result (e.g. a doctor report with cancelled).
    'task.cancel': ({ taskId }) => ({ cancelled: d.tasks.cancel(taskId) }),
  };
}
