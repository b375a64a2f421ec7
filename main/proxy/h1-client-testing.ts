// Test helpers for h1-client.ts (nothing ships it): a raw TCP target that gets each request head and answers
// with whatever bytes a test writes, one request through a TargetPool collected into a result, and a Node
// target that answers with a digest of the request body.
import { createHash } from 'node:crypto';
import dns from 'node:dns';
import http from 'node:http';
import net from 'node:net';
import { TargetPool, type Exchange } from './h1-client';
import type { Testbed } from './testing';

export interface RawTarget {
  port: number;
  /** Connections accepted so far. */
  conns(): number;
  /** Connections still open. */
  open(): number;
}

/**
 * A target on raw TCP: `onRequest` gets each request head (up to the empty line) with its socket and the
 * number of the connection it came on (1, 2, ...). Bodies are not parsed (tests that send one use their own).
 */
export async function rawTarget(
  bed: Testbed,
  onRequest: (s: net.Socket, head: string, conn: number) => void,
): Promise<RawTarget> {
  let conns = 0;
  const socks = new Set<net.Socket>();
  const server = net.createServer((s) => {
    const id = ++conns;
    socks.add(s);
    s.on('close', () => socks.delete(s));
    s.on('error', () => {});
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let i = buf.indexOf('\r\n\r\n'); i >= 0; i = buf.indexOf('\r\n\r\n')) {
        const head = buf.slice(0, i + 4);
        buf = buf.slice(i + 4);
        onRequest(s, head, id);
      }
    });
  });
  const port = await bed.listen(server);
  bed.defer(() => {
    for (const s of socks) s.destroy();
  });
  return { port, conns: () => conns, open: () => socks.size };
}

/** A pool to 127.0.0.1:port over plain TCP, destroyed after the test. */
export function poolTo(bed: Testbed, port: number): TargetPool {
  const pool = new TargetPool(
    { scheme: 'http', host: '127.0.0.1', port },
    dns.lookup as unknown as net.LookupFunction,
  );
  bed.defer(() => pool.destroy());
  return pool;
}

export interface Answer {
  infos: [number, string[]][];
  status: number;
  message: string;
  headers: string[];
  body: string;
  /** How it ended: end(), error() or switched(). */
  outcome: 'end' | 'error' | 'switched';
  error?: Error & { code?: string; rawPacket?: Buffer };
  switched?: number;
}

export interface AskOptions {
  head?: string;
  isHead?: boolean;
  bodyless?: boolean;
  chunked?: boolean;
  /** data() returns false (the client is slow) and nothing resumes the exchange. */
  pause?: boolean;
  /** Called with each body chunk (its return value is what data() returns unless it throws). */
  onData?: (chunk: Buffer) => void;
}

export const GET = 'GET / HTTP/1.1\r\nHost: t\r\n\r\n';

/** One request on `pool`; `done` settles with the whole answer once end(), error() or switched() came. */
export function ask(pool: TargetPool, o: AskOptions = {}): { x: Exchange; done: Promise<Answer> } {
  const a: Answer = { infos: [], status: 0, message: '', headers: [], body: '', outcome: 'end' };
  let x!: Exchange;
  const done = new Promise<Answer>((resolve) => {
    x = pool.request(
      { head: o.head ?? GET, isHead: o.isHead ?? false, bodyless: o.bodyless ?? true },
      {
        info: (s, h) => void a.infos.push([s, h]),
        head: (s, m, h) => {
          a.status = s;
          a.message = m;
          a.headers = h;
        },
        data: (c) => {
          a.body += c.toString('latin1');
          o.onData?.(c);
          return !o.pause;
        },
        end: () => resolve(a),
        error: (e) => {
          a.outcome = 'error';
          a.error = e;
          resolve(a);
        },
        switched: (s) => {
          a.outcome = 'switched';
          a.switched = s;
          resolve(a);
        },
      },
      o.chunked ?? false,
    );
  });
  return { x, done };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** "HTTP/1.1 200 OK" with Content-Length and `extra` header lines (each ending in CRLF). */
export function ok(body: string, extra = ''): string {
  return `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body, 'latin1')}\r\n${extra}\r\n${body}`;
}

/** A Node target that answers with the request body's length, sha256 and framing headers. */
export async function digestTarget(bed: Testbed): Promise<number> {
  const server = http.createServer((req, res) => {
    const hash = createHash('sha256');
    let n = 0;
    req.on('data', (d: Buffer) => {
      n += d.length;
      hash.update(d);
    });
    req.on('end', () =>
      res.end(
        JSON.stringify({
          n,
          sha: hash.digest('hex'),
          te: req.headers['transfer-encoding'] ?? null,
          cl: req.headers['content-length'] ?? null,
        }),
      ),
    );
  });
  return bed.listen(server);
}

export const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
