// The local control endpoint's wire format (`wss-studio send` and friends talking to a running instance: the
// desktop app, web mode or a `wss-studio serve` in another terminal). One JSON object per line each way.
// Requests carry the per-run token from the instance's info file (owner-only, in the state folder) and name
// a contract request (shared/api.ts), whose input is validated by that request's own schema.
import * as v from 'valibot';
import type { RequestName } from './api';
import type { WssErrorData } from './errors';

/** The contract requests a running instance answers over its control endpoint. */
export const CONTROL_REQUESTS = [
  'server.list',
  'rules.get',
  'rules.set',
  'rules.try',
  'push.send',
  'push.start',
  'push.stop',
  'push.list',
  'replay.start',
] as const satisfies readonly RequestName[];
export type ControlRequestName = (typeof CONTROL_REQUESTS)[number];

/** Largest request line (a replay recording can be large): bigger closes the connection. */
export const CONTROL_MAX_LINE = 40 * 1024 * 1024;

export const ControlRequestSchema = v.strictObject({
  id: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER)),
  token: v.pipe(
    v.string(),
    v.regex(/^[0-9a-f]{64}$/, 'must be the 64 hex digits of the info file'),
  ),
  name: v.pipe(v.string(), v.maxLength(64)),
  input: v.optional(v.unknown()),
});
export type ControlRequest = v.InferOutput<typeof ControlRequestSchema>;

/** What `<state>/control/<pid>.json` holds (mode 0600): how to reach one running instance. */
export const ControlInfoSchema = v.strictObject({
  pid: v.pipe(v.number(), v.integer(), v.minValue(1)),
  /** Unix socket path or Windows named pipe name. */
  endpoint: v.pipe(v.string(), v.maxLength(4096)),
  token: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  shell: v.picklist(['electron', 'web', 'serve', 'test']),
  startedAt: v.pipe(v.string(), v.maxLength(64)),
});
export type ControlInfo = v.InferOutput<typeof ControlInfoSchema>;

/** Answer to the built-in "control.hello": who this instance is and which servers it runs. */
export interface ControlHello {
  pid: number;
  shell: ControlInfo['shell'];
  home: string;
  startedAt: string;
  servers: { id: string; name: string; state: string; url?: string; connections: number }[];
}

export type ControlReply =
  { id: number; ok: true; result: unknown } | { id: number; ok: false; error: WssErrorData };
