// Folder switching: a CA (ca/) or a certificate (certs/<id>/) changes as a whole, never file by file.
//   1. the new folder is written as `.new~<name>~<tag>` beside the target and fsynced (or, for a
//      certificate, staged before the lock as `.stage~<name>~<tag>`: see stageDir);
//   2. the current folder (if any) is renamed to `.old~<name>~<tag>`;
//   3. the new folder is renamed to the target;
//   4. the old folder is removed.
// A crash between 2 and 3 leaves no target but a complete new folder and the old one: recovery
// finishes the switch (the new folder is complete, since step 2 only runs after step 1). A crash before
// 2 leaves an orphan new folder: removed. Deletion renames the target to `.del~<name>~<tag>` first, so
// a crash mid-delete never leaves half a folder under its real name. Every step runs under the store
// lock (lock.ts), and so does recovery, so it never touches a live process's work in progress; the one
// exception, a staged folder, carries its writer's pid and recovery removes it only once that process is
// gone.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { alive } from './lock';

const TEMP = /^\.(new|old|del|stage)~(.+)~((\d+)-[0-9a-f]+)$/;
/** Temp folders of earlier versions (`.ca-new-<pid>-<ms>`): orphans holding a CA key. */
const LEGACY = /^\.ca-new-\d+-\d+$/;
/** The lock's own temp files (`store.lock.<pid>.<token>.tmp`, `store.lock.stale.<pid>.<token>`). */
const LOCK_TEMP = /^store\.lock\.(?:stale\.)?(\d+)\.[0-9a-f]+(?:\.tmp)?$/;

function tag(): string {
  return `${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
}

export function fsyncDir(dir: string): void {
  const fd = openDir(dir);
  if (fd === undefined) return;
  try {
    fs.fsyncSync(fd);
  } catch {
    // Some file systems refuse to fsync a folder; the renames are still atomic.
  } finally {
    fs.closeSync(fd);
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

/** One file of a staged folder. */
export interface StagedFile {
  name: string;
  data: string | Buffer;
  mode: number;
}

/** A complete, durable folder beside its target, waiting to be switched in (switchDir). */
export interface StagedDir {
  target: string;
  dir: string;
  tag: string;
}

/** fsync every descriptor at once on libuv's threads: one journal commit for all, not one each. */
export async function fsyncAll(fds: number[]): Promise<void> {
  const results = await Promise.allSettled(
    fds.map((fd) => new Promise<void>((ok, fail) => fs.fsync(fd, (e) => (e ? fail(e) : ok())))),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** A folder's descriptor for fsync, or undefined where folders cannot be opened (Windows). */
function openDir(dir: string): number | undefined {
  try {
    return fs.openSync(dir, 'r');
  } catch {
    return undefined; // Windows cannot fsync a folder; its renames are still atomic.
  }
}

/** fsyncDir for several folders at once; like it, never fails (a folder that cannot be synced is skipped). */
export async function fsyncDirs(dirs: string[]): Promise<void> {
  const fds = dirs.map(openDir).filter((fd): fd is number => fd !== undefined);
  try {
    await Promise.allSettled(fds.map((fd) => fsyncAll([fd])));
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
}

/**
 * Write the new folder of `target` and make it durable, without the store lock (the slow part of a
 * change: the fsyncs). The files and the folder are fsynced together, in parallel, instead of one after
 * the other. The folder is `.stage~<name>~<pid>-<random>`: recovery leaves it alone while its process
 * lives, removes it once it is gone, and finishes a switch with it like a `.new~` folder.
 */
export async function stageDir(target: string, files: StagedFile[]): Promise<StagedDir> {
  const parent = path.dirname(target);
  const t = tag();
  const dir = path.join(parent, `.stage~${path.basename(target)}~${t}`);
  fs.mkdirSync(parent, { recursive: true, mode: 0o700 });
  fs.mkdirSync(dir, { mode: 0o700 });
  const fds: number[] = [];
  try {
    for (const f of files) {
      const file = path.join(dir, f.name);
      const fd = fs.openSync(file, 'wx', f.mode);
      fds.push(fd);
      fs.writeFileSync(fd, f.data);
      fs.fchmodSync(fd, f.mode); // umask may have narrowed it
    }
    const dirFd = openDir(dir);
    if (dirFd !== undefined) fds.push(dirFd);
    await fsyncAll(fds);
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
  return { target, dir, tag: t };
}

/**
 * Switch a staged folder in (under the store lock). `add` may write more files into it first (with
 * writeFileDurable); the folder is fsynced again then.
 */
export function switchDir(staged: StagedDir, add?: (dir: string) => void): void {
  const { target, dir } = staged;
  if (add) {
    add(dir);
    fsyncDir(dir);
  }
  const parent = path.dirname(target);
  let old: string | undefined;
  if (exists(target)) {
    old = path.join(parent, `.old~${path.basename(target)}~${staged.tag}`);
    fs.renameSync(target, old);
  }
  fs.renameSync(dir, target);
  fsyncDir(parent);
  if (old) fs.rmSync(old, { recursive: true, force: true });
}

/** Drop a staged folder that will not be switched in. */
export function discardStaged(staged: StagedDir): void {
  fs.rmSync(staged.dir, { recursive: true, force: true });
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

const gone = (pid: number): boolean => pid !== process.pid && !alive(pid);

function isLeftover(name: string): boolean {
  const t = TEMP.exec(name);
  // A staged folder is written without the lock: its process may still be filling it.
  if (t) return t[1] !== 'stage' || gone(Number(t[4]));
  if (LEGACY.test(name)) return true;
  const m = LOCK_TEMP.exec(name) ?? FILE_TEMP.exec(name);
  return !!m && gone(Number(m[1]));
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
  // One switch = one tag: its `.old~` folder and its `.new~` (or `.stage~`) folder.
  const bySwitch = new Map<string, { name: string; new?: string; old?: string }>();
  for (const n of names) {
    const m = TEMP.exec(n);
    if (!m || m[1] === 'del') continue;
    const key = `${m[2]}~${m[3]}`;
    const e = bySwitch.get(key) ?? { name: m[2] as string };
    e[m[1] === 'old' ? 'old' : 'new'] = n;
    bySwitch.set(key, e);
  }
  for (const e of bySwitch.values()) {
    const target = path.join(parent, e.name);
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
