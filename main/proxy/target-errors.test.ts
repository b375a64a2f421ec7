// The words and fix for a failed request or WebSocket upgrade to the target, for errors captured from real
// sockets (ws and Node's HTTP client against raw targets). A target that is plain and up must never be told
// to "use https": only a target that answers TLS is.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { storeCertSource } from '../echo';
import type { FrameLog } from '../echo/frame-log';
import { waitFor } from '../echo/testing';
import type { HttpEvent } from '../echo/types';
import { askTls, tlsFront, useTestbed } from './testing';
import { explainTargetError, explainUpgradeError } from './target';
import { parseTarget } from './validation';

const bed = useTestbed();

/** A raw TCP target that does `onConn` with each connection. */
async function rawTarget(onConn: (s: net.Socket) => void) {
  const open = new Set<net.Socket>();
  const server = net.createServer((s) => {
    open.add(s);
    s.on('error', () => {});
    onConn(s);
  });
  const port = await bed.listen(server);
  bed.defer(() => open.forEach((s) => s.destroy()));
  return port;
}

/** The error a ws client gets from the target at `port`. */
function wsError(port: number, protocols: string[] = [], handshakeTimeout = 10_000) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/live`, protocols, { handshakeTimeout });
  bed.defer(() => ws.terminate());
  return new Promise<Error & { code?: string }>((r) => ws.once('error', r));
}

/** The error Node's HTTP client gets from the target at `port`. */
function httpError(port: number) {
  return new Promise<Error & { code?: string }>((r) =>
    http.get({ host: '127.0.0.1', port, path: '/', agent: false }).once('error', r),
  );
}

const onRequest = (answer: (s: net.Socket) => void) => (s: net.Socket) =>
  s.once('data', () => answer(s));

async function explainWs(port: number, err: Error & { code?: string }) {
  const url = `ws://127.0.0.1:${port}`;
  return explainUpgradeError(err, parseTarget(url), url, '/live');
}

describe('what a failed upgrade to a plain target is explained as', () => {
  it('an answer that is not HTTP: TARGET_NOT_HTTP, with what it began with, and no TLS advice', async () => {
    const port = await rawTarget(onRequest((s) => s.end('+OK redis ready\r\n')));
    for (const err of [await wsError(port), await httpError(port)]) {
      const p = await explainWs(port, err);
      expect(p.code).toBe('TARGET_NOT_HTTP');
      expect(p.detail).toContain('"+OK redis ready');
      expect(p.fix).not.toMatch(/TLS|https|wss/);
    }
  });

  it('a TLS alert in answer to the plain request: TARGET_SPEAKS_TLS', async () => {
    const alert = Buffer.from('15030300020246', 'hex'); // fatal protocol_version, as a TLS stack sends it
    const port = await rawTarget(onRequest((s) => s.end(alert)));
    const p = await explainWs(port, await wsError(port));
    expect(p.code).toBe('TARGET_SPEAKS_TLS');
    expect(p.fix).toContain(`wss://127.0.0.1:${port}`);
  });

  it('a Node https server (it hangs up on plain bytes): TARGET_SPEAKS_TLS, found by a handshake', async () => {
    const m = storeCertSource(bed.pki.store)(bed.pki.leafId);
    const server = https.createServer({ key: m.keyPem, cert: m.certPem }, (_q, s) => s.end());
    const port = await bed.listen(server as unknown as http.Server);
    const err = await wsError(port);
    expect(err.code).toBe('ECONNRESET');
    const p = await explainWs(port, err);
    expect(p.code).toBe('TARGET_SPEAKS_TLS');
  });

  it('a plain server that answers HTTP but hangs up on the upgrade: TARGET_UPGRADE_CLOSED, the target is up', async () => {
    const server = http.createServer((_q, s) => s.end('ok'));
    server.on('upgrade', (_q, sock: net.Socket) => sock.destroy());
    const port = await bed.listen(server);
    const err = await wsError(port);
    expect(err.code).toBe('ECONNRESET');
    // The reset alone was explained with "if it speaks TLS, use wss://".
    expect(explainTargetError(err, parseTarget(`ws://127.0.0.1:${port}`), '').code).toBe(
      'TARGET_RESET',
    );
    const p = await explainWs(port, err);
    expect(p).toMatchObject({ code: 'TARGET_UPGRADE_CLOSED', state: 'up' });
    expect(p.detail).toContain('"/live"');
    expect(p.fix).not.toMatch(/TLS|https|wss/);
  });

  it('a target that hangs up on everything stays TARGET_RESET', async () => {
    const port = await rawTarget((s) => s.end());
    const p = await explainWs(port, await wsError(port));
    expect(p.code).toBe('TARGET_RESET');
  });

  it('a 101 that ws refuses: TARGET_BAD_HANDSHAKE, with the fix for what was wrong', async () => {
    const head = (extra: string) =>
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${extra}\r\n`;
    const cases: [string, string[], RegExp][] = [
      ['Sec-WebSocket-Accept: nope\r\n', [], /Sec-WebSocket-Accept/],
      ['', [], /Sec-WebSocket-Accept/],
    ];
    for (const [extra, protocols, fix] of cases) {
      const port = await rawTarget(onRequest((s) => s.write(head(extra))));
      const p = await explainWs(port, await wsError(port, protocols));
      expect(p).toMatchObject({ code: 'TARGET_BAD_HANDSHAKE', state: 'up' });
      expect(p.fix).toMatch(fix);
      expect(p.fix).not.toMatch(/TLS|https|wss:/);
    }
    // A real WebSocket server that picks a subprotocol nobody offered.
    const server = http.createServer();
    const wss = new WebSocketServer({ server, handleProtocols: () => 'mine' });
    bed.defer(() => wss.clients.forEach((c) => c.terminate()));
    const port = await bed.listen(server);
    const p = await explainWs(port, await wsError(port, ['chat']));
    expect(p.code).toBe('TARGET_BAD_HANDSHAKE');
    expect(p.fix).toMatch(/subprotocols the client offered/);
  });

  it('a target that never answers the upgrade: TARGET_TIMEOUT', async () => {
    const port = await rawTarget(() => {});
    const p = await explainWs(port, await wsError(port, [], 200));
    expect(p.code).toBe('TARGET_TIMEOUT');
  });

  it('an HTTP answer with a broken header: TARGET_BAD_RESPONSE, not the TLS advice', async () => {
    const port = await rawTarget(
      onRequest((s) =>
        s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok'),
      ),
    );
    const url = `http://127.0.0.1:${port}`;
    const p = explainTargetError(await httpError(port), parseTarget(url), url);
    expect(p.code).toBe('TARGET_BAD_RESPONSE');
    expect(p.fix).not.toMatch(/TLS|https/);
  });

  it('nothing listening stays TARGET_REFUSED', async () => {
    const port = await rawTarget(() => {});
    const probe = net.connect(port, '127.0.0.1');
    await new Promise((r) => probe.once('connect', r));
    probe.destroy();
    const free = await new Promise<number>((r) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const n = (s.address() as net.AddressInfo).port;
        s.close(() => r(n));
      });
    });
    const p = await explainWs(free, await wsError(free));
    expect(p.code).toBe('TARGET_REFUSED');
  });
});

describe('through the proxy', () => {
  const front = (targetPort: number) => tlsFront(bed, targetPort, { id: 'terr' });
  const upgrade =
    'GET /live HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
  const ask = (port: number) => askTls(bed, port, upgrade, { ms: 5000 });

  const errors = (log: FrameLog) =>
    log.events().flatMap((e) => (e.type === 'http' ? [(e as HttpEvent).error] : []));

  it('the client gets a 502 that says what happened, and the log its code', async () => {
    const cases: [(s: net.Socket) => void, string, RegExp][] = [
      [onRequest((s) => s.end('+OK\r\n')), 'TARGET_NOT_HTTP', /not HTTP/],
      [
        onRequest((s) =>
          s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n'),
        ),
        'TARGET_BAD_HANDSHAKE',
        /Upgrade: websocket/,
      ],
    ];
    for (const [onConn, code, words] of cases) {
      const { port, log } = await front(await rawTarget(onConn));
      const out = await ask(port);
      expect(out).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
      expect(out).toMatch(words);
      expect(out).not.toMatch(/if your server speaks TLS/);
      await waitFor(() => errors(log).includes(code), `${code} in the log`);
    }
  });
});
