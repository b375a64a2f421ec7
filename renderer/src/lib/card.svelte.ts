// What the server and proxy cards share: the badge tone of a run state, and one action at a time (busy
// while it runs, its error kept for the card). The cards follow the engine's status streams, so an action
// only waits for its answer or its error.
import type { Tone } from '../components/Badge.svelte';
import { errorText } from './format';
import type { UiError } from './studio.svelte';

export const STATE_TONE: Record<string, Tone> = {
  running: 'ok',
  starting: 'info',
  stopping: 'info',
  stopped: 'neutral',
  error: 'bad',
};

export class CardAction {
  busy = $state(false);
  error = $state<UiError | null>(null);

  /** Run fn (clearing the last error); resolves true when it succeeded. */
  async run(fn: () => Promise<unknown>): Promise<boolean> {
    this.busy = true;
    this.error = null;
    try {
      await fn();
      return true;
    } catch (e) {
      this.error = errorText(e);
      return false;
    } finally {
      this.busy = false;
    }
  }
}
