// One request and its answer on the public side's HTTP/1.1 (h1-server.ts): the request body as llhttp hands it
// over, the answer written as a status line, header lines and body chunks (chunked, or until the close, when
// the target gave no length), held while an earlier answer on the same connection still goes out.
import type net from 'node:net';
import type { PublicExchange } from './h1-server';
import { BAD_VALUE, chunkOf, hasLength, headOf, LAST_CHUNK } from './http-headers';

/** What an exchange needs of its connection (H1Conn in h1-server.ts). */
export interface ExchangeConn {
  readonly sock: net.Socket;
  readonly closed: boolean;
  readonly keepAliveMs: number;
  /** Its answer may write to the socket (earlier ones are out). */
  isFirst(ex: Exchange): boolean;
  /** Its answer went out whole. */
  finished(ex: Exchange): void;
  /** It takes more of its request body. */
  resumeBody(ex: Exchange): void;
}

/** What Node's writeEarlyHints() accepts as a Link value: "<uri>" and parameters, nothing else. */
const LINK = /^(?:<[^>]*>)(?:\s*;\s*[^;"\s]+(?:=(")?[^;"\s]*\1)?)*$/;

export class Exchange implements PublicExchange {
  headersSent = false;
  keepAlive: boolean;
  /** In the connection's answer queue (not only reading its body). */
  queued = true;
  /** Expect: 100-continue, not answered yet. */
  wantsContinue = false;
  private chunked = false;
  private noBody = false;
  private closeAfter = false;
  private pendingHead: string | undefined;
  /** What this answer wrote while an earlier one still had the socket. */
  private held: Buffer[] | undefined;
  private done = false;
  private onData: ((chunk: Buffer) => boolean) | undefined;
  private onEnd: (() => void) | undefined;
  private early: Buffer[] = [];
  private bodyDone: boolean;
  private drain: (() => void) | undefined;
  private doneCb: ((finished: boolean) => void) | undefined;

  constructor(
    private readonly conn: ExchangeConn,
    readonly method: string,
    readonly path: string,
    readonly rawHeaders: string[],
    readonly http10: boolean,
    readonly bodyless: boolean,
    keepAlive: boolean,
  ) {
    this.keepAlive = keepAlive;
    this.bodyDone = bodyless;
  }

  get remoteAddress(): string {
    return this.conn.sock.remoteAddress ?? '';
  }

  // --- the request body ---

  readBody(data: (chunk: Buffer) => boolean, end: () => void): void {
    this.onData = data;
    this.onEnd = end;
    let more = true;
    for (const c of this.early.splice(0)) more = data(c);
    if (this.bodyDone) end();
    if (more) this.conn.resumeBody(this);
  }

  /** @internal false: no more for now (nobody reads the body yet, or the target is slower). */
  body(b: Buffer): boolean {
    if (!this.queued) return true; // answered already: dropped
    if (!this.onData) {
      this.early.push(Buffer.from(b));
      return false;
    }
    return this.onData(b);
  }

  /** @internal Once its answer is first on the socket and before any answer head. */
  sendContinue(): void {
    if (!this.wantsContinue || this.bodyDone || this.headersSent) return;
    this.wantsContinue = false;
    this.conn.sock.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
  }

  /** @internal */
  bodyEnd(): void {
    this.bodyDone = true;
    this.onEnd?.();
  }

  resumeBody(): void {
    this.conn.resumeBody(this);
  }

  // --- the answer ---

  hints(links: string[]): void {
    if (this.headersSent || this.http10 || !this.conn.isFirst(this)) return;
    if (!links.every((l) => LINK.test(l) && !BAD_VALUE.test(l))) return;
    this.conn.sock.write(`HTTP/1.1 103 Early Hints\r\nLink: ${links.join(', ')}\r\n\r\n`, 'latin1');
  }

  head(status: number, message: string, lines: string[]): void {
    if (this.headersSent) throw new Error('the answer has begun');
    if (!Number.isInteger(status) || status < 100 || status > 999)
      throw new RangeError(`invalid status code ${status}`);
    if (BAD_VALUE.test(message)) throw new TypeError('invalid character in the status message');
    let framing = '';
    // As http.Server: every answer is dated (a target that sends no Date, and our own 502 page).
    if (!isDated(lines)) framing += `Date: ${httpDate()}\r\n`;
    this.noBody = this.method === 'HEAD' || status === 204 || status === 304 || status < 200;
    if (!this.noBody && !hasLength(lines)) {
      // No length from the target: chunked to an HTTP/1.1 client, the connection's end to an HTTP/1.0 one.
      if (this.http10) this.closeAfter = true;
      else {
        this.chunked = true;
        framing += 'Transfer-Encoding: chunked\r\n';
      }
    }
    if (this.closeAfter) this.keepAlive = false;
    framing += this.keepAlive
      ? `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(this.conn.keepAliveMs / 1000)}\r\n`
      : 'Connection: close\r\n';
    const h = headOf(`HTTP/1.1 ${status} ${message}`, lines, framing);
    if (typeof h !== 'string') throw new TypeError(h.problem);
    this.pendingHead = h;
    this.headersSent = true;
  }

  write(chunk: Buffer): boolean {
    if (this.done || this.noBody) return true;
    if (chunk.length === 0) return true;
    return this.out(this.chunked ? chunkOf(chunk) : [chunk]);
  }

  end(chunk?: Buffer): void {
    if (this.done) return;
    const parts: Buffer[] = [];
    if (chunk && chunk.length > 0 && !this.noBody) {
      if (this.chunked) parts.push(...chunkOf(chunk));
      else parts.push(chunk);
    }
    if (this.chunked) parts.push(LAST_CHUNK);
    this.out(parts);
    this.done = true;
    if (this.held) return; // flushed when it becomes first
    this.complete();
  }

  private complete(): void {
    const cb = this.doneCb;
    this.doneCb = undefined;
    this.queued = false;
    this.conn.finished(this);
    cb?.(true);
  }

  /** Head (once) and `parts` to the socket, corked into one write; held while an earlier answer is going. */
  private out(parts: Buffer[]): boolean {
    const sock = this.conn.sock;
    if (this.conn.closed) return true;
    if (!this.conn.isFirst(this)) {
      const held = (this.held ??= []);
      if (this.pendingHead !== undefined) {
        held.push(Buffer.from(this.pendingHead, 'latin1'));
        this.pendingHead = undefined;
      }
      for (const p of parts) held.push(Buffer.from(p));
      return false;
    }
    sock.cork();
    if (this.pendingHead !== undefined) {
      sock.write(this.pendingHead, 'latin1');
      this.pendingHead = undefined;
    }
    let ok = true;
    for (const p of parts) ok = sock.write(p);
    sock.uncork();
    return ok;
  }

  /** @internal It is first now: what it held goes out. */
  activate(): void {
    this.sendContinue();
    const held = this.held;
    this.held = undefined;
    if (held) this.out(held);
    else if (this.pendingHead !== undefined) this.out([]);
    if (this.done) this.complete();
    else this.drained();
  }

  /** @internal */
  drained(): void {
    this.drain?.();
  }

  destroy(): void {
    this.conn.sock.destroy();
  }

  onDrain(cb: () => void): void {
    this.drain = cb;
  }

  onDone(cb: (finished: boolean) => void): void {
    this.doneCb = cb;
  }

  /** @internal The connection closed before the answer went out. */
  gone(): void {
    this.queued = false;
    const cb = this.doneCb;
    this.doneCb = undefined;
    cb?.(false);
  }
}

let dateText = '';
let dateSecond = -1;

/** The current time as an HTTP date, formatted once a second (as http.Server's utcDate()). */
function httpDate(): string {
  const now = Date.now();
  const sec = Math.floor(now / 1000);
  if (sec !== dateSecond) {
    dateSecond = sec;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

function isDated(lines: string[]): boolean {
  for (let i = 0; i < lines.length; i += 2) {
    const k = lines[i]!;
    if (k.length === 4 && k.toLowerCase() === 'date') return true;
  }
  return false;
}
