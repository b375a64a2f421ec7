// doctor.run: the connection doctor (main/doctor) as a long task: each step is pushed on task.progress as it
// finishes, and task.cancel (handlers-tasks.ts) aborts it (the report comes back with cancelled: true and the
// steps so far). The same handler serves `wss-studio doctor` (shell "cli"): there fixes name the CLI's
// commands and flags; in the app and web mode they name the screens and buttons.
import fs from 'node:fs';
import path from 'node:path';
import { inputError, q } from '../../shared/errors';
import { diagnose } from '../doctor';
import { TRUST_CACHE_FILE } from '../store';
import { loadCa } from '../pki';
import type { Handlers } from './dispatch';
import type { CoreDeps } from './deps';

/** The PEM of `file`, read before the task starts so a bad file is an input error and no report. */
function readCaFile(file: string, cli: boolean): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw inputError(
      'BAD_CA',
      `read CA certificate ${q(file)}`,
      (e as NodeJS.ErrnoException).code ?? String(e),
      {
        field: cli ? '--ca' : 'caFile',
        value: file,
        hint: cli
          ? 'pass the path of a CA certificate in PEM form, e.g. "--ca ~/.local/share/mkcert/rootCA.pem"'
          : 'choose a CA certificate file in PEM form (mkcert\'s is rootCA.pem in "mkcert -CAROOT")',
      },
    );
  }
}

export function doctorHandlers(d: CoreDeps): Pick<Handlers, 'doctor.run'> {
  return {
    'doctor.run': async (
      { url, origin, clients, protocols, timeoutMs, caFile, taskId },
      { shell },
    ) => {
      const cli = shell === 'cli';
      const given = caFile !== undefined ? readCaFile(caFile, cli) : undefined;
      return d.tasks.run('doctor.run', taskId, async (t) => {
        let caPem = given;
        let caPath = given !== undefined ? caFile : undefined;
        if (given === undefined) {
          try {
            const ca = loadCa(d.store);
            caPem = ca?.certPem;
            caPath = ca?.certPath;
          } catch {
            caPem = undefined; // a corrupt CA is reported by ca.get; the doctor still checks the system bundle
          }
        }
        return diagnose(url, {
          ...(origin !== undefined ? { origin } : {}),
          ...(caPem !== undefined ? { caPem } : {}),
          ...(protocols?.length ? { protocols } : {}),
          ...(timeoutMs !== undefined ? { timeoutMs } : {}),
          // Every client family found, judged from its own store. The CLI prints each fix as the
          // command to run; the app words it (its screen has buttons for them).
          clients: {
            ...(caPath ? { caPath } : {}),
            ...(clients?.length ? { only: clients } : {}),
            ...(cli ? {} : { commands: false }),
            context: { env: d.env },
            cacheFile: path.join(d.store.root, TRUST_CACHE_FILE),
          },
          ...(cli ? {} : { forApp: true }),
          signal: t.signal,
          onStep: (step) => t.progress(step.id, { doctorStep: step }),
        });
      });
    },
  };
}
