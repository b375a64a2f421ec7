// The public side's HTTP/1.1 (http://, and https:// clients that did not choose h2), on the socket: Node's
// own parser (llhttp, strict, the one http.Server uses) reads each request head and body, and the answer is
// written as header lines and body chunks (h1-exchange.ts), without http.Server's IncomingMessage,
// ServerResponse and their streams. A page load is dozens of small requests: with this side and
// h1-client.ts, the proxy's CPU per request in a page load fell to about half of a Node pass-through on
// http.Server and http.request (bench/proxy.mjs). WebSocket upgrades (and CONNECT) are handed, socket and
// bytes, to an http.Server that does not listen, whose 'upgrade' event ProxyServer handles. Limits as
// http.Server's: 60 s for a request head, 300 s for a whole request, 5 s idle between requests, 16 KiB of
// head (431 past it), 400 for anything llhttp refuses or an HTTP/1.1 request without Host, 417 for an Expect
// other than 100-continue. At most H1_MAX_IN_FLIGHT requests of a connection are passed on at once; answers
// go out in request order.
import type http from 'node:http';
import type net from 'node:net';
import { HTTPParser, methods, type OnHeadersComplete } from './llhttp';
import { Exchange, type ExchangeConn } from './h1-exchange';
import { framesBody } from './http-headers';

/** One request on the public side and its answer, as the proxy sees it (HTTP/2: h2-exchange.ts). */
export interface PublicExchange {
  readonly method: string;
  /** The request target as sent. */
  readonly path: string;
  readonly rawHeaders: string[];
  readonly remoteAddress: string;
  /** An HTTP/1.0 client: no 1xx, no chunked. */
  readonly http10: boolean;
  /** No body follows the head. */
  readonly bodyless: boolean;
  /** The answer's head is out (or queued): an error can only cut the connection now. */
  readonly headersSent: boolean;
  /** Body chunks of the request, then its end. `data` returning false pauses the client until resumeBody(). */
  readBody(data: (chunk: Buffer) => boolean, end: () => void): void;
  resumeBody(): void;
  /** 103 Early Hints with these Link values (dropped when it cannot be sent). */
  hints(links: string[]): void;
  /** Status line and header lines. Throws for what cannot be written (the caller's 502). */
  head(status: number, message: string, lines: string[]): void;
  /** A body chunk; false: wait for onDrain. */
  write(chunk: Buffer): boolean;
  end(chunk?: Buffer): void;
  destroy(): void;
  onDrain(cb: () => void): void;
  /** Once: the answer went out whole (true) or the client went away first (false). */
  onDone(cb: (finished: boolean) => void): void;
}

export interface H1Options {
  onRequest: (ex: PublicExchange) => void;
  /** Gets each WebSocket upgrade (and CONNECT) request with its socket, through its own parser. */
  upgrades: http.Server;
  headTimeoutMs: number;
  requestTimeoutMs?: number;
  keepAliveMs?: number;
}

/**
 * Requests of one connection passed on at once; more pipelined ones wait (parsed, not yet sent to the target)
 * and the connection is not read while that many are queued. A client pipelining 10,000 requests in one
 * write had them all sent to the target at once (116 open there), each holding its answer's bytes.
 */
export const H1_MAX_IN_FLIGHT = 16;

/** Bytes parsed at a time (see onData). */
const SLICE = 8 * 1024;

/** Serve HTTP/1.1 on sockets accepted elsewhere (a net.Server's 'connection'). */
export class H1Server {
  constructor(private readonly opts: H1Options) {}

  handle(sock: net.Socket): void {
    new H1Conn(sock, this.opts);
  }
}

class H1Conn implements ExchangeConn {
  private readonly parser = new HTTPParser();
  /** Answers in request order: only the first writes to the socket. */
  private readonly queue: Exchange[] = [];
  private reading: Exchange | undefined;
  private headers: string[] = [];
  private url = '';
  private timer: NodeJS.Timeout | undefined;
  private begun = 0;
  private upgrade: Buffer | undefined;
  private ended = false;
  /** Between a request's first byte and the end of its head (the head deadline runs). */
  private inHead = false;
  /** How many of the queue's first exchanges went to onRequest. */
  private started = 0;
  /** The exchange whose request body paused reading (its target is slower, or it is not passed on yet). */
  private pausedBy: Exchange | undefined;
  /** Reading paused: H1_MAX_IN_FLIGHT answers are owed. */
  private queueFull = false;
  /** A parse error behind answers still owed: the answer to send once they are out. */
  private refused: Refusal | undefined;
  /** Why kOnHeadersComplete stopped the parser (-1). */
  private rejected: Refusal | undefined;
  closed = false;

  constructor(
    readonly sock: net.Socket,
    private readonly opts: H1Options,
  ) {
    const p = this.parser;
    p.initialize(HTTPParser.REQUEST, {}, 0, HTTPParser.kLenientNone);
    p[HTTPParser.kOnMessageBegin] = () => {
      // kOnHeaders also brings a chunked body's trailers (and the request target again) at its end: they
      // are dropped here (never passed on, as before), not prepended to the next request's head.
      this.headers = [];
      this.url = '';
      this.begun = performance.now();
      this.inHead = true;
      this.arm(opts.headTimeoutMs);
    };
    p[HTTPParser.kOnHeaders] = (h: string[], url: string) => {
      for (const x of h) this.headers.push(x);
      this.url += url;
    };
    const onHead: OnHeadersComplete = (
      maj,
      min,
      h,
      method,
      url,
      _status,
      _message,
      upgrade,
      keepAlive,
    ) => {
      let raw = h;
      if (raw === undefined) {
        raw = this.headers;
        this.headers = [];
      }
      const target = url === undefined || url === '' ? this.url : this.url + url;
      this.url = '';
      this.inHead = false;
      const name = methods[method] ?? 'GET';
      // Only WebSocket upgrades (and CONNECT) are handed over. Any other Upgrade (h2c: `curl --http2
      // http://...`, Java's default HttpClient) is ignored, as RFC 9110 7.8 lets a server do: the request is
      // answered in HTTP/1.1 (Upgrade and HTTP2-Settings are hop-by-hop, not passed on). It was answered 400.
      if (upgrade && (name === 'CONNECT' || wantsWebSocket(raw))) {
        // Handed over once every answer before it is out (see onData).
        let head = `${name} ${target} HTTP/${maj}.${min}\r\n`;
        for (let i = 0; i < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
        this.upgrade = Buffer.from(`${head}\r\n`, 'latin1');
        return 0;
      }
      // As http.Server: an HTTP/1.1 request without Host is refused (400), and so is an Expect other than
      // 100-continue (417); both were passed on to the target.
      if (maj === 1 && min === 1) {
        if (headerValue(raw, 'host') === undefined) return this.reject(400);
        const expect = headerValue(raw, 'expect');
        if (expect !== undefined && !CONTINUE.test(expect)) return this.reject(417);
      }
      const bodyless = !framesBody(raw);
      const ex = new Exchange(
        this,
        name,
        target,
        raw,
        maj === 0 || (maj === 1 && min === 0),
        bodyless,
        keepAlive,
      );
      this.queue.push(ex);
      this.reading = ex;
      if (bodyless) this.disarm();
      else
        this.arm(
          Math.max(0, (opts.requestTimeoutMs ?? 300_000) - (performance.now() - this.begun)),
        );
      // 100 Continue when it is this answer's turn on the socket (now, or in activate()).
      ex.wantsContinue = !ex.http10 && !bodyless && expectsContinue(raw);
      if (this.queue.length === 1) ex.sendContinue();
      if (this.queue.length >= H1_MAX_IN_FLIGHT) {
        this.queueFull = true;
        sock.pause();
      }
      this.startWaiting();
      return 0;
    };
    p[HTTPParser.kOnHeadersComplete] = onHead;
    p[HTTPParser.kOnBody] = (b: Buffer) => {
      if (this.reading && !this.reading.body(b)) {
        this.pausedBy = this.reading;
        sock.pause();
      }
    };
    p[HTTPParser.kOnMessageComplete] = () => {
      const ex = this.reading;
      this.reading = undefined;
      this.disarm();
      // Its answer went out before the body ended (see finished()): the connection is idle now.
      if (this.queue.length === 0) this.arm(this.keepAliveMs);
      ex?.bodyEnd();
    };
    p[HTTPParser.kOnExecute] = () => {};
    this.arm(opts.headTimeoutMs);
    sock.on('data', this.onData);
    sock.on('end', this.onEnd);
    sock.on('error', () => sock.destroy());
    sock.on('drain', () => this.queue[0]?.drained());
    sock.once('close', this.onClose);
  }

  /**
   * A read is parsed SLICE bytes at a time: once reading pauses (H1_MAX_IN_FLIGHT answers owed, or a body
   * the target is not taking yet), the rest goes back to the socket (unshift) instead of being parsed into
   * waiting requests or buffered body: a 64 KiB read of tiny pipelined requests was ~2,000 of them queued.
   */
  private readonly onData = (d: Buffer): void => {
    let off = 0;
    while (off < d.length) {
      const slice =
        d.length - off <= SLICE ? (off === 0 ? d : d.subarray(off)) : d.subarray(off, off + SLICE);
      const r = this.parser.execute(slice);
      if (typeof r !== 'number') {
        // Bytes after a request that asked for the close: not read (the close follows its answer).
        if (r.code === 'HPE_CLOSED_CONNECTION') return void this.sock.off('data', this.onData);
        return this.refuse(this.rejected ?? (r.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400));
      }
      if (this.upgrade) {
        // What followed the head (a WebSocket frame already) goes along with it.
        this.upgrade = Buffer.concat([this.upgrade, d.subarray(off + r)]);
        this.sock.pause();
        this.sock.off('data', this.onData);
        if (this.queue.length === 0) this.handOver();
        return;
      }
      // llhttp stops after a message that asked for an Upgrade we ignored (r short of the slice): the
      // bytes after it are the next request, parsed on the next turn.
      off += r > 0 && r < slice.length ? r : slice.length;
      if (off < d.length && (this.queueFull || this.pausedBy) && !this.closed) {
        this.sock.unshift(d.subarray(off));
        return;
      }
    }
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    if (this.upgrade) return;
    // A request cut off half-way is not passed on; else the answers still owed go out, then the connection
    // closes.
    if (this.reading) this.sock.destroy();
    else if (this.queue.length === 0) this.sock.end();
  };

  private readonly onClose = (): void => {
    this.closed = true;
    this.disarm();
    for (const ex of this.queue.splice(0)) ex.gone();
    this.reading = undefined;
    // Not from inside a parser callback.
    setImmediate(() => this.parser.close());
  };

  private handOver(): void {
    const bytes = this.upgrade!;
    this.upgrade = undefined;
    this.disarm();
    this.sock.off('end', this.onEnd);
    this.sock.off('close', this.onClose);
    this.sock.removeAllListeners('drain');
    this.sock.unshift(bytes);
    this.opts.upgrades.emit('connection', this.sock);
    this.sock.resume();
    setImmediate(() => this.parser.close());
  }

  /**
   * A request llhttp refused: nothing more is read; the answers still owed go out first (a request cut in
   * its body cannot be answered: the connection is cut), then the 400 (431) and the close.
   */
  private reject(status: Refusal): number {
    this.rejected = status;
    return -1;
  }

  private refuse(status: Refusal): void {
    this.sock.off('data', this.onData);
    this.inHead = false;
    this.disarm();
    if (this.reading || !this.sock.writable) return void this.sock.destroy();
    if (this.queue.length > 0) {
      this.refused = status;
      return;
    }
    this.sendRefusal(status);
  }

  private sendRefusal(status: Refusal): void {
    const text =
      status === 431
        ? 'Request Header Fields Too Large'
        : status === 417
          ? 'Expectation Failed'
          : 'Bad Request';
    this.sock.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }

  /**
   * Pass on the waiting requests, up to H1_MAX_IN_FLIGHT at once. Also straight from an answer's end: the
   * target side reports an answer only after its parser has returned (h1-client.ts settle()), so a request
   * started then may take that same target connection.
   */
  private startWaiting(): void {
    while (this.started < this.queue.length && this.started < H1_MAX_IN_FLIGHT) {
      this.opts.onRequest(this.queue[this.started++]!);
    }
  }

  /** @internal The first answer in the queue is out: the next one may write. */
  finished(ex: Exchange): void {
    if (this.queue[0] !== ex) return;
    this.queue.shift();
    this.started--;
    if (this.pausedBy === ex) {
      // Answered before its whole body came: the rest is read and dropped (as http.Server did), else the
      // connection stayed paused for good (the target's drain that would resume it never comes).
      this.pausedBy = undefined;
      this.resumeReading();
    }
    if (!ex.keepAlive) {
      this.sock.end();
      return;
    }
    this.startWaiting();
    if (this.queueFull && this.queue.length < H1_MAX_IN_FLIGHT) {
      this.queueFull = false;
      this.resumeReading();
    }
    const next = this.queue[0];
    if (next) return next.activate();
    if (this.upgrade) return this.handOver();
    if (this.refused !== undefined) return this.sendRefusal(this.refused);
    if (this.ended && !this.reading) return void this.sock.end();
    if (!this.reading && !this.inHead) this.arm(this.keepAliveMs);
  }

  get keepAliveMs(): number {
    return this.opts.keepAliveMs ?? 5_000;
  }

  /** @internal */
  isFirst(ex: Exchange): boolean {
    return this.queue[0] === ex;
  }

  /** @internal `ex` takes more of its body: reading goes on if it was the one that paused it. */
  resumeBody(ex: Exchange): void {
    if (this.pausedBy !== ex) return;
    this.pausedBy = undefined;
    this.resumeReading();
  }

  private resumeReading(): void {
    if (!this.closed && !this.upgrade && !this.pausedBy && !this.queueFull) this.sock.resume();
  }

  private arm(ms: number): void {
    if (this.timer === undefined) this.timer = setTimeout(this.expire, ms);
    else {
      clearTimeout(this.timer);
      this.timer = setTimeout(this.expire, ms);
    }
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly expire = (): void => {
    this.timer = undefined;
    this.sock.destroy();
  };
}

type Refusal = 400 | 417 | 431;

/** http.Server's test of Expect. */
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

/** Whether an Upgrade field names websocket (a list of protocols, RFC 9110 7.8). */
function wantsWebSocket(raw: string[]): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 7 && raw[i]!.toLowerCase() === 'upgrade') {
      if (/(^|,)\s*websocket\s*(\/[^,]*)?\s*(,|$)/i.test(raw[i + 1]!)) return true;
    }
  }
  return false;
}

function headerValue(raw: string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!;
    if (k.length === name.length && k.toLowerCase() === name) return raw[i + 1]!;
  }
  return undefined;
}

function expectsContinue(raw: string[]): boolean {
  const v = headerValue(raw, 'expect');
  return v !== undefined && CONTINUE.test(v);
}
