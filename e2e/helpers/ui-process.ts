// `wss-studio ui` in its own process, from the built bundle (dist/cli.cjs), with temp HOME, state and trust
// root: for tests that must see the process survive (or measure its memory) rather than an in-process rig.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { WebSocket } from 'ws';
import {
  createClient,
  webSocketTransport,
  type Client,
  type WebTransport,
} from '../../shared/client';
import { fakeRenderer, rpcSocket, tempDir } from './web';

const ROOT = path.resolve(__dirname, '..', '..');
const BUNDLE = path.join(ROOT, 'dist', 'cli.cjs');

export interface UiProcess {
  /** WSS_STUDIO_HOME */
  home: string;
  child: ChildProcessWithoutNullStreams;
  port: number;
  token: string;
  origin: string;
  /** ws://.../rpc?token=... */
  rpcUrl: string;
  out(): string;
  err(): string;
  alive(): boolean;
  /** Resident memory of the process in bytes (from /proc). */
  rss(): number;
  /** The typed client over a new /rpc socket. */
  client(): Promise<Client>;
  /** A raw `ws` socket to /rpc with our Origin, open. */
  socket(): Promise<WebSocket>;
  stop(): Promise<void>;
}

/**
 * Start web mode. `after` is JavaScript run in the child once the CLI has started (e.g. to throw later).
 */
export async function startUiProcess(
  opts: {
    args?: string[];
    after?: string;
    /** settings.json text to start with */ settings?: string;
  } = {},
): Promise<UiProcess> {
  if (!existsSync(BUNDLE)) {
    throw new Error('dist/cli.cjs is missing: run "npm run build:node" (npm test builds it first)');
  }
  const tmp = tempDir('wss-ui-proc-');
  mkdirSync(path.join(tmp, 'user'));
  mkdirSync(path.join(tmp, 'trust-root'));
  fakeRenderer(path.join(tmp, 'renderer'));
  if (opts.settings !== undefined) {
    mkdirSync(path.join(tmp, 'home'));
    writeFileSync(path.join(tmp, 'home', 'settings.json'), opts.settings);
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WSS_STUDIO_HOME: path.join(tmp, 'home'),
    HOME: path.join(tmp, 'user'),
    WSS_STUDIO_TRUST_ROOT: path.join(tmp, 'trust-root'),
    WSS_STUDIO_RENDERER_DIR: path.join(tmp, 'renderer'),
  };
  delete env.NODE_EXTRA_CA_CERTS;
  const args = ['ui', '--no-open', '--port', '0', ...(opts.args ?? [])];
  const script = `import(${JSON.stringify(pathToFileURL(BUNDLE).href)}).then((m) => { m.cliMain(${JSON.stringify(args)}); ${opts.after ?? ''} });`;
  const child = spawn(process.execPath, ['-e', script], { env });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  const url = await new Promise<URL>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no URL in 30 s: ${out} ${err}`)), 30_000);
    const check = () => {
      const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(new URL(m[0]));
      }
    };
    child.stdout.on('data', check);
    void exited.then(() => {
      clearTimeout(t);
      reject(new Error(`web mode exited before printing its URL: ${out} ${err}`));
    });
  });
  const token = url.searchParams.get('token') ?? '';
  const rpcUrl = `ws://${url.host}/rpc?token=${token}`;
  const transports: WebTransport[] = [];
  const sockets: WebSocket[] = [];
  return {
    home: path.join(tmp, 'home'),
    child,
    port: Number(url.port),
    token,
    origin: url.origin,
    rpcUrl,
    out: () => out,
    err: () => err,
    alive: () => child.exitCode === null && child.signalCode === null,
    rss() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
      return kb * 1024;
    },
    async client() {
      const t = webSocketTransport(rpcUrl, (u) => rpcSocket(u, url.origin));
      transports.push(t);
      await t.ready;
      return createClient(t);
    },
    async socket() {
      const ws = new WebSocket(rpcUrl, { origin: url.origin, maxPayload: 256 * 1024 * 1024 });
      sockets.push(ws);
      await new Promise<void>((res, rej) => {
        ws.once('open', () => res());
        ws.once('error', rej);
      });
      return ws;
    },
    async stop() {
      for (const t of transports) t.close();
      for (const s of sockets) s.terminate();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
