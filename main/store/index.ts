// On-disk state. Root: $WSS_STUDIO_HOME, else the platform's app-data folder.
//   store.json            { "schema": 1 }: layout version
//   ca/ (0700)            ca.pem, ca-key.pem (0600), ca.json
//   certs/<id>/ (0700)    cert.pem, key.pem (0600), meta.json, exports.json (what was exported, pki/export.ts)
//   settings.json         server definitions and other settings, one key per area
//   store.lock            held while a CA or certificate folder changes (lock.ts)
//   trusted-cas/          every CA this install put into a trust store (main/trust/history.ts)
//   trust-cache.json      (0600) last measured trust state per store, for cert issue's warning (main/trust/cache.ts);
//                         the one file that is not reported when damaged: it is ignored and rewritten
// Writes are atomic (temp file + fsync + rename). A CA or certificate folder changes as a whole: the new
// folder is written beside it, then switched in (folders.ts), so a key never sits next to a certificate
// it does not belong to. A corrupt or unreadable file is reported with its path and never overwritten
// silently; JSON files are checked against their schema (schemas.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as v from 'valibot';
import { failure, q } from '../../shared/errors';
import { fsyncAll, fsyncDir, fsyncDirs, hasLeftovers, recoverUnlocked } from './folders';
import { tryWithStoreLock, withStoreLock } from './lock';
import { describeIssue, SettingsSchema, StoreMetaSchema } from './schemas';

export {
  discardStaged,
  replaceDir,
  removeDir,
  stageDir,
  switchDir,
  writeFileDurable,
  type StagedDir,
} from './folders';
export { keepSkipped, readSettingsList, type SkippedEntry } from './settings';
export type { CaMeta, LeafMeta, TrustCache } from './schemas';
export { CaMetaSchema, LeafMetaSchema, TrustCacheSchema } from './schemas';

export const STORE_SCHEMA = 1;

/** The trust-state cache in the state folder (layout above; read and written by main/trust/cache.ts). */
export const TRUST_CACHE_FILE = 'trust-cache.json';

export interface Settings {
  schema: 1;
  servers?: unknown[];
  [k: string]: unknown;
}

/** The state folder: $WSS_STUDIO_HOME (relative to `cwd`), else the platform's app-data folder. */
export function resolveHome(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  if (env.WSS_STUDIO_HOME) return path.resolve(cwd, env.WSS_STUDIO_HOME);
  const home = env.HOME || env.USERPROFILE || os.homedir();
  if (process.platform === 'darwin')
    return path.join(home, 'Library', 'Application Support', 'WSS Studio');
  if (process.platform === 'win32')
    return path.join(env.APPDATA || path.join(home, 'AppData', 'Roaming'), 'WSS Studio');
  return path.join(env.XDG_DATA_HOME || path.join(home, '.local', 'share'), 'wss-studio');
}

/** The temp file beside `file` (recovery removes it once its process is gone: folders.ts FILE_TEMP). */
function tempFileFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
}

/** Write a file atomically: temp file in the same folder, fsync, rename over the target, fsync the folder. */
export function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644): void {
  const dir = path.dirname(file);
  const tmp = tempFileFor(file);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', mode);
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.chmodSync(tmp, mode); // umask may have narrowed or widened it
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw failure('WRITE_FAILED', `write ${q(file)}`, (e as Error).message);
  }
  fsyncDir(dir);
}

/**
 * Write several files atomically, each as writeFileAtomic does, with the fsyncs batched: the temp files
 * are fsynced together, renamed, then each folder once. Like writeFileAtomic, a failure is WRITE_FAILED
 * naming the file and leaves no temp file; files renamed before it stay written.
 */
export async function writeFilesAtomic(
  files: Array<{ file: string; data: string | Buffer; mode?: number }>,
): Promise<void> {
  const temps = files.map((f) => ({
    ...f,
    mode: f.mode ?? 0o644,
    tmp: tempFileFor(f.file),
    fd: undefined as number | undefined,
  }));
  let current = temps[0]?.file ?? '';
  try {
    for (const t of temps) {
      current = t.file;
      t.fd = fs.openSync(t.tmp, 'wx', t.mode);
      fs.writeFileSync(t.fd, t.data);
      fs.fchmodSync(t.fd, t.mode); // umask may have narrowed or widened it
    }
    current = temps.map((t) => t.file).join(', ');
    await fsyncAll(temps.map((t) => t.fd as number));
    for (const t of temps) {
      fs.closeSync(t.fd as number);
      t.fd = undefined;
    }
    for (const t of temps) {
      current = t.file;
      fs.renameSync(t.tmp, t.file);
    }
  } catch (e) {
    for (const t of temps) {
      if (t.fd !== undefined) fs.closeSync(t.fd);
      fs.rmSync(t.tmp, { force: true });
    }
    throw failure('WRITE_FAILED', `write ${q(current)}`, (e as Error).message);
  }
  await fsyncDirs([...new Set(temps.map((t) => path.dirname(t.file)))]);
}

/** Read and parse a JSON file; a corrupt file is an error naming its path (never replaced). */
export function readJsonFile<T>(file: string): T | undefined {
  const text = readTextFile(file);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw failure(
      'STORE_CORRUPT',
      `read ${q(file)}`,
      `the file is not valid JSON (${(e as Error).message})`,
      `fix or move the file aside by hand; WSS Studio never overwrites it`,
    );
  }
}

/** Read a JSON file and check its shape; a file that parses but does not fit names its path and field. */
export function readJsonFileAs<S extends v.GenericSchema>(
  file: string,
  schema: S,
): v.InferOutput<S> | undefined {
  const data = readJsonFile<unknown>(file);
  if (data === undefined) return undefined;
  const r = v.safeParse(schema, data, { abortEarly: true });
  if (r.success) return r.output;
  throw failure(
    'STORE_CORRUPT',
    `read ${q(file)}`,
    `the file does not have the expected content: ${describeIssue(r.issues)}`,
    'fix or move the file aside by hand; WSS Studio never overwrites it',
  );
}

export function readTextFile(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw failure(
      'STORE_UNREADABLE',
      `read ${q(file)}`,
      (e as Error).message,
      "check the file's permissions",
    );
  }
}

export function ensureDir(dir: string, mode = 0o700): void {
  fs.mkdirSync(dir, { recursive: true, mode });
}

export class Store {
  readonly root: string;
  readonly caDir: string;
  readonly certsDir: string;
  readonly settingsPath: string;

  constructor(root: string) {
    this.root = root;
    this.caDir = path.join(root, 'ca');
    this.certsDir = path.join(root, 'certs');
    this.settingsPath = path.join(root, 'settings.json');
  }

  /** Create the layout if missing (nothing else is written until the first real change). */
  ensureLayout(): void {
    ensureDir(this.root);
    const marker = path.join(this.root, 'store.json');
    const meta = readJsonFileAs(marker, StoreMetaSchema);
    if (meta === undefined) {
      writeFileAtomic(marker, JSON.stringify({ schema: STORE_SCHEMA }, null, 2) + '\n', 0o600);
    } else if (meta.schema !== STORE_SCHEMA) {
      throw failure(
        'STORE_SCHEMA',
        `open store ${q(this.root)}`,
        `its layout version is ${meta.schema}, this build reads version ${STORE_SCHEMA}`,
        'use the WSS Studio version that wrote it, or point WSS_STUDIO_HOME at another folder',
      );
    }
  }

  /**
   * settings.json as an object (missing: empty). Not JSON, not an object, or another layout version:
   * STORE_CORRUPT with the path, and the file is left as it is (no writer runs after a failed read).
   */
  readSettings(): Settings {
    return (
      (readJsonFileAs(this.settingsPath, SettingsSchema) as Settings | undefined) ?? { schema: 1 }
    );
  }

  writeSettings(s: Settings): void {
    this.ensureLayout();
    writeFileAtomic(this.settingsPath, JSON.stringify(s, null, 2) + '\n', 0o600);
  }

  /**
   * Run one change of the store under the store lock, after finishing or rolling back whatever a crashed
   * process left half-done. Waiting for another process's lock is a timer (withStoreLock): the
   * shells' event loop keeps serving meanwhile. `fn` is synchronous: the lock is never held across an await.
   */
  change<T>(action: string, fn: () => T): Promise<T> {
    return withStoreLock(this.root, `${action} (store ${JSON.stringify(this.root)})`, () => {
      recoverUnlocked(this.root, this.recoverDirs());
      this.ensureLayout();
      return fn();
    });
  }

  /**
   * Start-up recovery: finish or roll back a half-done folder switch and remove orphan temp folders
   * (they can hold private keys). Cheap when there is nothing to do; skipped while another live
   * process holds the lock (its temp folders are its work in progress).
   */
  recover(): string[] {
    try {
      if (!hasLeftovers(this.root, this.recoverDirs())) return [];
      const done =
        tryWithStoreLock(this.root, () => recoverUnlocked(this.root, this.recoverDirs())) ?? [];
      this.recovered.push(...done);
      return done;
    } catch {
      // Best effort (a store this user may only read): the next change recovers under the lock.
      return [];
    }
  }

  /** What the start-up recovery did (shells print or log it). */
  readonly recovered: string[] = [];

  /** Folders whose temp entries recovery handles besides the root. */
  private recoverDirs(): string[] {
    return [this.certsDir, path.join(this.root, 'trusted-cas')];
  }

  writeFileAtomic(file: string, data: string | Buffer, mode?: number): void {
    writeFileAtomic(file, data, mode);
  }

  certDir(id: string): string {
    return path.join(this.certsDir, id);
  }
}

/**
 * Open the store at `home` (default: resolveHome()). Opening validates the layout version if the store
 * exists, runs the recovery step, and creates nothing: folders and files appear with the first change.
 */
export function openStore(home?: string): Store {
  const store = new Store(home ?? resolveHome());
  const meta = readJsonFileAs(path.join(store.root, 'store.json'), StoreMetaSchema);
  if (meta !== undefined && meta.schema !== STORE_SCHEMA) store.ensureLayout(); // throws STORE_SCHEMA
  store.recover();
  return store;
}
