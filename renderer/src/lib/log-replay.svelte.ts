// "Replay to connection N" for a selection of the frame log: the form's state and the one API call
// (replay.start with logConn, fromSeq, toSeq). The engine plays the selection's server->client messages
// with their recorded spacing divided by the speed, optionally awaiting each recorded client message.
import type { Api } from './api';
import { errorText } from './format';
import type { ReplaySelection } from './log-replay';
import type { UiError } from './studio.svelte';

export class LogReplay {
  /** Connection number to play to ('' = none chosen yet). */
  target = $state('');
  speed = $state(1);
  waitForClient = $state(false);
  busy = $state(false);
  result = $state('');
  error = $state<UiError | null>(null);

  constructor(readonly api: Api) {}

  async start(sel: ReplaySelection): Promise<void> {
    this.busy = true;
    this.error = null;
    this.result = '';
    const conn = Number(this.target);
    try {
      const r = await this.api.call('replay.start', {
        serverId: sel.serverId,
        conn,
        logConn: sel.conn,
        fromSeq: sel.fromSeq,
        toSeq: sel.toSeq,
        speed: Number(this.speed) || 1,
        waitForClient: this.waitForClient,
      });
      this.result = `Replaying ${r.messages} message${r.messages === 1 ? '' : 's'} of connection #${sel.conn} (events ${sel.fromSeq}–${sel.toSeq}) to connection #${conn}${
        r.awaits ? `, waiting for ${r.awaits} client message${r.awaits === 1 ? '' : 's'}` : ''
      } (${r.replayId}).`;
    } catch (e) {
      this.error = errorText(e);
    } finally {
      this.busy = false;
    }
  }
}
