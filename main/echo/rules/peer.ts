// The seam between an echo server and its behaviour (rules, scripts, pushes, replay). EchoServer creates one
// Peer per connection and calls the hooks; everything else lives in this folder.
import type { IncomingHttpHeaders } from 'node:http';
import type { EchoMode } from '../types';

/** Why the server sent a frame that is not an echo (shown in the frame log). */
export type FrameSource = 'rule' | 'script' | 'push' | 'injected' | 'replay';

export interface Peer {
  /** Connection number in the frame log (unique per process). */
  readonly conn: number;
  /** The nth connection to this server since it started (1 = first). */
  readonly index: number;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** Chosen subprotocol ("" = none). */
  readonly protocol: string;
  /** Still open (sends on a closed peer are ignored). */
  readonly open: boolean;
  /** Send and log a frame with its source. False when not sent (closed, or the client's queue is full). */
  send(data: Buffer, binary: boolean, source: FrameSource, note?: string): boolean;
  /** Close with a code and reason (logged as a server close). */
  close(code: number, reason: string): void;
}

/** What to do with a client's message: the behaviour handled it, or run this mode (echo/broadcast/silent). */
export type MessageOutcome = 'handled' | EchoMode;

export interface Behaviour {
  connected(peer: Peer): void;
  /** undefined: the server's own mode. `n`: the message's number on this connection (1 = first). */
  message(peer: Peer, data: Buffer, isBinary: boolean, n: number): MessageOutcome | undefined;
  /**
   * True while message() would return undefined for every message of this peer and do nothing else (no
   * rule applies, no script, no replay): the server may then skip calling it. Only changes with `version`.
   */
  passive(peer: Peer): boolean;
  /** Bumped whenever passive() may have changed for some peer (rules swapped, a replay starts or ends). */
  readonly version: number;
  disconnected(peer: Peer): void;
}
