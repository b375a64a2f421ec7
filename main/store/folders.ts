// Folder switching: a CA (ca/) or a certificate (certs/<id>/) changes as a whole, never file by file.
//   1. the new folder is written as `.new~<name>~<tag>` beside the target and fsynced;
//   2. the current folder (if any) is renamed to `.old~<name>~<tag>`;
//   3. the new folder is renamed to the target;
//   4. the old folder is removed.
// A crash between 2 and 3 leaves no target but a complete new folder and the old one: recovery
// finishes the switch (the new folder is complete, since step 2 only runs after step 1). A crash before
// 2 leaves an orphan new folder: removed. Deletion renames the target to `.del~<name>~<tag>` first, so
// a crash mid-delete never leaves half a folder under its real name. Every step runs under the store
// lock (lock.ts), and so does recovery, so it never touches a live process's work in progress.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { alive } from './lock';

const TEMP = /^\.(new|old|del)~(.+)~(\d+-[0-9a-f]+)$/;
/** Temp folders of earlier versions (`.ca-new-<pid>-<ms>`): orphans holding a CA key. */
const LEGACY = /^\.ca-new-\d+-\d+$/;
/** The lock's own temp files (`store.lock.<pid>.<token>.tmp`, `store.lock.stale.<pid>.<token>`). */
const LOCK_TEMP = /^store\.lock\.(?:stale\.)?(\d+)\.[0-9a-f]+(?:\.tmp)?$/;

function tag(): string {
  return `${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
}

export function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Windows cannot fsync a folder; its renames are still atomic.
  }
}

/** Write a new file (never one that exists) and fsync it: for files inside a folder not yet switched in. */
export function writeFileDurable(file: string, data: string | Buffer, mode = 0o600): void {
  const fd = fs.openSync(file, 'wx', mode);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.chmodSync(file, mode); // umask may have narrowed it
}

function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Replace (or create) the folder `target` with one filled by `fill`, in one switch. Call under the
 * store lock. `fill` writes into an empty folder (mode 0700); if it throws, nothing changed.
 */
export function replaceDir(target: string, fill: (dir: string) => void): void {
  const parent = path.dirname(target);
  const name = path.basename(target);
  const t = tag();
  const fresh = path.join(parent, `.new~${name}~${t}`);
  fs.mkdirSync(parent, { recursive: true, mode: 0o700 });
  fs.mkdirSync(fresh, { mode: 0o700 });
  try {
    fill(fresh);
    fsyncDir(fresh);
  } catch (e) {
    fs.rmSync(fresh, { recursive: true, force: true });
    throw e;
  }
  let old: string | undefined;
  if (exists(target)) {
    old = path.join(parent, `.old~${name}~${t}`);
    fs.renameSync(target, old);
  }
  fs.renameSync(fresh, target);
  fsyncDir(parent);
  if (old) fs.rmSync(old, { recursive: true, force: true });
}

/** Remove the folder `target` as a whole (under the store lock). */
export function removeDir(target: string): void {
  const gone = path.join(path.dirname(target), `.del~${path.basename(target)}~${tag()}`);
  fs.renameSync(target, gone);
  fsyncDir(path.dirname(target));
  fs.rmSync(gone, { recursive: true, force: true });
}

function entries(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** writeFileAtomic's temp files (`.store.json.<pid>.<ms>.tmp`): removed once their process is gone. */
const FILE_TEMP = /^\..+\.(\d+)\.\d+\.tmp$/;

function isLeftover(name: string): boolean {
  if (TEMP.test(name) || LEGACY.test(name)) return true;
  const m = LOCK_TEMP.exec(name) ?? FILE_TEMP.exec(name);
  return !!m && Number(m[1]) !== process.pid && !alive(Number(m[1]));
}

/**
 * Whether anything is left for recovery (one readdir of the root and of certs/). A lock file counts:
 * taking the lock (stale-aware) and releasing it removes one left by a killed process.
 */
export function hasLeftovers(root: string, subDirs: string[]): boolean {
  return (
    entries(root).some((n) => n === 'store.lock' || isLeftover(n)) ||
    subDirs.some((d) => entries(d).some(isLeftover))
  );
}

/** Finish or roll back half-done switches in `parent`, then remove every temp folder. */
function recoverIn(parent: string, done: string[]): void {
  const names = entries(parent);
  const byTarget = new Map<string, { new?: string; old?: string }>();
  for (const n of names) {
    const m = TEMP.exec(n);
    if (!m || m[1] === 'del') continue;
    const e = byTarget.get(m[2] as string) ?? {};
    e[m[1] as 'new' | 'old'] = n;
    byTarget.set(m[2] as string, e);
  }
  for (const [name, e] of byTarget) {
    const target = path.join(parent, name);
    if (!e.old || exists(target)) continue;
    // The target was moved aside and the switch did not happen: finish it with the new folder (complete,
    // or the old one would not have been moved), else put the old one back.
    const from = e.new ?? e.old;
    fs.renameSync(path.join(parent, from), target);
    fsyncDir(parent);
    done.push(`${e.new ? 'finished' : 'rolled back'} the replacement of ${JSON.stringify(target)}`);
  }
  for (const n of entries(parent)) {
    if (!isLeftover(n)) continue;
    fs.rmSync(path.join(parent, n), { recursive: true, force: true });
    if (!n.startsWith('store.lock.')) done.push(`removed ${JSON.stringify(path.join(parent, n))}`);
  }
}

/** The recovery step (call under the store lock): returns what it did, for logs. */
export function recoverUnlocked(root: string, subDirs: string[]): string[] {
  const done: string[] = [];
  recoverIn(root, done);
  for (const d of subDirs) recoverIn(d, done);
  return done;
}
