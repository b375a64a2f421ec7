// One request run through a dispatcher as a promise: the result, or the reply's error as a WssError. What
// workflow tasks (handlers-setup.ts) and the CLI use to run a request as its shell would.
import type { Input, RequestName, Result } from '../../shared/api';
import { WssError } from '../../shared/errors';
import type { CallContext, Dispatcher } from './dispatch';

export async function requestThrough<K extends RequestName>(
  dispatcher: Pick<Dispatcher, 'call'>,
  name: K,
  input: Input<K>,
  ctx: CallContext,
): Promise<Result<K>> {
  const reply = await dispatcher.call(name, input, ctx);
  if (!reply.ok) throw new WssError(reply.error);
  return reply.result as Result<K>;
}
