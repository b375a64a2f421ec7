// The confirmation step before an operation that changes what the user's machine trusts (CA replacement,
// trust install/uninstall, widening operations): a native dialog in the desktop app; shells without native
// dialogs confirm in the page before calling.
import { inputError } from '../../shared/errors';
import type { EngineDeps } from './deps';

/** Ask the shell to confirm; a "no" throws CANCELLED naming the action. */
export async function confirmOrCancel(
  d: Pick<EngineDeps, 'hooks'>,
  q: { title: string; message: string; detail?: string; ok: string },
  action: string,
): Promise<void> {
  if (!d.hooks.confirm) return;
  if (!(await d.hooks.confirm(q))) {
    throw inputError('CANCELLED', action, 'cancelled in the confirmation dialog', {
      hint: 'confirm the dialog to go ahead',
    });
  }
}
