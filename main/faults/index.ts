// Faults and inject, one mechanism for proxies (main/proxy) and echo servers (main/echo): see faults.ts.
//
// A FaultTarget is anything with live connections the user can disturb: it owns a FaultController (per-message
// faults and refused upgrades), and closes or injects into its own connections. The engine keeps one
// FaultRegistry; `faults.*` and `conn.inject` requests look the server up there by id, so one code path serves
// both kinds of server.
import { inputError, q, type WssError } from '../../shared/errors';
import type { FaultController } from './faults';

export { FaultController, Lane, NO_FAULTS, LANE_HIGH_WATER, describeFaults } from './faults';
export type { FaultSettings, Dir, LaneItem } from './faults';
export { parseFaultCommand, FAULT_HELP } from './commands';
export type { FaultCommand } from './commands';

export interface FaultTarget {
  readonly faults: FaultController;
  /** Close one connection (or all with conn undefined) with this code and reason; returns how many. */
  closeConnections(conn: number | undefined, code: number, reason: string): number;
  /**
   * Send a message into a live connection, logged as injected: `client` as if the server (target) sent it,
   * `target` as if the client sent it. Throws CONN_NOT_FOUND / INJECT_UNSUPPORTED input errors.
   */
  inject(conn: number, to: 'client' | 'target', data: Buffer, binary: boolean): void;
}

export class FaultRegistry {
  private readonly targets = new Map<string, () => FaultTarget | undefined>();

  /** Register a lookup (the target may come and go with restarts). */
  register(serverId: string, lookup: () => FaultTarget | undefined): () => void {
    this.targets.set(serverId, lookup);
    return () => {
      if (this.targets.get(serverId) === lookup) this.targets.delete(serverId);
    };
  }

  get(serverId: string, action: string): FaultTarget {
    const t = this.targets.get(serverId)?.();
    if (!t) {
      throw inputError(
        'SERVER_NOT_RUNNING',
        action,
        `no running proxy or server with id ${q(serverId)}`,
        {
          field: 'serverId',
          value: serverId,
          hint: `start it first; running: ${
            [...this.targets]
              .filter(([, f]) => f())
              .map(([k]) => q(k))
              .join(', ') || '(none)'
          }`,
        },
      );
    }
    return t;
  }
}

/** The error for a connection number that is not open (field `conn`, with the open ones as the hint). */
export function connNotFound(
  action: string,
  owner: string,
  conn: number,
  open: number[],
): WssError {
  return inputError('CONN_NOT_FOUND', action, `${owner} has no open connection ${conn}`, {
    field: 'conn',
    value: conn,
    hint: `open connections: ${open.join(', ') || '(none)'}`,
  });
}

/** Close codes a peer may put on the wire (RFC 6455 7.4: not 1004-1006, 1015; 1000-1014 or 3000-4999). */
export function sendableCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}
