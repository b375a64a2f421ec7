// Finding and talking to running instances of this state folder: each writes `<state>/control/<pid>.json`
// (mode 0600) naming its endpoint and token. Info files of processes that are gone are removed.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import * as v from 'valibot';
import {
  ControlInfoSchema,
  type ControlHello,
  type ControlInfo,
  type ControlReply,
} from '../../shared/control';
import { failure, q, WssError } from '../../shared/errors';
import { controlDir } from './paths';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Every instance that left an info file in this state folder and whose process is still running. */
export function listInstances(home: string): ControlInfo[] {
  const dir = controlDir(home);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: ControlInfo[] = [];
  for (const n of names) {
    if (!/^\d+\.json$/.test(n)) continue;
    const file = path.join(dir, n);
    let info: ControlInfo;
    try {
      const r = v.safeParse(ControlInfoSchema, JSON.parse(fs.readFileSync(file, 'utf8')));
      if (!r.success) continue;
      info = r.output;
    } catch {
      continue;
    }
    if (!alive(info.pid)) {
      fs.rmSync(file, { force: true });
      if (process.platform !== 'win32') fs.rmSync(info.endpoint, { force: true });
      continue;
    }
    out.push(info);
  }
  return out.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

/** One connection to an instance; requests are answered in any order, matched by id. */
export class ControlClient {
  private sock: net.Socket | undefined;
  private seq = 0;
  private buf = '';
  private readonly waiting = new Map<number, (r: ControlReply) => void>();

  constructor(readonly info: ControlInfo) {}

  private connect(timeoutMs: number): Promise<net.Socket> {
    if (this.sock) return Promise.resolve(this.sock);
    return new Promise((resolve, reject) => {
      const s = net.connect(this.info.endpoint);
      const t = setTimeout(() => {
        s.destroy();
        reject(
          failure(
            'CONTROL_UNREACHABLE',
            `reach instance ${this.info.pid}`,
            `no answer within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(t);
        this.sock = s;
        s.setEncoding('utf8');
        s.on('data', (d: string) => this.onData(d));
        s.on('close', () => {
          for (const w of this.waiting.values())
            w({
              id: -1,
              ok: false,
              error: {
                code: 'CONTROL_CLOSED',
                action: 'talk to the instance',
                cause: 'the connection closed',
                kind: 'failure',
              },
            });
          this.waiting.clear();
        });
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(t);
        reject(
          failure(
            'CONTROL_UNREACHABLE',
            `reach instance ${this.info.pid} at ${q(this.info.endpoint)}`,
            (e as Error).message,
            'is it still running? Start "wss-studio serve" or the app again',
          ),
        );
      });
    });
  }

  private onData(d: string): void {
    this.buf += d;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      try {
        const r = JSON.parse(line) as ControlReply;
        const w = this.waiting.get(r.id);
        this.waiting.delete(r.id);
        w?.(r);
      } catch {
        // ignore a garbled line
      }
    }
  }

  async call<T = unknown>(name: string, input: unknown = {}, timeoutMs = 10_000): Promise<T> {
    const s = await this.connect(timeoutMs);
    const id = ++this.seq;
    const r = await new Promise<ControlReply>((resolve) => {
      const t = setTimeout(() => {
        this.waiting.delete(id);
        resolve({
          id,
          ok: false,
          error: {
            code: 'CONTROL_TIMEOUT',
            action: `run ${q(name)}`,
            cause: `no answer within ${timeoutMs} ms`,
            kind: 'failure',
          },
        });
      }, timeoutMs);
      this.waiting.set(id, (rep) => {
        clearTimeout(t);
        resolve(rep);
      });
      s.write(JSON.stringify({ id, token: this.info.token, name, input }) + '\n');
    });
    if (!r.ok) throw new WssError(r.error);
    return r.result as T;
  }

  hello(): Promise<ControlHello> {
    return this.call<ControlHello>('control.hello');
  }

  close(): void {
    this.sock?.destroy();
    this.sock = undefined;
  }
}
