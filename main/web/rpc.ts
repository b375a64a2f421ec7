// Shape checks for what a web-mode client sends over /rpc, as a pure function that never throws: nothing
// else in the server reads a frame before it passed here. A client can send any bytes; the worst it gets
// back is an error reply naming what was wrong (never echoing the value, which may be huge or deep).
import { isStreamName, type StreamName } from '../../shared/api';
import type { RpcServerMessage } from '../../shared/client';
import { q, type WssErrorData } from '../../shared/errors';

/** Longest request name worth looking up (the real ones are under 30 characters). */
const MAX_NAME = 100;

/** shared/client.ts's RpcClientMessage once checked: the stream is a known one. */
export type RpcMessage =
  | { t: 'call'; id: number; name: string; input: unknown }
  | { t: 'sub' | 'unsub'; stream: StreamName };

export type Parsed = { ok: true; msg: RpcMessage } | { ok: false; id: number; cause: string };

const KEYS: Record<string, readonly string[]> = {
  call: ['t', 'id', 'name', 'input'],
  sub: ['t', 'stream'],
  unsub: ['t', 'stream'],
};

/** A call id is what the client uses to match the reply: a non-negative safe integer. */
export function isCallId(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

export function parseRpcMessage(text: string): Parsed {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return { ok: false, id: -1, cause: 'the message is not JSON' };
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) {
    return { ok: false, id: -1, cause: 'the message is not a JSON object' };
  }
  const o = m as Record<string, unknown>;
  const t = Object.hasOwn(o, 't') ? o.t : undefined;
  const keys = typeof t === 'string' && Object.hasOwn(KEYS, t) ? KEYS[t] : undefined;
  if (!keys) return { ok: false, id: -1, cause: '"t" must be "call", "sub" or "unsub"' };
  const id = isCallId(o.id) ? o.id : -1;
  const extra = Object.keys(o).find((k) => !keys.includes(k));
  if (extra !== undefined) {
    return { ok: false, id, cause: `unknown key ${q(extra.slice(0, 40))}` };
  }
  if (t === 'call') {
    if (!isCallId(o.id)) return { ok: false, id, cause: '"id" must be a whole number >= 0' };
    if (typeof o.name !== 'string' || o.name.length > MAX_NAME) {
      return {
        ok: false,
        id,
        cause: `"name" must be a request name (a string of at most ${MAX_NAME})`,
      };
    }
    return { ok: true, msg: { t, id: o.id, name: o.name, input: o.input } };
  }
  if (!isStreamName(o.stream)) return { ok: false, id, cause: '"stream" must be a stream name' };
  return { ok: true, msg: { t: t as 'sub' | 'unsub', stream: o.stream } };
}

/** The error reply for a frame that did not pass, or for a call the server would not run. */
export function rpcError(id: number, code: string, cause: string, hint?: string): RpcServerMessage {
  const error: WssErrorData = {
    code,
    action: 'read the RPC message',
    cause,
    kind: 'input',
    hint:
      hint ?? 'send {"t":"call","id":N,"name":"<request>","input":{...}} (see shared/client.ts)',
  };
  return { t: 'result', id, ok: false, error };
}
