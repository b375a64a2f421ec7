// Where a running instance's control endpoint lives. Unix: a socket in `<state>/control/` (folder 0700,
// socket 0600: only the same user can connect). Windows: a named pipe whose name is derived from the state
// folder and the process id; Node cannot set a pipe's ACL, so every request also carries the token from the
// instance's info file, which sits in the user's own profile folder.
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';

/** sun_path is 104 bytes on macOS, 108 on Linux, NUL included. */
export const MAX_SOCKET_PATH = 103;

export function controlDir(home: string): string {
  return path.join(home, 'control');
}

export function infoFile(home: string, pid: number): string {
  return path.join(controlDir(home), `${pid}.json`);
}

/** Short, stable id of a state folder (for pipe names and the fallback socket folder). */
export function homeTag(home: string): string {
  return createHash('sha256').update(path.resolve(home)).digest('hex').slice(0, 16);
}

/**
 * The endpoint of the instance `pid` for this state folder. A state folder too deep for a socket path falls
 * back to a per-user folder under the temp dir (created 0700 and checked to be ours before use).
 */
export function endpointFor(
  home: string,
  pid: number,
  platform: NodeJS.Platform = process.platform,
  tmpdir: string = os.tmpdir(),
  uid: number = typeof process.getuid === 'function' ? process.getuid() : 0,
): { endpoint: string; dir?: string } {
  if (platform === 'win32') return { endpoint: `\\\\.\\pipe\\wss-studio-${homeTag(home)}-${pid}` };
  const inHome = path.join(controlDir(home), `${pid}.sock`);
  if (Buffer.byteLength(inHome) <= MAX_SOCKET_PATH)
    return { endpoint: inHome, dir: controlDir(home) };
  const dir = path.join(tmpdir, `wss-studio-${uid}`);
  return { endpoint: path.join(dir, `${homeTag(home)}-${pid}.sock`), dir };
}
