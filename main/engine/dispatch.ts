// One request path for every shell: look the name up in the contract table, validate the input with its
// schema (a rejection names the field), run the shell's guard, call the engine handler, and turn any error
// into plain JSON (shared/errors.ts's WssErrorData) so IPC and web RPC carry the same reply. `call` never
// rejects: whatever a client sends, the worst it gets back is an error reply.
import {
  isRequestName,
  validateInput,
  type ParsedInput,
  type RequestName,
  type Result,
} from '../../shared/api';
import { isWssError, q, type WssErrorData } from '../../shared/errors';

/** Operations web mode runs only when `wss-studio ui` was started with the matching flag (gate.ts). */
export interface WebAllow {
  /** --allow-unconstrained: unconstrained or effectively global CAs (create, import, trust). */
  unconstrained?: boolean;
  /** --allow-lan: servers bound to an address other machines can reach. */
  lan?: boolean;
}

/** Who is calling: the shells pass it so handlers can do shell-specific things (native dialogs ...). */
export interface CallContext {
  shell: 'electron' | 'web' | 'cli' | 'test';
  /** Web mode only: what its start-up flags allow. */
  allow?: WebAllow;
}

export type Handler<K extends RequestName> = (
  input: ParsedInput<K>,
  ctx: CallContext,
) => Promise<Result<K>> | Result<K>;

/** One handler per contract entry: the engine's table is typed against this, so none can be missing. */
export type Handlers = { [K in RequestName]: Handler<K> };

/**
 * Where the dispatcher finds a request's handler: a table, or a lookup that may load the handler's module on
 * first use (main/engine/lazy.ts), so a shell pays only for the modules of the requests it makes.
 */
export type HandlerSource =
  Partial<Handlers> | (<K extends RequestName>(name: K) => Promise<Handler<K> | undefined>);

/** Runs after validation, before the handler; throws (or rejects with) a WssError to refuse the call. */
export type Guard = (name: RequestName, input: unknown, ctx: CallContext) => void | Promise<void>;

export type Reply = { ok: true; result: unknown } | { ok: false; error: WssErrorData };

/** How an unknown name is named back: never by converting the value (`{toString:1}` throws). */
function describeName(name: unknown): string {
  if (typeof name === 'string') return q(name.slice(0, 100));
  return `of type ${name === null ? 'null' : Array.isArray(name) ? 'array' : typeof name}`;
}

export class Dispatcher {
  constructor(
    private readonly handlers: HandlerSource,
    private readonly guard?: Guard,
  ) {}

  async call(name: unknown, input: unknown, ctx: CallContext): Promise<Reply> {
    if (!isRequestName(name)) {
      return {
        ok: false,
        error: {
          code: 'UNKNOWN_REQUEST',
          action: 'call the engine',
          cause: `unknown request ${describeName(name)}`,
          hint: 'see shared/api.ts for the request names',
          field: 'name',
          kind: 'input',
        },
      };
    }
    try {
      const v = validateInput(name, input);
      if (!v.ok) return { ok: false, error: v.error };
      const h = (
        typeof this.handlers === 'function' ? await this.handlers(name) : this.handlers[name]
      ) as Handler<typeof name> | undefined;
      if (!h) {
        return {
          ok: false,
          error: {
            code: 'NOT_IMPLEMENTED',
            action: `run ${q(name)}`,
            cause: 'this shell does not implement it',
            kind: 'failure',
          },
        };
      }
      await this.guard?.(name, v.value, ctx);
      const result = await h(v.value as never, ctx);
      return { ok: true, result: result ?? null };
    } catch (e) {
      return { ok: false, error: toErrorData(e, name) };
    }
  }
}

export function toErrorData(e: unknown, name: string): WssErrorData {
  if (isWssError(e)) {
    // Never echo the rejected value back: it may be huge or secret (WssError keeps it out of `data`).
    return e.toJSON();
  }
  let msg: string;
  try {
    msg = e instanceof Error ? e.message : String(e);
  } catch {
    msg = 'unknown error';
  }
  return { code: 'INTERNAL', action: `run ${q(name)}`, cause: msg.slice(0, 1000), kind: 'failure' };
}
