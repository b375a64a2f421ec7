// Steps 2 (name resolves, TCP connects) and the raw probes used by step 3 (what does the port speak?).
// Every function here settles: on success, on error, on timeout or on abort, and always destroys its socket.
import { lookup } from 'node:dns/promises';
import { isIP, Socket } from 'node:net';
import type { DoctorCode } from './codes';

export class Aborted extends Error {
  constructor() {
    super('diagnosis cancelled');
    this.name = 'AbortError';
  }
}

/**
 * The life of one socket probe: it settles exactly once, on a result, on timeout (`onTimeout()`), or on
 * abort (rejects with Aborted), and each time first clears its timer, drops its abort listener and closes
 * the socket (`close`, default destroy()). The socket's own close event after that destroy() finds the
 * probe settled and does nothing. Returns the function that settles with a result, or undefined when the
 * signal had already fired (the probe has rejected; the caller starts nothing).
 */
export function settleOnce<T>(
  socket: Socket,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  resolve: (value: T) => void,
  reject: (error: unknown) => void,
  onTimeout: () => T,
  close: () => void = () => socket.destroy(),
): ((value: T) => void) | undefined {
  let settled = false;
  const finish = (fn: () => void) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    close();
    fn();
  };
  const onAbort = () => finish(() => reject(new Aborted()));
  const timer = setTimeout(() => finish(() => resolve(onTimeout())), timeoutMs);
  if (signal?.aborted) {
    onAbort();
    return undefined;
  }
  signal?.addEventListener('abort', onAbort, { once: true });
  return (value: T) => finish(() => resolve(value));
}

export type Resolved =
  | { ok: true; addresses: string[]; literal: boolean }
  | { ok: false; errno: string; message: string; timedOut: boolean };

/** Resolve like a client does (getaddrinfo, every address, in the order the system prefers). */
export async function resolveHost(
  host: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Resolved> {
  if (isIP(host)) return { ok: true, addresses: [host], literal: true };
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const result = await Promise.race([
      lookup(host, { all: true, verbatim: true }),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      }),
      new Promise<never>((_, reject) => {
        onAbort = () => reject(new Aborted());
        if (signal?.aborted) onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    if (result === 'timeout') {
      return {
        ok: false,
        errno: 'ETIMEOUT',
        message: `no answer in ${timeoutMs} ms`,
        timedOut: true,
      };
    }
    const addresses = [...new Set(result.map((r) => r.address))];
    return { ok: true, addresses, literal: false };
  } catch (e) {
    if (e instanceof Aborted) throw e;
    const err = e as NodeJS.ErrnoException;
    return { ok: false, errno: err.code ?? 'ERROR', message: err.message, timedOut: false };
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

export type Connected =
  | { ok: true; address: string; failed: { address: string; errno: string }[] }
  | { ok: false; code: DoctorCode; errno: string; failed: { address: string; errno: string }[] };

/** Try each address in turn (as browsers and Node's happy-eyeballs do) and report the first that accepts. */
export async function connectAny(
  addresses: string[],
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Connected> {
  const failed: { address: string; errno: string }[] = [];
  for (const address of addresses) {
    const r = await connectOnce(address, port, timeoutMs, signal);
    if (r === 'ok') return { ok: true, address, failed };
    failed.push({ address, errno: r });
  }
  const errnos = failed.map((f) => f.errno);
  const code: DoctorCode = errnos.includes('ECONNREFUSED')
    ? 'CONNECTION_REFUSED'
    : errnos.includes('ETIMEDOUT')
      ? 'TIMEOUT'
      : errnos.some((e) => e === 'EHOSTUNREACH' || e === 'ENETUNREACH')
        ? 'HOST_UNREACHABLE'
        : 'CONNECT_FAILED';
  return { ok: false, code, errno: errnos[0] ?? 'ERROR', failed };
}

function connectOnce(
  address: string,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<'ok' | string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    const settle = settleOnce<'ok' | string>(
      socket,
      timeoutMs,
      signal,
      resolve,
      reject,
      () => 'ETIMEDOUT',
    );
    if (!settle) return;
    socket.once('connect', () => settle('ok'));
    socket.once('error', (e: NodeJS.ErrnoException) => settle(e.code ?? e.message));
    socket.connect({ host: address, port });
  });
}

export type PlainProbe =
  /** The port answered a plain HTTP request with HTTP. */
  | { kind: 'http'; statusLine: string }
  /** The port answered with a TLS record (alert or handshake): it speaks TLS. */
  | { kind: 'tls-record' }
  /** Something else came back (another protocol). */
  | { kind: 'other'; preview: string }
  /** Closed or reset without a byte. */
  | { kind: 'silent'; errno: string | null }
  | { kind: 'timeout' };

/** Send a harmless plain HTTP request (HEAD /) and classify the first bytes that come back. */
export function probePlain(
  address: string,
  port: number,
  hostHeader: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<PlainProbe> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let buf = Buffer.alloc(0);
    let errno: string | null = null;
    const settle = settleOnce<PlainProbe>(
      socket,
      timeoutMs,
      signal,
      resolve,
      reject,
      () => classify(buf) ?? { kind: 'timeout' },
    );
    if (!settle) return;
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const c = classify(buf);
      if (c && (c.kind !== 'http' || buf.includes('\r\n'))) settle(c);
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      errno = e.code ?? e.message;
    });
    socket.on('close', () => settle(classify(buf) ?? { kind: 'silent', errno }));
    socket.connect({ host: address, port }, () => {
      socket.write(`HEAD / HTTP/1.1\r\nHost: ${hostHeader}\r\nConnection: close\r\n\r\n`);
    });
  });
}

function classify(buf: Buffer): PlainProbe | undefined {
  if (buf.length === 0) return undefined;
  // TLS record types: 0x15 alert, 0x16 handshake; then version major 3.
  if ((buf[0] === 0x15 || buf[0] === 0x16) && (buf.length < 2 || buf[1] === 0x03)) {
    return { kind: 'tls-record' };
  }
  if (buf.length < 5) return 'HTTP/'.startsWith(buf.toString('latin1')) ? undefined : other(buf);
  if (buf.subarray(0, 5).toString('latin1') === 'HTTP/') {
    const line = buf.toString('latin1').split('\r\n')[0] ?? '';
    return { kind: 'http', statusLine: line.slice(0, 200) };
  }
  return other(buf);
}

function other(buf: Buffer): PlainProbe {
  const preview = buf
    .subarray(0, 40)
    .toString('latin1')
    .replace(/[^\x20-\x7e]/g, '.');
  return { kind: 'other', preview };
}
