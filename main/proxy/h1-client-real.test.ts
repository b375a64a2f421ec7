// h1-client.ts against a real server other than Node's: Python's http.server, as HTTP/1.0 (one request per
// connection, a body that ends with it) and as HTTP/1.1 (kept alive: the same client port answers twice).
import { spawn } from 'node:child_process';
import dns from 'node:dns';
import { describe, expect, it } from 'vitest';
import { ask, poolTo } from './h1-client-testing';
import { TargetPool } from './h1-client';
import { cachedLookup } from './target';
import { useTestbed } from './testing';

const bed = useTestbed();

const SERVER = `
import sys, http.server
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = sys.argv[1]
    def log_message(self, *a): pass
    def do_GET(self):
        body = ('%s %d' % (self.path, self.client_address[1])).encode()
        self.send_response(200)
        if self.path == '/nolength':
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
            return
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
`;

/** Python's http.server speaking `version`; its port. */
async function python(version: 'HTTP/1.0' | 'HTTP/1.1'): Promise<number> {
  const p = spawn('/usr/bin/python3', ['-c', SERVER, version], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  bed.defer(() => void p.kill());
  return new Promise((resolve, reject) => {
    p.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    p.once('error', reject);
  });
}

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
const peer = (body: string) => body.split(' ')[1];

describe('Python http.server as the target', () => {
  it('HTTP/1.0: each answer whole, each on a new connection (with and without Content-Length)', async () => {
    const pool = poolTo(bed, await python('HTTP/1.0'));
    const a = await ask(pool, { head: get('/a') }).done;
    const b = await ask(pool, { head: get('/nolength') }).done;
    expect([a.outcome, a.status, a.body.startsWith('/a ')]).toEqual(['end', 200, true]);
    expect([b.outcome, b.status, b.body.startsWith('/nolength ')]).toEqual(['end', 200, true]);
    expect(peer(a.body)).not.toBe(peer(b.body));
  });

  it('HTTP/1.1: kept alive and reused; a body without a length ends with its connection', async () => {
    const pool = poolTo(bed, await python('HTTP/1.1'));
    const a = await ask(pool, { head: get('/a') }).done;
    const b = await ask(pool, { head: get('/b') }).done;
    expect([a.body.startsWith('/a '), b.body.startsWith('/b ')]).toEqual([true, true]);
    expect(peer(a.body)).toBe(peer(b.body));
    const c = await ask(pool, { head: get('/nolength') }).done;
    expect([c.outcome, peer(c.body)]).toEqual(['end', peer(a.body)]);
    const d = await ask(pool, { head: get('/d') }).done;
    expect(peer(d.body)).not.toBe(peer(a.body));
  });

  it('a target given by name is dialled through the lookup it was given (cachedLookup: once for a burst)', async () => {
    const port = await python('HTTP/1.1');
    let lookups = 0;
    const counting = ((host: string, opts: dns.LookupAllOptions, cb: never) => {
      lookups++;
      dns.lookup(host, opts, cb);
    }) as never;
    const cached = cachedLookup(10_000, counting);
    const pool = new TargetPool({ scheme: 'http', host: 'localhost', port }, cached);
    bed.defer(() => pool.destroy());
    const all = await Promise.all(
      Array.from({ length: 5 }, (_, i) => ask(pool, { head: get(`/${i}`) }).done),
    );
    expect(all.map((x) => x.outcome)).toEqual(['end', 'end', 'end', 'end', 'end']);
    // a new connection each (all at once), one lookup for all
    expect(lookups).toBe(1);
    expect(pool.size).toBe(5);
  });
});
