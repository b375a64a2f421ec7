// trust.*: placeholder until main/trust/index.ts lands (then this file calls trustStatusAll/install/uninstall).
import { failure } from '../../shared/errors';
import type { Handlers } from './dispatch';
import type { EngineDeps } from './index';

const notYet = (what: string) => () => {
  throw failure('NOT_AVAILABLE', what, 'the trust engine is not part of this build yet');
};

export function trustHandlers(
  _d: EngineDeps,
): Pick<Handlers, 'trust.status' | 'trust.install' | 'trust.uninstall'> {
  return {
    'trust.status': notYet('read trust status'),
    'trust.install': notYet('install CA'),
    'trust.uninstall': notYet('uninstall CA'),
  };
}
