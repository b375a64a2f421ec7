// The proxy's HTTP path (llhttp on the socket for HTTP/1.x, core HTTP/2 over TLS) against the clients a
// developer really uses: curl, Python's http.client and Java's java.net.http.HttpClient, through the
// http:// and the https:// front of the real `wss-studio proxy` CLI (--json). Each client reaches the proxy
// through a byte-level counting relay (tap) so the test sees how many connections it opened; the target
// records what it received (method, path, headers, body hash) and the CLI's log must name each request.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, waitFor, type TestPki } from '../main/echo/testing';
import { requireTool, runTool, tempDir } from './helpers/tools';

const BIN = path.resolve(__dirname, '..', 'bin', 'wss-studio.cjs');
const BIG = randomBytes(3 * 1024 * 1024 + 17);
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const BIG_SHA = sha(BIG);
/** Java's POST body: byte i is i % 251 (the program builds the same). */
const JAVA_BODY = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));

interface Seen {
  method: string;
  url: string;
  version: string;
  headers: http.IncomingHttpHeaders;
  bodySha: string;
  bodyLen: number;
}
let pki: TestPki;
let tmp: ReturnType<typeof tempDir>;
let target: http.Server;
let targetOrigin: string;
const seen: Seen[] = [];

interface Front {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  url: string;
  /** Where clients connect: the tap in front of the proxy. */
  base: string;
  tapPort: number;
  connections: () => number;
  tap: net.Server;
}
let plain: Front;
let tls: Front;

function answer(q: http.IncomingMessage, s: http.ServerResponse, body: Buffer) {
  const u = new URL(q.url ?? '/', 'http://x');
  seen.push({
    method: q.method ?? '',
    url: q.url ?? '',
    version: q.httpVersion,
    headers: q.headers,
    bodySha: sha(body),
    bodyLen: body.length,
  });
  if (u.pathname === '/big') return s.writeHead(200, { 'content-length': BIG.length }).end(BIG);
  if (u.pathname === '/chunked') {
    s.writeHead(200, { 'content-type': 'application/octet-stream' }); // no length: chunked
    for (let i = 0; i < BIG.length; i += 100_000) s.write(BIG.subarray(i, i + 100_000));
    return s.end();
  }
  if (u.pathname === '/redirect')
    return s.writeHead(301, { location: `${targetOrigin}/landing?x=1` }).end();
  const json = JSON.stringify({ method: q.method, url: q.url, bodySha: sha(body) });
  s.writeHead(200, { 'content-type': 'application/json' }).end(json);
}

async function startFront(publicUrl: string): Promise<Front> {
  const env: NodeJS.ProcessEnv = { ...process.env, WSS_STUDIO_HOME: pki.home, HOME: tmp.dir };
  delete env.NODE_EXTRA_CA_CERTS;
  const child = spawn(process.execPath, [BIN, 'proxy', publicUrl, targetOrigin, '--json'], {
    env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: Record<string, unknown>[] = [];
  readline.createInterface({ input: child.stdout! }).on('line', (l) => lines.push(JSON.parse(l)));
  await waitFor(() => lines.length > 0, `"wss-studio proxy ${publicUrl}" listening`, 20_000);
  const { url, port } = lines[0] as { url: string; port: number };
  let count = 0;
  const tap = net.createServer((c) => {
    count++;
    const up = net.connect(port, '127.0.0.1');
    c.pipe(up).pipe(c);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  await new Promise<void>((r) => tap.listen(0, '127.0.0.1', r));
  const tapPort = (tap.address() as net.AddressInfo).port;
  const base = `${new URL(url).protocol}//${new URL(url).hostname}:${tapPort}`;
  return { child, lines, url, base, tapPort, tap, connections: () => count };
}

beforeAll(async () => {
  requireTool('curl');
  requireTool('/usr/bin/python3');
  requireTool('java');
  requireTool('keytool');
  pki = await makeTestPki();
  tmp = tempDir('wss-real-clients-');
  target = http.createServer((q, s) => {
    const parts: Buffer[] = [];
    q.on('data', (d: Buffer) => parts.push(d));
    q.on('end', () => answer(q, s, Buffer.concat(parts)));
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetOrigin = `http://127.0.0.1:${(target.address() as net.AddressInfo).port}`;
  [plain, tls] = await Promise.all([
    startFront('http://127.0.0.1:0'),
    startFront('https://localhost:0'),
  ]);
}, 40_000);

afterAll(async () => {
  for (const f of [plain, tls]) {
    if (!f) continue;
    const exited = new Promise((r) => f.child.once('exit', r));
    f.child.kill('SIGINT');
    await exited;
    f.tap.close();
  }
  target?.closeAllConnections();
  await new Promise((r) => target?.close(r));
  pki?.cleanup();
  tmp?.cleanup();
});

/** Run a client; resolves with its stdout bytes, rejects naming its stderr on a non-zero exit. */
function run(cmd: string, args: string[], input?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const c = execFile(
      requireTool(cmd),
      args,
      {
        encoding: 'buffer',
        maxBuffer: 64 << 20,
        timeout: 30_000,
        env: { PATH: process.env.PATH, HOME: tmp.dir },
      },
      (e, out, err) =>
        e ? reject(new Error(`${cmd} failed: ${e.message}\n${err}`)) : resolve(out),
    );
    c.stdin!.end(input);
  });
}

/** The target's record of the request tagged `c=tag`. */
function at(tag: string): Seen {
  const s = seen.find((x) => new URL(x.url, 'http://x').searchParams.get('c') === tag);
  if (!s) throw new Error(`the target never saw c=${tag}; it saw ${seen.map((x) => x.url)}`);
  return s;
}

/** X-Forwarded-* as the target saw them via front `f`; a request without Host gets the proxy's own. */
function expectForwarded(s: Seen, f: Front, noHost = false) {
  expect(s.headers['x-forwarded-for']).toBe('127.0.0.1');
  expect(s.headers['x-forwarded-proto']).toBe(f === tls ? 'https' : 'http');
  expect(s.headers['x-forwarded-host']).toBe(new URL(noHost ? f.url : f.base).host);
}

/** Each tag (`prefix-t`) has one `http` event in the CLI's --json log, 200 unless `statuses` says. */
async function expectLogged(
  f: Front,
  prefix: string,
  tags: string[],
  statuses = {} as Record<string, number>,
) {
  const find = (t: string) =>
    f.lines.filter((l) => l.type === 'http' && String(l.path).endsWith(`c=${prefix}-${t}`));
  await waitFor(() => tags.every((t) => find(t).length > 0), `http events for ${tags}`);
  for (const t of tags) {
    expect(find(t)).toHaveLength(1);
    expect(find(t)[0]).toMatchObject({ status: statuses[t] ?? 200 });
  }
}

/** Connections the client opened while `fn` ran, through the tap. */
async function counting<T>(f: Front, fn: () => Promise<T>): Promise<[T, number]> {
  const before = f.connections();
  const r = await fn();
  return [r, f.connections() - before];
}

function curlArgs(f: Front): string[] {
  const a = ['-sS', '--fail-with-body', '--max-time', '20'];
  return f === tls
    ? [...a, '--cacert', pki.caFile, '--resolve', `localhost:${f.tapPort}:127.0.0.1`]
    : a;
}

describe.each([
  ['http://', () => plain],
  ['https://', () => tls],
])('real clients through the %s front of `wss-studio proxy`', (_name, front) => {
  it('curl: --http1.1 keep-alive, --http1.0, --http2, a chunked upload, a big download, --head, a redirect, --parallel', async () => {
    const f = front();
    const p = f === tls ? 's' : 'p';
    const w = ['-w', '%{http_code} %{http_version} %{num_connects}\\n'];
    const out = (n: string) => ['-o', path.join(tmp.dir, `${p}-${n}`)];
    const [h11, conns] = await counting(f, () =>
      run('curl', [
        ...curlArgs(f),
        '--http1.1',
        ...w,
        ...out('a'),
        `${f.base}/echo?c=${p}-k1`,
        ...out('b'),
        `${f.base}/echo?c=${p}-k2`,
      ]),
    );
    expect(String(h11)).toBe('200 1.1 1\n200 1.1 0\n');
    expect(conns).toBe(1);
    expect(JSON.parse(fs.readFileSync(path.join(tmp.dir, `${p}-b`), 'utf8'))).toMatchObject({
      method: 'GET',
      url: `/echo?c=${p}-k2`,
    });

    const h10 = await run('curl', [...curlArgs(f), '--http1.0', '-i', `${f.base}/echo?c=${p}-h10`]);
    expect(String(h10)).toMatch(/^HTTP\/1\.[01] 200 /);
    expect(String(h10)).toContain(`"url":"/echo?c=${p}-h10"`);

    const upload = randomBytes(1_234_567);
    const put = await run(
      'curl',
      [...curlArgs(f), '--http1.1', '-T', '-', `${f.base}/echo?c=${p}-up`],
      upload,
    );
    expect(JSON.parse(String(put))).toMatchObject({ method: 'PUT', bodySha: sha(upload) });
    expect(at(`${p}-up`)).toMatchObject({ bodyLen: upload.length, bodySha: sha(upload) });

    const big = await run('curl', [...curlArgs(f), `${f.base}/big?c=${p}-big`]);
    expect(big.length).toBe(BIG.length);
    expect(sha(big)).toBe(BIG_SHA);
    const chunked = await run('curl', [...curlArgs(f), `${f.base}/chunked?c=${p}-chunked`]);
    expect(sha(chunked)).toBe(BIG_SHA);

    const head = String(await run('curl', [...curlArgs(f), '--head', `${f.base}/big?c=${p}-head`]));
    expect(head).toMatch(/^HTTP\/[12](\.1)? 200/);
    expect(head.toLowerCase()).toContain(`content-length: ${BIG.length}`);
    expect(at(`${p}-head`).method).toBe('HEAD');

    const redirect = await run('curl', [
      ...curlArgs(f),
      '-o',
      '/dev/null',
      '-w',
      '%{http_code} %{redirect_url}',
      `${f.base}/redirect?c=${p}-redir`,
    ]);
    expect(String(redirect)).toBe(`301 ${f.url}/landing?x=1`);

    // --http2: ALPN h2 over TLS; on http:// an Upgrade: h2c the proxy ignores (it was answered 400).
    const h2 = await run('curl', [
      ...curlArgs(f),
      '--http2',
      ...w,
      ...out('h2'),
      `${f.base}/echo?c=${p}-h2`,
    ]);
    expect(String(h2)).toBe(`200 ${f === tls ? '2' : '1.1'} 1\n`);

    // --parallel: HTTP/2 multiplexes the transfers on one connection; HTTP/1.1 with one at a time reuses it.
    const par =
      f === tls ? ['--http2', '--parallel'] : ['--http1.1', '--parallel', '--parallel-max', '1'];
    const urls = [1, 2, 3, 4].flatMap((i) => [...out(`par${i}`), `${f.base}/big?c=${p}-par${i}`]);
    const [parallel, parConns] = await counting(f, () =>
      run('curl', [...curlArgs(f), ...par, ...w, ...urls]),
    );
    const v = f === tls ? '2' : '1.1';
    expect(
      String(parallel)
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' ').slice(0, 2).join(' ')),
    ).toEqual(Array(4).fill(`200 ${v}`));
    expect(parConns).toBe(1);
    for (const i of [1, 2, 3, 4])
      expect(sha(fs.readFileSync(path.join(tmp.dir, `${p}-par${i}`)))).toBe(BIG_SHA);

    const tags = ['k1', 'k2', 'h10', 'up', 'big', 'chunked', 'head', 'redir', 'h2', 'par1', 'par4'];
    for (const t of tags) expectForwarded(at(`${p}-${t}`), f);
    await expectLogged(f, p, tags, { redir: 301 });
  }, 30_000);

  it('Python http.client: keep-alive GETs and a POST on one connection, then an HTTP/1.0 request', async () => {
    const f = front();
    const p = f === tls ? 'py-s' : 'py-p';
    const u = new URL(f.base);
    const [out, conns] = await counting(f, () =>
      run('/usr/bin/python3', [
        path.join(__dirname, 'fixtures', 'real_client.py'),
        u.hostname === 'localhost' ? 'localhost' : '127.0.0.1',
        String(f.tapPort),
        f === tls ? 'tls' : 'plain',
        pki.caFile,
        p,
      ]),
    );
    const lines = String(out)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ status: 200, version: 11 });
    expect(lines[1]).toMatchObject({ status: 200, version: 11, sha: BIG_SHA, len: BIG.length });
    expect(lines[2]).toMatchObject({ status: 200, version: 11 });
    expect(at(`${p}-post`)).toMatchObject({
      method: 'POST',
      bodySha: sha(Buffer.from('py'.repeat(50000))),
    });
    expect(lines[3]).toEqual({ ports: 1 });
    expect(lines[4].status).toBe(200);
    expect(JSON.parse(lines[4].body)).toMatchObject({ method: 'GET', url: `/echo?c=${p}-10` });
    expect(conns).toBe(2); // one kept alive for three requests, one for the HTTP/1.0 request
    for (const t of ['1', '2', 'post']) expectForwarded(at(`${p}-${t}`), f);
    expect(at(`${p}-10`).headers.host).toBe(new URL(f.url).host); // http.client sends no Host in HTTP/1.0
    expectForwarded(at(`${p}-10`), f, true);
    await expectLogged(f, p, ['1', '2', 'post', '10']);
  }, 30_000);
});

describe('Java java.net.http.HttpClient', () => {
  let store: string;
  beforeAll(() => {
    store = path.join(tmp.dir, 'truststore.p12');
    const args = `-importcert -noprompt -alias wss-test -storetype PKCS12 -storepass changeit -keystore`;
    const r = runTool('keytool', [...args.split(' '), store, '-file', pki.caFile], {
      env: { PATH: process.env.PATH, HOME: tmp.dir },
    });
    expect(r.status, r.stderr).toBe(0);
  });

  it.each([
    ['HTTP/2 over TLS, concurrent requests on one connection', () => tls, 'h2', 'HTTP_2'],
    ['HTTP/1.1 to the http:// front, kept alive', () => plain, 'h1', 'HTTP_1_1'],
    // Its default prefers HTTP/2, so it asks for Upgrade: h2c: the proxy answered that 400 before.
    [
      'the default client to the http:// front: HTTP/1.1, kept alive',
      () => plain,
      'default',
      'HTTP_1_1',
    ],
  ])(
    '%s',
    async (_n, front, mode, version) => {
      const f = front();
      const p = `java-${mode}`;
      const [out, conns] = await counting(f, () =>
        run('java', [
          `-Djavax.net.ssl.trustStore=${store}`,
          '-Djavax.net.ssl.trustStorePassword=changeit',
          '-Djavax.net.ssl.trustStoreType=PKCS12',
          path.join(__dirname, 'fixtures', 'RealClient.java'),
          f.base,
          p,
          mode,
        ]),
      );
      const rows = String(out)
        .trim()
        .split('\n')
        .map((l) => l.split(' '));
      expect(rows.map((r) => r[0])).toEqual(
        ['warm', '0', '1', '2', '3', 'post'].map((t) => `${p}-${t}`),
      );
      for (const [tag, status, v, hash, len] of rows) {
        expect([tag, status, v]).toEqual([tag, '200', version]);
        if (!/-(warm|post)$/.test(tag!))
          expect([tag, hash, Number(len)]).toEqual([tag, BIG_SHA, BIG.length]);
      }
      expect(at(`${p}-post`)).toMatchObject({
        method: 'POST',
        bodyLen: JAVA_BODY.length,
        bodySha: sha(JAVA_BODY),
      });
      expect(conns).toBe(1);
      const tags = ['warm', '0', '1', '2', '3', 'post'];
      for (const t of tags) expectForwarded(at(`${p}-${t}`), f);
      await expectLogged(f, p, tags);
    },
    40_000,
  );
});
