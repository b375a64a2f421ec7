// doctor.run: the connection doctor (main/doctor) as a long task: each step is pushed on task.progress as it
// finishes, and task.cancel (handlers-tasks.ts) aborts it (the report comes back with cancelled: true and the steps so far).
import path from 'node:path';
import { diagnose } from '../doctor';
import { TRUST_CACHE_FILE } from '../store';
import { loadCa } from '../pki';
import type { Handlers } from './dispatch';
import type { CoreDeps } from './deps';

export function doctorHandlers(d: CoreDeps): Pick<Handlers, 'doctor.run'> {
  return {
    'doctor.run': ({ url, origin, clients, taskId }) =>
      d.tasks.run('doctor.run', taskId, async (t) => {
        let caPem: string | undefined;
        let caPath: string | undefined;
        try {
          const ca = loadCa(d.store);
          caPem = ca?.certPem;
          caPath = ca?.certPath;
        } catch {
          caPem = undefined; // a corrupt CA is reported by ca.get; the doctor still checks the system bundle
        }
        return diagnose(url, {
          ...(origin !== undefined ? { origin } : {}),
          ...(caPem !== undefined ? { caPem } : {}),
          // Every client family found, judged from its own store; fixes in words (the screen has buttons).
          clients: {
            ...(caPath ? { caPath } : {}),
            ...(clients?.length ? { only: clients } : {}),
            commands: false,
            context: { env: d.env },
            cacheFile: path.join(d.store.root, TRUST_CACHE_FILE),
          },
          forApp: true,
          signal: t.signal,
          onStep: (step) => t.progress(step.id, { doctorStep: step }),
        });
      }),
  };
}
