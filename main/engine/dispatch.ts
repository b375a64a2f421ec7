// One request path for every shell: look the name up in the contract table, validate the input with its
// schema (a rejection names the field), call the engine handler, and turn any error into plain JSON
// (shared/errors.ts's WssErrorData) so IPC and web RPC carry the same reply.
import {
  isRequestName,
  validateInput,
  type ApiErrorData,
  type ParsedInput,
  type RequestName,
  type Result,
} from '../../shared/api';
import { isWssError } from '../../shared/errors';

/** Who is calling: the shells pass it so handlers can do shell-specific things (native dialogs ...). */
export interface CallContext {
  shell: 'electron' | 'web' | 'test';
}

export type Handler<K extends RequestName> = (
  input: ParsedInput<K>,
  ctx: CallContext,
) => Promise<Result<K>> | Result<K>;

/** One handler per contract entry: the engine's table is typed against this, so none can be missing. */
export type Handlers = { [K in RequestName]: Handler<K> };

export type Reply = { ok: true; result: unknown } | { ok: false; error: ApiErrorData };

export class Dispatcher {
  constructor(private readonly handlers: Partial<Handlers>) {}

  async call(name: unknown, input: unknown, ctx: CallContext): Promise<Reply> {
    if (!isRequestName(name)) {
      return {
        ok: false,
        error: {
          code: 'UNKNOWN_REQUEST',
          action: 'call the engine',
          cause: `unknown request ${JSON.stringify(String(name).slice(0, 100))}`,
          hint: 'see shared/api.ts for the request names',
          field: 'name',
          kind: 'input',
        },
      };
    }
    const v = validateInput(name, input);
    if (!v.ok) return { ok: false, error: v.error };
    const h = this.handlers[name] as Handler<typeof name> | undefined;
    if (!h) {
      return {
        ok: false,
        error: {
          code: 'NOT_IMPLEMENTED',
          action: `run "${name}"`,
          cause: 'this shell does not implement it',
          kind: 'failure',
        },
      };
    }
    try {
      const result = await h(v.value as never, ctx);
      return { ok: true, result: result ?? null };
    } catch (e) {
      return { ok: false, error: toErrorData(e, name) };
    }
  }
}

export function toErrorData(e: unknown, name: string): ApiErrorData {
  if (isWssError(e)) {
    // Never echo the rejected value back: it may be huge or secret.
    const d = e.data;
    return {
      code: d.code,
      action: d.action,
      cause: d.cause,
      kind: d.kind,
      ...(d.hint !== undefined ? { hint: d.hint } : {}),
      ...(d.field !== undefined ? { field: d.field } : {}),
    };
  }
  const msg = e instanceof Error ? e.message : String(e);
  return { code: 'INTERNAL', action: `run "${name}"`, cause: msg, kind: 'failure' };
}
