// The one error model for every shell (engine, CLI, web RPC, control socket, renderer). Messages follow
// one style (mkcert's):
//   failed to <verb> <object>: <cause>
// with user values quoted by q(), and a hint that names the exact fix where one exists.
// `code` is stable so scripts and the UI can branch on it; nothing branches on the sentence (pure checks
// return codes, e.g. main/pki/names.ts's NameCheck.code). eslint.config.js flags JSON.stringify and raw
// "${…}" inside error arguments.

export type ErrorKind = 'input' | 'failure';

/** An error as plain JSON: what IPC, web RPC, the control socket and server statuses carry. */
export interface WssErrorData {
  code: string;
  /** "issue certificate", "read CA key" ... (the "<verb> <object>" part) */
  action: string;
  cause: string;
  hint?: string;
  /** The input field that was rejected, when the error is about input ("names[1]", "patch.port"). */
  field?: string;
  kind: ErrorKind;
}

/** The one sentence built from error data: `failed to <action>: <cause>`. */
export function message(data: Pick<WssErrorData, 'action' | 'cause'>): string {
  return `failed to ${data.action}: ${data.cause}`;
}

export class WssError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly hint?: string;
  readonly field?: string;
  /**
   * The rejected value, for callers in this process only. It is never part of `data` / `toJSON()`, so it
   * cannot reach a reply, a status or a log: it may be huge or secret.
   */
  readonly value?: unknown;
  readonly data: WssErrorData;

  constructor(data: WssErrorData & { value?: unknown }) {
    const wire = errorData(data);
    super(message(wire));
    this.name = 'WssError';
    this.code = wire.code;
    this.kind = wire.kind;
    this.hint = wire.hint;
    this.field = wire.field;
    if (data.value !== undefined) this.value = data.value;
    this.data = wire;
  }

  toJSON(): WssErrorData {
    return { ...this.data };
  }
}

/** The wire fields only, without keys whose value is undefined (data received may lack `kind`). */
function errorData(d: WssErrorData): WssErrorData {
  return {
    code: d.code,
    action: d.action,
    cause: d.cause,
    kind: d.kind === 'input' ? 'input' : 'failure',
    ...(d.hint !== undefined ? { hint: d.hint } : {}),
    ...(d.field !== undefined ? { field: d.field } : {}),
  };
}

/** Bad input from the user: CLI exit code 2, nothing on disk touched. */
export function inputError(
  code: string,
  action: string,
  cause: string,
  opts: { hint?: string; field?: string; value?: unknown } = {},
): WssError {
  return new WssError({ code, action, cause, kind: 'input', ...opts });
}

/** Anything else that went wrong: CLI exit code 1. */
export function failure(code: string, action: string, cause: string, hint?: string): WssError {
  return new WssError({ code, action, cause, kind: 'failure', hint });
}

export function isWssError(e: unknown): e is WssError {
  return e instanceof WssError;
}

/** Error data received over a boundary (a reply's `error`): code, action and cause are strings. */
export function isWssErrorData(x: unknown): x is WssErrorData {
  if (!x || typeof x !== 'object') return false;
  const o = x as Record<string, unknown>;
  return typeof o.code === 'string' && typeof o.action === 'string' && typeof o.cause === 'string';
}

/** Quote a user value the way every message does: "value" (JSON string escapes, so a quote stays visible). */
export function q(value: unknown): string {
  return JSON.stringify(String(value));
}
