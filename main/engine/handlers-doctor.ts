// doctor.run: placeholder until main/doctor/index.ts lands.
import { failure } from '../../shared/errors';
import type { Handlers } from './dispatch';
import type { EngineDeps } from './index';

export function doctorHandlers(d: EngineDeps): Pick<Handlers, 'doctor.run' | 'task.cancel'> {
  return {
    'doctor.run': () => {
      throw failure('NOT_AVAILABLE', 'run doctor', 'the doctor is not part of this build yet');
    },
    'task.cancel': ({ taskId }) => ({ cancelled: d.tasks.cancel(taskId) }),
  };
}
