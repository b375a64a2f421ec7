// The store's one lock file, `<root>/store.lock`: every change of a CA or certificate folder (and the
// start-up recovery) runs under it, so the CLI, the app and web mode never race each other.
// Stale-aware: a lock whose process is gone (same host) or that is older than STALE_MS is taken over.
// The lock's content is written to a temp file first and linked into place (link fails if the lock
// exists), so a holder killed at any point never leaves an empty lock that nobody can judge.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { failure, q } from '../../shared/errors';

/** A lock older than this is stale whoever holds it: no store change takes more than a second or two. */
export const STALE_MS = 2 * 60_000;
/** How long a second process waits for the lock before giving up with an error that names the holder. */
export const WAIT_MS = 30_000;

interface Holder {
  pid: number;
  host: string;
  at: number;
  token: string;
}

export function lockPath(root: string): string {
  return path.join(root, 'store.lock');
}

/** Whether process `pid` exists (EPERM: it does, owned by someone else). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(file: string): { raw: string; holder: Holder | null; mtimeMs: number } | null {
  try {
    const raw = fs.readFileSync(file, 'utf8');
    const mtimeMs = fs.statSync(file).mtimeMs;
    try {
      const h = JSON.parse(raw) as Holder;
      if (typeof h?.pid === 'number' && typeof h.host === 'string' && typeof h.at === 'number')
        return { raw, holder: h, mtimeMs };
    } catch {
      /* not ours or garbage: judged by age */
    }
    return { raw, holder: null, mtimeMs };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

function isStale(h: { holder: Holder | null; mtimeMs: number }, now: number): boolean {
  if (!h.holder) return now - h.mtimeMs > 5_000;
  if (now - h.holder.at > STALE_MS) return true;
  return h.holder.host === os.hostname() && !alive(h.holder.pid);
}

/** Take the lock if it is free or stale; false when a live process holds it. */
function tryAcquire(file: string, token: string): boolean {
  const me: Holder = { pid: process.pid, host: os.hostname(), at: Date.now(), token };
  const tmp = `${file}.${process.pid}.${token}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(me), { mode: 0o600 });
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  const seen = readHolder(file);
  if (!seen) return tryAcquire(file, token); // released meanwhile
  if (!isStale(seen, Date.now())) return false;
  // Take the stale lock aside and check it is still the one judged stale: another process may have
  // taken it over and written a fresh one between our read and the rename. Then put that one back.
  const aside = `${file}.stale.${process.pid}.${token}`;
  try {
    fs.renameSync(file, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return tryAcquire(file, token);
    throw e;
  }
  const moved = fs.readFileSync(aside, 'utf8');
  if (moved !== seen.raw) {
    try {
      fs.linkSync(aside, file);
    } catch {
      /* a third process holds it now; the one we moved is lost, its holder finds out on release */
    }
    fs.rmSync(aside, { force: true });
    return false;
  }
  fs.rmSync(aside, { force: true });
  return tryAcquire(file, token);
}

function release(file: string, token: string): void {
  const h = readHolder(file);
  if (h?.holder?.token === token) fs.rmSync(file, { force: true });
}

/** The error after WAIT_MS: it names the process that still holds the lock. */
function lockedError(file: string, action: string) {
  const h = readHolder(file)?.holder;
  return failure(
    'STORE_LOCKED',
    action,
    `another WSS Studio process${h ? ` (pid ${h.pid} on ${q(h.host)})` : ''} has been changing the store for more than ${WAIT_MS / 1000} s`,
    `wait for it to finish; if no WSS Studio process is running, delete ${q(file)}`,
  );
}

/**
 * Run `fn` holding the store lock. Waits up to WAIT_MS for another process, then fails naming it. The
 * wait is a timer, so the event loop (sockets, the UI bridge, the echo servers) keeps running while a
 * change waits. `fn` is synchronous and runs right after the lock is taken, so the lock is never held
 * across an await; two changes of this process cannot interleave either (the second finds the lock held
 * by this live process and waits for it). The lock is not re-entrant: callers take it once per change.
 */
export async function withStoreLock<T>(root: string, action: string, fn: () => T): Promise<T> {
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  const file = lockPath(root);
  const token = crypto.randomBytes(8).toString('hex');
  const deadline = Date.now() + WAIT_MS;
  let delay = 10;
  while (!tryAcquire(file, token)) {
    if (Date.now() > deadline) throw lockedError(file, action);
    await new Promise((r) => setTimeout(r, delay + Math.floor(Math.random() * delay)));
    delay = Math.min(delay * 2, 200);
  }
  try {
    return fn();
  } finally {
    release(file, token);
  }
}

/** Run `fn` under the lock if it is free now; undefined (without waiting) when a live process holds it. */
export function tryWithStoreLock<T>(root: string, fn: () => T): T | undefined {
  const file = lockPath(root);
  const token = crypto.randomBytes(8).toString('hex');
  if (!tryAcquire(file, token)) return undefined;
  try {
    return fn();
  } finally {
    release(file, token);
  }
}
