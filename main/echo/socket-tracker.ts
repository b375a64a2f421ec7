// The sockets a listener accepted, so stop() can drop them, and a handshake timer per socket until its HTTP
// request has been read (a Map keyed by socket: nothing is hung on the socket object itself).
import type { Duplex } from 'node:stream';

export class SocketTracker {
  readonly sockets = new Set<Duplex>();
  private readonly timers = new Map<Duplex, NodeJS.Timeout>();

  /** `onTimeout` runs when an armed socket has not been disarmed within `timeoutMs`. */
  constructor(
    private readonly timeoutMs: number,
    private readonly onTimeout: (socket: Duplex) => void,
  ) {}

  /** Remember a socket until it closes. */
  track(socket: Duplex): void {
    this.sockets.add(socket);
    socket.once('close', () => {
      this.disarm(socket);
      this.sockets.delete(socket);
    });
  }

  /** Track a socket and start its handshake timer. */
  arm(socket: Duplex): void {
    this.track(socket);
    const timer = setTimeout(() => {
      this.timers.delete(socket);
      this.onTimeout(socket);
    }, this.timeoutMs);
    this.timers.set(socket, timer);
  }

  /** Its request arrived: stop the timer. */
  disarm(socket: Duplex): void {
    clearTimeout(this.timers.get(socket));
    this.timers.delete(socket);
  }
}
