// Helpers for web-mode tests: a temp home, a real engine + web server, raw HTTP/upgrade probes and the
// typed client over the `ws` package.
import {
  mkdtempSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import {
  createClient,
  webSocketTransport,
  type Client,
  type WebSocketLike,
  type WebTransport,
} from '../../shared/client';
import { createEngine, type Engine, type WebAllow } from '../../main/engine';
import { startWebServer, type WebServer } from '../../main/web';

export interface WebRig {
  home: string;
  /** The engine's $HOME (NSS databases live under it). */
  user: string;
  renderer: string;
  engine: Engine;
  web: WebServer;
  connect(): Promise<{ client: Client; transport: WebTransport }>;
  close(): Promise<void>;
}

/** A `ws` socket to /rpc sending the page's Origin, as a browser would (the server requires it). */
export function rpcSocket(url: string, origin: string): WebSocketLike {
  return new WebSocket(url, { origin }) as unknown as WebSocketLike;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** A tiny stand-in renderer build (index.html + one asset): the tests are about the server, not the UI. */
export function fakeRenderer(dir: string): void {
  mkdirSync(path.join(dir, 'assets'), { recursive: true });
  writeFileSync(
    path.join(dir, 'index.html'),
    '<!doctype html><title>WSS Studio</title><script type="module" src="./assets/app.js"></script>',
  );
  writeFileSync(path.join(dir, 'assets', 'app.js'), 'document.title = "ok";\n');
}

export async function startRig(
  opts: { pushMs?: number; allow?: WebAllow; log?: (line: string) => void } = {},
): Promise<WebRig> {
  const root = tempDir('wss-web-');
  const home = path.join(root, 'home');
  const renderer = path.join(root, 'renderer');
  fakeRenderer(renderer);
  // HOME and the system trust root are temp folders too: trust requests never see the real ones.
  const user = path.join(root, 'user');
  const trustRoot = path.join(root, 'trust-root');
  mkdirSync(user);
  mkdirSync(trustRoot);
  const engine = createEngine({
    home,
    shell: 'web',
    env: { ...process.env, WSS_STUDIO_HOME: home, HOME: user, WSS_STUDIO_TRUST_ROOT: trustRoot },
    ...(opts.pushMs !== undefined ? { pushMs: opts.pushMs } : {}),
  });
  const web = await startWebServer({
    api: engine,
    rendererDir: renderer,
    token: randomBytes(24).toString('base64url'),
    ...(opts.allow ? { allow: opts.allow } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  const transports: WebTransport[] = [];
  return {
    home,
    user,
    renderer,
    engine,
    web,
    async connect() {
      const transport = webSocketTransport(
        `ws://127.0.0.1:${web.port}/rpc?token=${web.token}`,
        (u) => rpcSocket(u, web.origin),
      );
      transports.push(transport);
      await transport.ready;
      return { client: createClient(transport), transport };
    },
    async close() {
      for (const t of transports) t.close();
      await web.close();
      await engine.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Raw GET with exactly the headers given (Host included), so forged headers really reach the server. */
export function httpGet(
  port: number,
  pathAndQuery: string,
  headers: Record<string, string>,
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: pathAndQuery, method: 'GET', headers, setHost: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A raw WebSocket handshake: resolves the HTTP status (101 when accepted). */
export function upgradeStatus(
  port: number,
  pathAndQuery: string,
  headers: Record<string, string>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path: pathAndQuery,
      setHost: false,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        ...headers,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Every file under `dir` with its bytes and mode, to prove bad input left the disk as it was. */
export function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const name of entries) {
      const p = path.join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else
        out[path.relative(dir, p)] = `${st.mode.toString(8)}:${readFileSync(p).toString('base64')}`;
    }
  };
  walk(dir);
  return out;
}
