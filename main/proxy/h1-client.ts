// The proxy's HTTP/1.1 requests to the developer's server, on kept-alive sockets, parsed by Node's own parser
// (llhttp, the one http.request uses) without http.request's objects. A page load is dozens of small
// requests, and ClientRequest, IncomingMessage, the Agent's bookkeeping and their streams were about as
// much of the proxy's CPU per request as the socket writes themselves (bench/proxy.mjs, page load: a Node
// pass-through on http.request used 51-59 ms of CPU per load of 62 requests, the same with this client
// 36 ms). The caller writes the request head (it already has the header lines), the body as it comes, and
// gets the answer's status, raw header lines and body chunks through a handler, with backpressure.
// (Over 400 lines: the socket, the exchange and the pool share private state, one file reads best.)
import net from 'node:net';
import tls from 'node:tls';
import { LAST_CHUNK, chunkOf } from './http-headers';
import { HTTPParser, prepareError, type OnHeadersComplete } from './llhttp';

/** What a response to one request reaches the caller as. Exactly one of end(), error() or switched() ends it. */
export interface ResponseHandler {
  /** A 1xx answer before the final one (not 101). */
  info(status: number, rawHeaders: string[]): void;
  /** The final answer's status line and header lines (as sent: names keep their case, repeats stay). */
  head(status: number, statusMessage: string, rawHeaders: string[]): void;
  /** A body chunk (decoded from chunked). false: stop reading from the target until resume(). */
  data(chunk: Buffer): boolean;
  /** The whole answer arrived. */
  end(): void;
  /** The request or its answer failed (a connection error, or HPE_* with rawPacket for invalid HTTP). */
  error(err: Error & { code?: string }): void;
  /** The target answered 101 Switching Protocols to a request that asked for no upgrade. */
  switched(status: number): void;
}

export interface RequestOptions {
  /** Request line and header lines, each ending in CRLF, and the empty line (latin1). */
  head: string;
  /** HEAD: the answer has no body, whatever it says. */
  isHead: boolean;
  /** No body follows: on a kept-alive socket the target closed meanwhile, the request is sent once more. */
  bodyless: boolean;
}

/**
 * Sockets open to one target at most, busy and free (all kept once free: a page over HTTP/2 asks for its
 * modules at once). More requests wait for one, as with http.Agent's maxSockets before: an HTTP/2 client may
 * open thousands of streams at once, each of them a target connection.
 */
const MAX_SOCKETS = 256;
/** How long a free socket is kept when the target does not say (Keep-Alive: timeout=N), in ms. */
const FREE_MS = 30_000;

const hangUp = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

/** One socket to the target and its parser; at most one request on it at a time. */
class Conn {
  readonly parser = new HTTPParser();
  exchange: Exchange | undefined;
  /** It carried a request before: a failure before any answer may be the target closing it meanwhile. */
  reused = false;
  private headers: string[] = [];
  private statusInfo = false;
  /** The exchange whose answer just ended, settled once the parser has returned (release() or destroy). */
  private ended: Exchange | undefined;

  constructor(
    readonly sock: net.Socket,
    private readonly pool: TargetPool,
  ) {
    const p = this.parser;
    p[HTTPParser.kOnMessageBegin] = () => {
      // Bytes after the answer (or on a free socket): whatever they are, the socket is out of step.
      if (!this.exchange) sock.destroy();
    };
    p[HTTPParser.kOnHeaders] = (h: string[]) => {
      // More than 32 header lines come in parts before kOnHeadersComplete.
      for (const x of h) this.headers.push(x);
    };
    const onHead: OnHeadersComplete = (
      _maj,
      _min,
      h,
      _method,
      _url,
      status,
      message,
      upgrade,
      keepAlive,
    ) => {
      let raw = h;
      if (raw === undefined) {
        raw = this.headers;
        this.headers = [];
      }
      const x = this.exchange;
      if (!x) {
        // An answer nobody asked for (bytes after the previous answer): the socket is not reused.
        sock.destroy();
        return 1;
      }
      x.answered = true;
      if (status >= 100 && status < 200 && status !== 101) {
        this.statusInfo = true;
        x.h.info(status, raw);
        return 1;
      }
      if (upgrade || status === 101) {
        this.exchange = undefined;
        x.finish();
        sock.destroy();
        x.h.switched(status);
        return 2;
      }
      x.keepAlive = keepAlive && x.keepAlive;
      x.idleMs = keepAliveHint(raw);
      x.h.head(status, message, raw);
      return x.opts.isHead ? 1 : 0;
    };
    p[HTTPParser.kOnHeadersComplete] = onHead;
    p[HTTPParser.kOnBody] = (b: Buffer) => {
      const x = this.exchange;
      if (x && !x.h.data(b)) sock.pause();
    };
    p[HTTPParser.kOnMessageComplete] = () => {
      if (this.statusInfo) {
        this.statusInfo = false;
        return;
      }
      const x = this.exchange;
      if (!x) return;
      this.exchange = undefined;
      x.finish();
      // Not released here: the rest of the chunk is still to be parsed (bytes after the answer make the socket
      // unusable), and a request the handler starts must not get a socket whose parser is mid-execute.
      this.ended = x;
    };
    p[HTTPParser.kOnExecute] = () => {};
    sock.on('data', (d: Buffer) => {
      if (!this.exchange) {
        // A free socket the target wrote to: not a state to reuse.
        sock.destroy();
        return;
      }
      let r: ReturnType<HTTPParser['execute']>;
      try {
        r = p.execute(d);
      } catch (err) {
        return this.broken(err as Error);
      }
      if (typeof r !== 'number') {
        prepareError(r, p, d);
        sock.destroy();
        this.fail(r);
      }
      this.settle();
    });
    sock.on('end', () => {
      // The target closed its side: an answer that ends with the connection is complete now.
      if (this.exchange?.answered) {
        let r: ReturnType<HTTPParser['finish']>;
        try {
          r = p.finish();
        } catch (err) {
          return this.broken(err as Error);
        }
        if (r) this.fail(r);
      }
      sock.destroy();
      this.settle();
    });
    sock.on('error', (err: Error) => this.fail(err));
    sock.on('close', () => {
      this.pool.forget(this);
      this.fail(hangUp());
      // Not from inside a parser callback (close() frees the native parser).
      setImmediate(() => p.close());
    });
  }

  /** An answer that ended during the last execute(): the socket is kept for the next request, then the caller told. */
  private settle(): void {
    const x = this.ended;
    if (!x) return;
    this.ended = undefined;
    if (x.keepAlive && x.sent && x.idleMs > 0 && !this.sock.destroyed)
      this.pool.release(this, x.idleMs);
    else this.sock.destroy();
    x.h.end();
  }

  /** A handler threw inside a parser callback: the parser stopped mid-chunk, the socket is not reusable. */
  private broken(err: Error): void {
    this.sock.destroy();
    this.fail(err);
    this.settle();
  }

  /** The exchange on this socket ends in an error (once); a fresh socket is tried for a retryable one. */
  fail(err: Error & { code?: string }): void {
    const x = this.exchange;
    if (!x) return;
    this.exchange = undefined;
    this.sock.destroy();
    x.finish();
    if (this.reused && !x.answered && x.opts.bodyless && !x.retried && !x.aborted) {
      x.retried = true;
      this.pool.dispatch(x, true);
      return;
    }
    x.h.error(err);
  }

  start(x: Exchange): void {
    this.exchange = x;
    x.conn = this;
    this.headers = [];
    this.statusInfo = false;
    this.ended = undefined;
    this.parser.initialize(HTTPParser.RESPONSE, {}, 0, HTTPParser.kLenientNone);
    this.sock.resume();
    this.sock.write(x.opts.head, 'latin1');
    x.flush();
    if (x.ended && x.chunked) this.sock.write(LAST_CHUNK);
  }
}

/** The Keep-Alive: timeout=N a target sends: its sockets are given up a second before it closes them. */
function keepAliveHint(raw: string[]): number {
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!;
    if (k.length !== 10 || k.toLowerCase() !== 'keep-alive') continue;
    const m = /(?:^|[\s,])timeout=(\d+)/i.exec(raw[i + 1]!);
    if (!m) continue;
    // timeout=1 kept for a second raced the target's own close; 0 (or 1 s) is half of it, 0 not kept at all.
    const n = Number(m[1]);
    return n <= 0 ? 0 : n === 1 ? 500 : Math.min(FREE_MS, n * 1000 - 1_000);
  }
  return FREE_MS;
}

/** One request and its answer. The caller writes the body with write()/end() (chunked when it has no length). */
export class Exchange {
  conn: Conn | undefined;
  answered = false;
  keepAlive = true;
  idleMs = FREE_MS;
  /** The request went out whole (head and body): only then may the socket carry another. */
  sent = false;
  ended = false;
  retried = false;
  aborted = false;
  private done = false;
  /** Body chunks written while the request waited for a socket (the caller waits for onDrain). */
  private held: { chunks: Buffer[]; onDrain: () => void } | undefined;

  constructor(
    readonly opts: RequestOptions,
    readonly h: ResponseHandler,
    /** The body has no Content-Length: it goes chunked (the head says Transfer-Encoding: chunked). */
    readonly chunked: boolean,
  ) {
    if (opts.bodyless) this.end();
  }

  /** A body chunk; false: wait for the drain callback before the next. */
  write(chunk: Buffer, onDrain: () => void): boolean {
    if (this.done || chunk.length === 0) return true;
    const sock = this.conn?.sock;
    if (!sock) {
      this.held ??= { chunks: [], onDrain };
      this.held.chunks.push(chunk);
      this.held.onDrain = onDrain;
      return false;
    }
    const ok = this.send(sock, chunk);
    if (!ok) sock.once('drain', onDrain);
    return ok;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.sent = true;
    const sock = this.conn?.sock;
    if (sock && !this.done && this.chunked) sock.write(LAST_CHUNK);
  }

  /** A body chunk to the socket: as it is, or framed as one chunk (corked: one write). */
  private send(sock: net.Socket, data: Buffer): boolean {
    if (!this.chunked) return sock.write(data);
    sock.cork();
    let ok = true;
    for (const part of chunkOf(data)) ok = sock.write(part);
    sock.uncork();
    return ok;
  }

  /** @internal The request has its socket: the chunks written while it waited go out. */
  flush(): void {
    const h = this.held;
    if (!h) return;
    this.held = undefined;
    const sock = this.conn?.sock;
    if (!sock || this.done) return;
    let ok = true;
    for (const c of h.chunks) ok = this.send(sock, c);
    if (ok) h.onDrain();
    else sock.once('drain', h.onDrain);
  }

  /** Ended, aborted or failed. */
  get finished(): boolean {
    return this.done;
  }

  /** The target may go on sending (after data() returned false). */
  resume(): void {
    this.conn?.sock.resume();
  }

  /** The client went away: the target's socket goes too (an answer half read cannot be reused). */
  abort(): void {
    if (this.done) return;
    this.aborted = true;
    const c = this.conn;
    this.finish();
    if (c) {
      c.exchange = undefined;
      c.sock.destroy();
    }
  }

  finish(): void {
    this.done = true;
  }
}

/** Kept-alive sockets to one target (http or https) and the requests sent on them. */
export class TargetPool {
  private readonly free: Conn[] = [];
  /** Requests waiting for a socket (MAX_SOCKETS open), first come first served. */
  private readonly waiting: Exchange[] = [];
  private readonly timers = new Map<Conn, NodeJS.Timeout>();
  private readonly socks = new Set<net.Socket>();
  private session: Buffer | undefined;
  private closed = false;

  constructor(
    private readonly target: { scheme: 'http' | 'https'; host: string; port: number },
    private readonly lookup: net.LookupFunction,
    /** For an https target: verification (rejectUnauthorized, ca, servername). */
    private readonly tlsOptions?: tls.ConnectionOptions,
  ) {}

  /** Send a request; its answer reaches `h`. */
  request(opts: RequestOptions, h: ResponseHandler, chunked: boolean): Exchange {
    const x = new Exchange(opts, h, chunked);
    this.dispatch(x, false);
    return x;
  }

  /** @internal */
  dispatch(x: Exchange, fresh: boolean): void {
    if (this.closed) {
      x.finish();
      return x.h.error(hangUp());
    }
    const c = fresh ? undefined : this.free.pop();
    if (c) {
      clearTimeout(this.timers.get(c));
      this.timers.delete(c);
      c.reused = true;
      c.start(x);
      return;
    }
    // A retry is not queued: the socket it replaces is closing.
    if (!fresh && this.socks.size >= MAX_SOCKETS) return void this.waiting.push(x);
    const t = this.target;
    const common = { host: t.host, port: t.port, lookup: this.lookup, noDelay: true };
    const sock: net.Socket =
      t.scheme === 'https'
        ? tls.connect({
            ...common,
            ...this.tlsOptions,
            ALPNProtocols: ['http/1.1'],
            ...(this.session ? { session: this.session } : {}),
          })
        : net.connect(common);
    if (t.scheme === 'https') sock.on('session', (s: Buffer) => (this.session = s));
    this.socks.add(sock);
    new Conn(sock, this).start(x);
  }

  /** @internal A socket whose answer is complete, kept for the next request. */
  release(c: Conn, idleMs: number): void {
    const next = this.nextWaiting();
    if (next && !this.closed) {
      c.reused = true;
      c.start(next);
      return;
    }
    if (this.closed) {
      c.sock.destroy();
      return;
    }
    this.free.push(c);
    // Paused for a slow client when the last chunk came: a free socket must read to see the target close it.
    c.sock.resume();
    const timer = setTimeout(() => c.sock.destroy(), idleMs);
    timer.unref();
    this.timers.set(c, timer);
  }

  /** @internal */
  forget(c: Conn): void {
    this.socks.delete(c.sock);
    clearTimeout(this.timers.get(c));
    this.timers.delete(c);
    const i = this.free.indexOf(c);
    if (i >= 0) this.free.splice(i, 1);
    // A socket fewer: a waiting request may open one.
    if (this.socks.size < MAX_SOCKETS && !this.closed) {
      const next = this.nextWaiting();
      if (next) this.dispatch(next, false);
    }
  }

  private nextWaiting(): Exchange | undefined {
    let x = this.waiting.shift();
    while (x?.finished) x = this.waiting.shift();
    return x;
  }

  /** Sockets open to the target (busy and free). */
  get size(): number {
    return this.socks.size;
  }

  /** Usable again after destroy() (a proxy started again after stop()), as http.Agent was. */
  reopen(): void {
    this.closed = false;
  }

  destroy(): void {
    this.closed = true;
    for (const x of this.waiting.splice(0)) {
      if (x.finished) continue;
      x.finish();
      x.h.error(hangUp());
    }
    for (const s of [...this.socks]) s.destroy();
  }
}
