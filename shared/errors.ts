// One error type for every shell. Messages follow one style (mkcert's):
//   failed to <verb> <object>: <cause>
// with user values quoted, and a hint that names the exact fix where one exists.
// `code` is stable (documented in README "Error codes") so scripts and the UI can branch on it.

export type ErrorKind = 'input' | 'failure';

export interface WssErrorData {
  code: string;
  /** "issue certificate", "read CA key" ... (the "<verb> <object>" part) */
  action: string;
  cause: string;
  hint?: string;
  /** The input field that was rejected, when the error is about input. */
  field?: string;
  value?: unknown;
  kind: ErrorKind;
}

export class WssError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly hint?: string;
  readonly field?: string;
  readonly data: WssErrorData;

  constructor(data: WssErrorData) {
    super(`failed to ${data.action}: ${data.cause}`);
    this.name = 'WssError';
    this.code = data.code;
    this.kind = data.kind;
    this.hint = data.hint;
    this.field = data.field;
    this.data = data;
  }

  toJSON(): WssErrorData {
    return { ...this.data };
  }
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
  return new WssError({
    code,
    action,
    cause,
    kind: 'failure',
    ...(hint !== undefined ? { hint } : {}),
  });
}

export function isWssError(e: unknown): e is WssError {
  return e instanceof WssError;
}

/** Quote a user value the way every message does: "value". */
export function q(value: unknown): string {
  return JSON.stringify(String(value));
}
