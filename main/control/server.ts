// A running instance's control endpoint (the security rule: local control goes through an endpoint only the
// same user can open). Each line in is one request: checked against the shared envelope schema, then the token
// (constant-time), then the request name against CONTROL_REQUESTS; the input is validated by the contract
// schema of that request inside `call` (the engine's Dispatcher). Bounded: line size, connections, pending
// replies per connection.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import * as v from 'valibot';
import {
  CONTROL_MAX_LINE,
  CONTROL_REQUESTS,
  ControlRequestSchema,
  type ControlHello,
  type ControlInfo,
  type ControlReply,
} from '../../shared/control';
import { failure, q, type WssErrorData } from '../../shared/errors';
import { writeFileAtomic } from '../store';
import { controlDir, endpointFor, infoFile } from './paths';
import type { ServerDto } from '../../shared/api';

/** The servers a hello lists, from the echo servers' status (the same for `serve` and the app). */
export function helloServers(list: ServerDto[]): ControlHello['servers'] {
  return list.map((s) => ({
    id: s.id,
    name: s.definition.name,
    state: s.state,
    connections: s.connections,
    ...(s.url ? { url: s.url } : {}),
  }));
}

export type ControlCall = (
  name: string,
  input: unknown,
) => Promise<{ ok: true; result: unknown } | { ok: false; error: WssErrorData }>;

export interface ControlOptions {
  home: string;
  shell: ControlInfo['shell'];
  call: ControlCall;
  /** Servers this instance runs, for "control.hello". */
  servers: () => ControlHello['servers'];
}

export interface ControlEndpoint {
  readonly endpoint: string;
  readonly info: ControlInfo;
  close(): Promise<void>;
}

const MAX_CONNECTIONS = 16;
const MAX_PENDING = 8;

/** Make (or tighten) an owner-only folder and check it really is ours: not a symlink, our uid, mode 0700. */
function ownerOnlyDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  const uid = typeof process.getuid === 'function' ? process.getuid() : st.uid;
  if (!st.isDirectory() || st.uid !== uid) {
    throw failure(
      'CONTROL_DIR_UNSAFE',
      `open control folder ${q(dir)}`,
      'it is not a folder owned by this user',
      'remove it (another user or a symlink is in the way) and start again',
    );
  }
  if ((st.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
}

export async function startControl(opts: ControlOptions): Promise<ControlEndpoint> {
  const pid = process.pid;
  const { endpoint, dir } = endpointFor(opts.home, pid);
  ownerOnlyDir(controlDir(opts.home));
  if (dir) ownerOnlyDir(dir);
  if (process.platform !== 'win32') fs.rmSync(endpoint, { force: true }); // a stale socket of a reused pid
  const token = randomBytes(32).toString('hex');
  const tokenBuf = Buffer.from(token);
  const info: ControlInfo = {
    pid,
    endpoint,
    token,
    shell: opts.shell,
    startedAt: new Date().toISOString(),
  };

  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    if (sockets.size >= MAX_CONNECTIONS) return void sock.destroy();
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    let buf = '';
    let pending = 0;
    const reply = (r: ControlReply) => {
      if (!sock.destroyed) sock.write(JSON.stringify(r) + '\n');
    };
    const bad = (id: number, cause: string, field?: string) =>
      reply({
        id,
        ok: false,
        error: {
          code: 'CONTROL_REFUSED',
          action: 'run a control request',
          cause,
          kind: 'input',
          ...(field ? { field } : {}),
        },
      });
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > CONTROL_MAX_LINE) {
        bad(0, `a request line is over ${CONTROL_MAX_LINE} bytes`);
        sock.destroy();
        return;
      }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.trim()) continue;
        let raw: unknown;
        try {
          raw = JSON.parse(line);
        } catch {
          bad(0, 'the request is not JSON');
          continue;
        }
        const r = v.safeParse(ControlRequestSchema, raw);
        if (!r.success) {
          const id = (raw as { id?: unknown })?.id;
          bad(typeof id === 'number' ? id : 0, `bad request envelope: ${r.issues[0].message}`);
          continue;
        }
        const req = r.output;
        const given = Buffer.from(req.token);
        if (given.length !== tokenBuf.length || !timingSafeEqual(given, tokenBuf)) {
          bad(req.id, "wrong token: read it from this instance's info file", 'token');
          continue;
        }
        if (req.name === 'control.hello') {
          reply({
            id: req.id,
            ok: true,
            result: {
              pid,
              shell: opts.shell,
              home: opts.home,
              startedAt: info.startedAt,
              servers: opts.servers(),
            } satisfies ControlHello,
          });
          continue;
        }
        if (!(CONTROL_REQUESTS as readonly string[]).includes(req.name)) {
          bad(req.id, `${q(req.name)} is not available over the control endpoint`, 'name');
          continue;
        }
        if (pending >= MAX_PENDING) {
          bad(req.id, `more than ${MAX_PENDING} requests in flight on one connection`);
          continue;
        }
        pending++;
        opts
          .call(req.name, req.input ?? {})
          .then((res) => reply({ id: req.id, ...res }))
          .catch((e: unknown) =>
            reply({
              id: req.id,
              ok: false,
              error: {
                code: 'INTERNAL',
                action: `run ${q(req.name)}`,
                cause: String(e),
                kind: 'failure',
              },
            }),
          )
          .finally(() => pending--);
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(endpoint, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => undefined);
  if (process.platform !== 'win32') fs.chmodSync(endpoint, 0o600);
  try {
    writeFileAtomic(infoFile(opts.home, pid), JSON.stringify(info) + '\n', 0o600);
  } catch (e) {
    server.close();
    throw e;
  }

  let closed: Promise<void> | undefined;
  return {
    endpoint,
    info,
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        fs.rmSync(infoFile(opts.home, pid), { force: true });
        server.close(() => {
          // Leave no trace when this was the last instance (the socket file goes with close()).
          for (const d of [controlDir(opts.home), dir]) {
            try {
              if (d) fs.rmdirSync(d);
            } catch {
              // not empty (another instance) or already gone
            }
          }
          resolve();
        });
      });
      return closed;
    },
  };
}
