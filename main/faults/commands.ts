// A one-line fault language for terminals: what `wss-studio proxy` reads on stdin while it runs, so faults
// change live without another tool. Pure parser (never throws): a line becomes an action or an error.
//
//   latency 200 [50]        fixed ms [+ 0..jitter ms] per message, both directions ("latency 0" = off)
//   drop in|out 0.25        drop a fraction of client->server (in) or server->client (out) messages
//   hold / release          stop forwarding without closing / deliver what was held, in order
//   refuse 503 | refuse off answer new upgrades with this HTTP status / accept again
//   throttle 65536 | off    bytes per second per connection and direction
//   close [CONN|all] [CODE] [REASON...]   close one or all connections (default all, 1000)
//   inject CONN client|target TEXT...      send a text message into a connection
//   clear                   no faults;   faults   show the current ones;   help
import type { FaultSettings } from '../../shared/api';
import { NO_FAULTS } from './faults';

export type FaultCommand =
  | { kind: 'set'; patch: Partial<FaultSettings> }
  | { kind: 'close'; conn?: number; code: number; reason: string }
  | { kind: 'inject'; conn: number; to: 'client' | 'target'; text: string }
  | { kind: 'show' }
  | { kind: 'help' }
  | { kind: 'error'; message: string };

export const FAULT_HELP = [
  'latency MS [JITTER]  drop in|out FRACTION  hold  release  refuse STATUS|off  throttle BYTES_PER_S|off',
  'close [CONN|all] [CODE] [REASON]  inject CONN client|target TEXT  clear  faults  help',
].join('\n');

const num = (s: string | undefined) =>
  s !== undefined && /^\d+(\.\d+)?$/.test(s) ? Number(s) : NaN;

export function parseFaultCommand(line: string): FaultCommand | null {
  const words = line.trim().split(/\s+/).filter(Boolean);
  const [cmd, a, b] = words;
  if (!cmd) return null;
  const err = (message: string): FaultCommand => ({
    kind: 'error',
    message: `${message} (type "help")`,
  });
  switch (cmd.toLowerCase()) {
    case 'latency': {
      const ms = num(a);
      const jitter = b === undefined ? 0 : num(b);
      if (!Number.isInteger(ms) || ms > 60_000 || !Number.isInteger(jitter) || jitter > 60_000)
        return err('latency takes whole milliseconds from 0 to 60000, e.g. "latency 200 50"');
      return { kind: 'set', patch: { latencyMs: ms, jitterMs: jitter } };
    }
    case 'drop': {
      const f = num(b);
      if ((a !== 'in' && a !== 'out') || !(f >= 0 && f <= 1))
        return err('drop takes a direction and a fraction from 0 to 1, e.g. "drop out 0.25"');
      return { kind: 'set', patch: a === 'in' ? { dropIn: f } : { dropOut: f } };
    }
    case 'hold':
      return { kind: 'set', patch: { hold: true } };
    case 'release':
      return { kind: 'set', patch: { hold: false } };
    case 'refuse': {
      if (a === 'off') return { kind: 'set', patch: { refuseStatus: null } };
      const s = num(a);
      if (!Number.isInteger(s) || s < 400 || s > 599)
        return err('refuse takes an HTTP status from 400 to 599, or "off"');
      return { kind: 'set', patch: { refuseStatus: s } };
    }
    case 'throttle': {
      if (a === 'off') return { kind: 'set', patch: { bandwidth: null } };
      const bps = num(a);
      if (!Number.isInteger(bps) || bps < 64)
        return err('throttle takes bytes per second (at least 64), or "off"');
      return { kind: 'set', patch: { bandwidth: bps } };
    }
    case 'close': {
      const conn = a === undefined || a === 'all' ? undefined : num(a);
      if (conn !== undefined && !Number.isInteger(conn))
        return err('close takes a connection number or "all"');
      const code = b === undefined ? 1000 : num(b);
      if (!Number.isInteger(code) || code < 1000 || code > 4999)
        return err('close codes are 1000 to 4999');
      return {
        kind: 'close',
        ...(conn !== undefined ? { conn } : {}),
        code,
        reason: words.slice(3).join(' '),
      };
    }
    case 'inject': {
      const conn = num(a);
      if (!Number.isInteger(conn) || (b !== 'client' && b !== 'target') || words.length < 4)
        return err(
          'inject takes a connection, "client" or "target", and the text, e.g. "inject 3 client hello"',
        );
      const text = line.trim().split(/\s+/).slice(3).join(' ');
      return { kind: 'inject', conn, to: b, text };
    }
    case 'clear':
      return { kind: 'set', patch: { ...NO_FAULTS } };
    case 'faults':
      return { kind: 'show' };
    case 'help':
    case '?':
      return { kind: 'help' };
    default:
      return err(`unknown command ${JSON.stringify(cmd)}`);
  }
}
