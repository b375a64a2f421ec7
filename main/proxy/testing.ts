// Test helpers shared by the proxy tests (nothing ships it): a test PKI per file, cleanups run after each
// test in reverse order, and servers bound to 127.0.0.1 on a free port that are closed afterwards; an echo
// target, our https:// front to a target, and raw HTTP/1.1 over TLS to it.
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { WebSocketServer } from 'ws';
import { storeCertSource } from '../echo';
import { FrameLog } from '../echo/frame-log';
import { makeTestPki, type TestPki } from '../echo/testing';
import { ProxyServer, type ProxyServerOptions } from './proxy-server';
import { normalizeProxy } from './validation';

export interface Testbed {
  /** The file's PKI (CA + leaf for localhost, 127.0.0.1, ::1), ready in tests. */
  readonly pki: TestPki;
  /** Run fn after the current test (last registered runs first). */
  defer(fn: () => Promise<void> | void): void;
  /** Listen on 127.0.0.1:0, close (connections included) after the test; the port. */
  listen(server: http.Server | net.Server): Promise<number>;
}

export function useTestbed(): Testbed {
  let pki: TestPki | undefined;
  const cleanups: (() => Promise<void> | void)[] = [];
  beforeAll(async () => {
    pki = await makeTestPki();
  });
  afterAll(() => pki?.cleanup());
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const defer = (fn: () => Promise<void> | void) => void cleanups.push(fn);
  return {
    get pki() {
      if (!pki) throw new Error('the test PKI is made in beforeAll');
      return pki;
    },
    defer,
    async listen(server) {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      defer(
        () =>
          new Promise<void>((r) => {
            (server as http.Server).closeAllConnections?.();
            server.close(() => r());
          }),
      );
      return (server.address() as net.AddressInfo).port;
    },
  };
}

/** A TLS connection to our https:// front that chose HTTP/1.1 (ALPN), destroyed after the test. */
export async function tlsH1(bed: Testbed, port: number): Promise<tls.TLSSocket> {
  const s = tls.connect({
    host: 'localhost',
    port,
    ca: bed.pki.caPem,
    ALPNProtocols: ['http/1.1'],
  });
  bed.defer(() => void s.destroy());
  s.on('error', () => {});
  await new Promise((r) => s.once('secureConnect', r));
  return s;
}

/**
 * Raw bytes to a TLS front over HTTP/1.1 (ALPN http/1.1, trusting the testbed's CA): everything it answered
 * until it closed or `ms` passed, or with `headOnly` until the head of its answer ended.
 */
export async function askTls(
  bed: Testbed,
  port: number,
  bytes: string,
  opts: { ms?: number; headOnly?: boolean } = {},
): Promise<string> {
  const s = await tlsH1(bed, port);
  s.write(bytes);
  let out = '';
  await new Promise((r) => {
    s.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (opts.headOnly && out.includes('\r\n\r\n')) r(undefined);
    });
    s.once('close', r);
    setTimeout(r, opts.ms ?? 3000);
  });
  return out;
}

/** An echo target that counts its upgrades; its WebSocket connections are cut after the test. */
export async function echoTarget(bed: Testbed) {
  const server = http.createServer((_q, s) => s.end('ok'));
  let upgrades = 0;
  server.on('upgrade', () => upgrades++);
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (d, b) => ws.send(d, { binary: b })));
  bed.defer(() => {
    for (const c of wss.clients) c.terminate();
  });
  return { port: await bed.listen(server), upgrades: () => upgrades, wss };
}

type FrontOptions = {
  id?: string;
  log?: FrameLog;
  /** More of the definition (targetVerify, preserveHost ...). */
  def?: Record<string, unknown>;
} & Omit<ProxyServerOptions, 'definition' | 'log' | 'tls'>;

/**
 * Our front to `target` (a port: http://127.0.0.1:PORT), stopped after the test: https:// with the
 * testbed's leaf, or http://. `opts`: the definition's id and more of it, the log (default: one pushing every
 * 5 ms), other ProxyServer options.
 */
async function front(
  bed: Testbed,
  scheme: 'http' | 'https',
  target: number | string,
  opts: FrontOptions,
) {
  const {
    id = scheme === 'https' ? 'front' : 'plain',
    log = new FrameLog({ flushMs: 5 }),
    def,
    ...rest
  } = opts;
  const proxy = new ProxyServer({
    definition: normalizeProxy({
      id,
      publicUrl: scheme === 'https' ? 'https://localhost:0' : 'http://127.0.0.1:0',
      target: typeof target === 'number' ? `http://127.0.0.1:${target}` : target,
      ...def,
    }),
    log,
    ...(scheme === 'https' ? { tls: storeCertSource(bed.pki.store)(bed.pki.leafId) } : {}),
    ...rest,
  });
  const port = await proxy.start(0);
  bed.defer(() => proxy.stop());
  return { proxy, log, port };
}

/** Our https:// front to `target` (see front()). */
export const tlsFront = (bed: Testbed, target: number | string, opts: FrontOptions = {}) =>
  front(bed, 'https', target, opts);

/** Our http:// front to `target` (see front()). */
export const plainFront = (bed: Testbed, target: number | string, opts: FrontOptions = {}) =>
  front(bed, 'http', target, opts);

/** A raw TCP client: every byte it got (latin1), whether the server ended or closed, and a wait for either. */
export function rawClient(bed: Testbed, port: number) {
  const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  bed.defer(() => void s.destroy());
  const c = { sock: s, text: '', bytes: [] as Buffer[], ended: false, closed: false };
  s.on('data', (d: Buffer) => {
    c.text += d.toString('latin1');
    c.bytes.push(d);
  });
  s.on('error', () => {});
  // The server's FIN counts as closed (the client stays half-open to see it).
  const closed = new Promise<void>((r) => {
    s.once('end', () => ((c.ended = c.closed = true), r()));
    s.once('close', () => ((c.closed = true), r()));
  });
  return Object.assign(c, {
    /** Until the server closed, or `ms` passed. */
    whenClosed: (ms = 5000) => Promise.race([closed, new Promise<void>((r) => setTimeout(r, ms))]),
  });
}

/** Raw bytes on a new connection: everything answered until the server closed or `ms` passed. */
export async function rawAsk(bed: Testbed, port: number, bytes: string | Buffer, ms = 3000) {
  const c = rawClient(bed, port);
  c.sock.write(bytes);
  await c.whenClosed(ms);
  return c;
}
