// 103 Early Hints from the target reach HTTP/1.1 and HTTP/2 clients before the answer (Link lines only), are
// not sent to HTTP/1.0 clients, and a Link Node will not write is dropped without failing the request.
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { askTls, tlsFront, useTestbed } from './testing';

const bed = useTestbed();
const LINKS = ['</a.css>; rel=preload; as=style', '</b.js>; rel=modulepreload'];

/** A target that sends 103 with LINKS, then 100 ms later the answer. */
async function hinting() {
  const server = http.createServer((_q, res) => {
    res.writeEarlyHints({ link: LINKS });
    setTimeout(() => res.end('ok'), 100);
  });
  return bed.listen(server);
}

const front = async (targetPort: number) => (await tlsFront(bed, targetPort, { id: 'hints' })).port;

const ask = (port: number, bytes: string) => askTls(bed, port, bytes);

describe('103 Early Hints', () => {
  it('reach an HTTP/1.1 client before the answer', async () => {
    const port = await front(await hinting());
    const out = await ask(
      port,
      'GET /page HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    );
    expect(out).toMatch(
      new RegExp(
        `^HTTP/1\\.1 103 Early Hints\r\nLink: ${LINKS.join(', ').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\r\n\r\nHTTP/1\\.1 200 OK\r\n`,
      ),
    );
    expect(out.endsWith('ok')).toBe(true);
  });

  it('reach an HTTP/2 client before the answer', async () => {
    const port = await front(await hinting());
    const client = http2.connect(`https://localhost:${port}`, { ca: bed.pki.caPem });
    bed.defer(() => void client.close());
    const stream = client.request({ ':path': '/page' });
    const seen: string[] = [];
    stream.on('headers', (h) => seen.push(`${h[':status']} ${String(h.link)}`));
    stream.on('response', (h) => seen.push(`${h[':status']}`));
    let body = '';
    stream.on('data', (d: Buffer) => (body += d.toString()));
    await new Promise((r) => stream.once('end', r));
    expect(seen).toEqual([`103 ${LINKS.join(', ')}`, '200']);
    expect(body).toBe('ok');
  });

  it('are not sent to an HTTP/1.0 client', async () => {
    const port = await front(await hinting());
    const out = await ask(port, 'GET /page HTTP/1.0\r\nHost: localhost\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(out).not.toContain('103');
  });

  it('with a Link Node will not write: dropped, the answer still arrives', async () => {
    const open = new Set<net.Socket>();
    const server = net.createServer((s) => {
      open.add(s);
      s.once('data', () =>
        s.write(
          'HTTP/1.1 103 Early Hints\r\nLink: nonsense\r\n\r\n' +
            'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
        ),
      );
    });
    const tport = await bed.listen(server);
    bed.defer(() => open.forEach((s) => s.destroy()));
    const port = await front(tport);
    const out = await ask(port, 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(out.endsWith('ok')).toBe(true);
  });
});
