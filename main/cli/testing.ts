// For tests: run a wss-studio command in this process (no bundle, no child process) and collect what it
// prints. Stdin is never read and Ctrl-C never comes.
import { run } from './index';
import type { Io } from './command';

export async function runInProcess(
  argv: string[],
  opts: { env: NodeJS.ProcessEnv; cwd: string },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: opts.env,
    cwd: opts.cwd,
    interrupted: new Promise(() => {}),
  };
  const code = await run(argv, io);
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}
