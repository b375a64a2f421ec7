// Live faults typed into a running `wss-studio proxy` or `wss-studio serve` (main/faults/commands.ts is the
// language): each line is applied to every running target and answered on stderr, so stdout stays the log.
import type { Io } from './command';
import { describeFaults, FAULT_HELP, parseFaultCommand, type FaultTarget } from '../faults';

/** Start reading lines (when the shell gives them); returns the stop function. */
export function readFaultLines(
  io: Io,
  targets: () => { id: string; target: FaultTarget }[],
): () => void {
  const stop = io.lines?.((line) => {
    const c = parseFaultCommand(line);
    if (!c) return;
    if (c.kind === 'help') return void io.err(FAULT_HELP);
    if (c.kind === 'error') return void io.err(`error: ${c.message}`);
    const list = targets();
    const many = list.length > 1;
    for (const { id, target } of list) {
      const who = many ? `${id}: ` : '';
      try {
        if (c.kind === 'show') io.err(`${who}faults: ${describeFaults(target.faults.settings)}`);
        else if (c.kind === 'set')
          io.err(`${who}faults: ${describeFaults(target.faults.set(c.patch))}`);
        else if (c.kind === 'close') {
          const n = target.closeConnections(c.conn, c.code, c.reason);
          io.err(`${who}closed ${n} connection(s) with ${c.code}`);
        } else target.inject(c.conn, c.to, Buffer.from(c.text, 'utf8'), false);
      } catch (e) {
        // A connection number belongs to one server: the others say they do not have it.
        io.err(`${who}error: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  });
  return stop ?? (() => {});
}
