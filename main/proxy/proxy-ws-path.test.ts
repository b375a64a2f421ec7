// The request target of a WebSocket upgrade reaches the target server byte for byte, as that of a plain HTTP
// request does: ws's URL parsing once resolved dot segments ("/a/%2e%2e/b" became "/b") and turned
// backslashes into slashes. Raw upgrade requests over TLS; the target records req.url.
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { askTls, tlsFront, useTestbed } from './testing';

const bed = useTestbed();

/** A target that accepts every upgrade and answers every request; the req.url of each, in order. */
async function recorder() {
  const urls: string[] = [];
  const server = http.createServer((req, res) => {
    urls.push(req.url ?? '');
    res.end('ok');
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, sock, head) => {
    urls.push(req.url ?? '');
    wss.handleUpgrade(req, sock, head, (ws) => ws.close());
  });
  return { port: await bed.listen(server), urls };
}

const front = async (target: string) => (await tlsFront(bed, target, { id: 'wsp' })).port;

/** The head of the proxy's answer (or what came before it closed, or 3 s). */
const ask = (port: number, bytes: string) => askTls(bed, port, bytes, { headOnly: true });

const upgrade = (target: string) =>
  `GET ${target} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
const plain = (target: string) =>
  `GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`;

const PATHS = [
  '/a/%2e%2e/b',
  '/a/../b',
  '/a/./b/.',
  '/\\x',
  '//twice//over',
  '/%7Euser/%C3%A4%2F%2f?q=%2e%2e/../x&sp=%20+&e=',
  '/a?x=/../y',
  '/<>\'"{}|^`',
];

describe('the request target of a WebSocket upgrade', () => {
  it('reaches the target byte for byte, as that of a plain HTTP request does', async () => {
    const t = await recorder();
    const port = await front(`http://127.0.0.1:${t.port}`);
    for (const p of PATHS) {
      expect(await ask(port, upgrade(p))).toMatch(/^HTTP\/1\.1 101 /);
      expect(await ask(port, plain(p))).toMatch(/^HTTP\/1\.1 200 /);
    }
    expect(t.urls).toEqual(PATHS.flatMap((p) => [p, p]));
  });

  it('follows the base path of a target given with one', async () => {
    const t = await recorder();
    const port = await front(`http://127.0.0.1:${t.port}/base/`);
    for (const p of PATHS) {
      expect(await ask(port, upgrade(p))).toMatch(/^HTTP\/1\.1 101 /);
      expect(await ask(port, plain(p))).toMatch(/^HTTP\/1\.1 200 /);
    }
    expect(t.urls).toEqual(PATHS.flatMap((p) => [`/base${p}`, `/base${p}`]));
  });
});
