// One WebSocket connection of an echo server: frames in pass the fault lanes and the behaviour (rules,
// scripts) before the server echoes or broadcasts; every frame, close and protocol error goes to the log.
import type http from 'node:http';
import type { TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import type { FaultController, Lane } from '../faults';
import { closeCodeOf } from './close-codes';
import { preview, type FrameLog } from './frame-log';
import type { Behaviour, FrameSource, MessageOutcome, Peer } from './rules/peer';
import type { ClientCertInfo, EchoMode, OpenEvent, ServerDefinition } from './types';

/** Bytes queued to one client before we stop reading from the client whose messages fill that queue. */
export const SEND_HIGH_WATER = 8 * 1024 * 1024;

/** Connection numbers are unique per process so exported logs never merge two connections. */
let connCounter = 0;

/** ws.send options, shared by every send (ws copies them, never keeps or changes them). */
const BINARY = { binary: true } as const;
const TEXT = { binary: false } as const;

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly definition: ServerDefinition;
  readonly log: FrameLog;
  readonly faults: FaultController;
  readonly behaviour: Behaviour | undefined;
  /** Every open connection of the server (broadcast mode sends to each). */
  readonly conns: ReadonlyMap<WebSocket, Connection>;
  /** The next "connection number" since the server started, which rules match on. */
  nextIndex(): number;
  /** The connection closed: forget it. */
  closed(ws: WebSocket): void;
}

export class Connection {
  readonly conn = ++connCounter;
  /** Set when we initiated the close (stop, protocol error, fault, rule). */
  private serverClose: { code: number; reason: string } | undefined;
  /** With faults: messages to this client go through this lane. */
  private out: Lane | undefined;
  private ended = false;
  /** Messages from the client that reached the server's handling (after the in lane): rules number them. */
  private messages = 0;

  constructor(
    readonly ws: WebSocket,
    private readonly host: ConnectionHost,
  ) {}

  /** True once the server has started closing this connection. */
  get closing(): boolean {
    return this.serverClose !== undefined;
  }

  /** Listen to the WebSocket's events; call once, after the open event is logged. */
  attach(req: http.IncomingMessage): void {
    const { ws, host, conn } = this;
    const { definition: def, log, faults } = host;
    const peer = host.behaviour ? this.peer(req) : undefined;

    // Faults: messages from the client pass the 'in' lane (drop in, latency, hold) before the server acts
    // on them (rules included); replies, rule and push messages pass the receiver's 'out' lane. Without
    // faults both lanes deliver synchronously.
    /** True while the reply is computed in the same tick as the frame in (its log capture can be reused). */
    let sameTick = false;
    // Fast path, the common case: with no rule, script or replay for this connection the behaviour is
    // not asked at all (no message view, no lookup). Chosen per connection, re-chosen when the behaviour's
    // version changes (rules swapped live, a replay starts or ends).
    const behaviour = peer ? host.behaviour : undefined;
    let passive = false;
    let passiveAt = -1;
    const handle = (data: Buffer, isBinary: boolean) => {
      const n = ++this.messages;
      let outcome: MessageOutcome | undefined;
      if (behaviour && peer) {
        if (passiveAt !== behaviour.version) {
          passiveAt = behaviour.version;
          passive = behaviour.passive(peer);
        }
        if (!passive) outcome = behaviour.message(peer, data, isBinary, n);
      }
      if (outcome === 'handled') return;
      const mode: EchoMode = outcome ?? def.mode;
      // A rule that fired may have logged frames since the frame in: then the capture is not this
      // payload's. No rule matched (outcome undefined): nothing was logged, the capture is reused.
      const reuse = sameTick && outcome === undefined;
      if (mode === 'echo') {
        if (ws.readyState !== WebSocket.OPEN) return;
        this.reply(ws, data, isBinary, reuse);
      } else if (mode === 'broadcast') {
        for (const other of host.conns.values()) {
          if (other.ws.readyState !== WebSocket.OPEN) continue;
          other.reply(ws, data, isBinary, false);
        }
      }
    };
    const inLane = faults.lane(conn, 'in', (item) => {
      if (item.kind === 'message') handle(item.data, item.binary);
    });
    this.out = faults.lane(conn, 'out', (item) => {
      if (item.kind !== 'message' || ws.readyState !== WebSocket.OPEN) return;
      send(ws, ws, item.data, item.binary);
      if (item.source) this.logSent(item.data, item.binary, item.source, item.note);
      else log.addFrame(def.id, conn, 'out', item.binary ? 'binary' : 'text', item.data);
    });
    if (peer) host.behaviour?.connected(peer);

    ws.on('message', (data: Buffer, isBinary: boolean) => {
      log.addFrame(def.id, conn, 'in', isBinary ? 'binary' : 'text', data);
      if (inLane.passThrough) {
        sameTick = true;
        handle(data, isBinary);
        sameTick = false;
      } else inLane.push({ kind: 'message', data, binary: isBinary });
    });
    ws.on('ping', (data: Buffer) => {
      log.addFrame(def.id, conn, 'in', 'ping', data);
      // ws answers pings itself (autoPong) with the same payload.
      log.addFrame(def.id, conn, 'out', 'pong', data, true);
    });
    ws.on('pong', (data: Buffer) => log.addFrame(def.id, conn, 'in', 'pong', data));
    ws.on('error', (err: Error & { code?: string }) => {
      // ws closes the connection itself with the close code of the table in close-codes.ts.
      const code = err.code ?? 'WS_ERROR';
      const closeCode = closeCodeOf(err.code);
      this.serverClose ??= { code: closeCode, reason: '' };
      log.add({ type: 'error', serverId: def.id, conn, code, message: err.message, closeCode });
      this.closeFrame('out', closeCode, '');
    });
    ws.on('close', (code: number, reasonBuf: Buffer) => {
      const reason = reasonBuf.toString('utf8');
      this.ended = true;
      inLane.dispose();
      this.out?.dispose();
      host.closed(ws);
      if (peer) host.behaviour?.disconnected(peer);
      const clean = code !== 1006;
      if (this.serverClose) {
        if (clean) this.closeFrame('in', code, reason);
        log.add({
          type: 'close',
          serverId: def.id,
          conn,
          code: this.serverClose.code,
          reason: this.serverClose.reason,
          by: 'server',
          clean,
        });
      } else {
        if (clean) {
          this.closeFrame('in', code, reason);
          // ws echoes the client's close code and reason (1005 = none given: an empty close frame).
          this.closeFrame('out', code, reason);
        }
        log.add({ type: 'close', serverId: def.id, conn, code, reason, by: 'client', clean });
      }
    });
  }

  /** Close from the server side (stop, fault, rule), logging our close frame; once. */
  close(code: number, reason: string): void {
    if (this.ended || this.serverClose) return;
    this.serverClose = { code, reason };
    this.closeFrame('out', code, reason);
    this.ws.close(code, reason);
  }

  /** Send a message the server made up (rule, script, push, replay, injected): through the lane under faults. */
  sendOwn(data: Buffer, binary: boolean, source: FrameSource, note?: string): void {
    if (this.lanesBusy()) {
      this.out?.push({
        kind: 'message',
        data,
        binary,
        source,
        ...(note !== undefined ? { note } : {}),
      });
      return;
    }
    this.ws.send(data, binary ? BINARY : TEXT);
    this.logSent(data, binary, source, note);
  }

  /** Faults in force, or messages still queued in the out lane: new messages must queue behind them. */
  private lanesBusy(): boolean {
    return this.out !== undefined && (this.host.faults.active || this.out.queued > 0);
  }

  /** Echo or broadcast `data` (received from `from`) to this client: straight out, or through its lane. */
  private reply(from: WebSocket, data: Buffer, isBinary: boolean, reuse: boolean): void {
    if (this.lanesBusy()) {
      this.out?.push({ kind: 'message', data, binary: isBinary });
      return;
    }
    send(this.ws, from, data, isBinary);
    // Same bytes as the frame in: the log reuses its payload copy (only when nothing was logged between).
    this.host.log.addFrame(
      this.host.definition.id,
      this.conn,
      'out',
      isBinary ? 'binary' : 'text',
      data,
      reuse,
    );
  }

  /** The behaviour's handle on this connection: send (logged with its source) and close. */
  private peer(req: http.IncomingMessage): Peer {
    const url = new URL(req.url ?? '/', 'http://x');
    const { ws, host } = this;
    const isOpen = () => ws.readyState === WebSocket.OPEN && !this.serverClose;
    return {
      conn: this.conn,
      index: host.nextIndex(),
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      protocol: ws.protocol,
      get open() {
        return isOpen();
      },
      send: (data: Buffer, binary: boolean, source: FrameSource, note?: string) => {
        if (!isOpen()) return false;
        if (ws.bufferedAmount + data.length > SEND_HIGH_WATER) {
          host.log.add({
            type: 'error',
            serverId: host.definition.id,
            conn: this.conn,
            code: 'SEND_QUEUE_FULL',
            message: `${source} message not sent: the client is not reading (${ws.bufferedAmount} bytes queued)`,
          });
          return false;
        }
        // Faults apply to what rules, scripts, pushes and replays send, as to echoes.
        this.sendOwn(data, binary, source, note);
        return true;
      },
      close: (code: number, reason: string) => this.close(code, reason),
    };
  }

  /** A frame the server sent on its own (rule, script, push, injected, replay), logged with its source. */
  private logSent(data: Buffer, binary: boolean, source: FrameSource, note?: string): void {
    this.host.log.add({
      type: 'frame',
      serverId: this.host.definition.id,
      conn: this.conn,
      dir: 'out',
      opcode: binary ? 'binary' : 'text',
      length: data.length,
      ...preview(data, binary ? 'base64' : 'utf8'),
      source,
      ...(note !== undefined ? { note } : {}),
    });
  }

  /** A close frame in the log (1005/1006: none on the wire, so no code and an empty payload). */
  private closeFrame(dir: 'in' | 'out', code: number, reason: string): void {
    const has = code !== 1005 && code !== 1006;
    const r = Buffer.from(reason, 'utf8');
    this.host.log.add({
      type: 'frame',
      serverId: this.host.definition.id,
      conn: this.conn,
      dir,
      opcode: 'close',
      length: has ? 2 + r.length : 0,
      ...preview(r, 'utf8'),
      ...(has ? { closeCode: code, closeReason: reason } : {}),
    });
  }
}

/**
 * Backpressure: a client that sends but does not read would make us buffer its echoes without limit.
 * Past SEND_HIGH_WATER bytes queued to a peer, stop reading from the sender until that queue drains.
 */
function send(to: WebSocket, from: WebSocket, data: Buffer, isBinary: boolean): void {
  if (to.bufferedAmount + data.length <= SEND_HIGH_WATER) {
    to.send(data, isBinary ? BINARY : TEXT);
    return;
  }
  if (!from.isPaused) from.pause();
  to.send(data, isBinary ? BINARY : TEXT, () => {
    if (from.isPaused && from.readyState === WebSocket.OPEN) from.resume();
  });
}

/** The open event of a connection: who connected, how (TLS, subprotocol, extensions) and from where. */
export function openEvent(
  def: ServerDefinition,
  conn: number,
  req: http.IncomingMessage,
  ws: WebSocket,
  boundPort: number | undefined,
  clientCert: ClientCertInfo | undefined,
): Omit<OpenEvent, 'seq' | 'time'> {
  const sock = req.socket as TLSSocket;
  const offered = (req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const tls =
    def.scheme === 'wss'
      ? { version: sock.getProtocol?.() ?? null, cipher: sock.getCipher?.()?.name ?? null }
      : null;
  return {
    type: 'open',
    serverId: def.id,
    conn,
    remoteAddress: sock.remoteAddress ?? '',
    remotePort: sock.remotePort ?? 0,
    url: `${def.scheme}://${req.headers.host ?? `${def.host}:${boundPort}`}${req.url ?? '/'}`,
    origin: req.headers.origin ?? null,
    userAgent: req.headers['user-agent'] ?? null,
    requestedProtocols: offered,
    protocol: ws.protocol || null,
    extensions: ws.extensions,
    tls,
    ...(clientCert ? { clientCert } : {}),
  };
}
