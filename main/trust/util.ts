// Helpers shared by the store files: the default command runner, tool lookup on PATH, shell quoting for
// the fix lines we print, and matching our CA inside PEM text by its DER bytes (never by name).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import type { RunOptions, RunResult, Runner, TrustCa, TrustContext } from './types';

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_OUTPUT = 16 * 1024 * 1024;

/** Runs a program without a shell (arguments are never re-parsed), with a timeout and bounded output. */
export const defaultRunner: Runner = (file: string, args: string[], opts: RunOptions = {}) =>
  new Promise<RunResult>((resolve) => {
    let stdout = '';
    let stderr = '';
    let settled = false;
    const done = (r: RunResult) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        resolve(r);
      }
    };
    const child = spawn(file, args, {
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done({ code: null, stdout, stderr, spawnError: 'ETIMEDOUT' });
    }, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      if (stdout.length < MAX_OUTPUT) stdout += d;
    });
    child.stderr.on('data', (d: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += d;
    });
    child.on('error', (e: NodeJS.ErrnoException) =>
      done({ code: null, stdout, stderr, spawnError: e.code ?? e.message }),
    );
    child.on('close', (code) => done({ code, stdout, stderr }));
    // A tool that exits before reading stdin must not crash us with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });

/**
 * Folders searched after PATH. A macOS app started from Finder or the Dock gets launchd's PATH
 * (/usr/bin:/bin:/usr/sbin:/sbin), without Homebrew or MacPorts, where certutil (Homebrew's nss) lives;
 * mkcert asks `brew --prefix nss` for the same reason.
 */
export function wellKnownToolDirs(platform: NodeJS.Platform): string[] {
  return platform === 'darwin'
    ? [
        '/opt/homebrew/bin',
        '/opt/homebrew/opt/nss/bin',
        '/usr/local/bin',
        '/usr/local/opt/nss/bin',
        '/opt/local/bin',
      ]
    : [];
}

/** Find an executable on the context's PATH (no `which` process: this runs on every `ca show`). */
export function findOnPath(
  name: string,
  ctx: Pick<TrustContext, 'env' | 'platform'>,
  extraDirs: string[] = wellKnownToolDirs(ctx.platform),
): string | null {
  const sep = ctx.platform === 'win32' ? ';' : ':';
  const exts = ctx.platform === 'win32' ? ['.exe', '.cmd', '.bat', ''] : [''];
  for (const dir of [...(ctx.env.PATH ?? ctx.env.Path ?? '').split(sep), ...extraDirs]) {
    if (!dir) continue;
    for (const ext of exts) {
      const p = path.join(dir, name + ext);
      if (isExecutable(p)) return p;
    }
  }
  return null;
}

export function isExecutable(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Whether the current process may create/delete entries in `dir` (root may, always). */
export function canWrite(p: string): boolean {
  try {
    accessSync(p, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** POSIX shell quoting for the commands we print (sudo lines, pkexec scripts). */
export function shQuote(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_\-./:=@%+,]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function shLine(argv: string[]): string {
  return argv.map(shQuote).join(' ');
}

/**
 * Windows command-line quoting for the commands we print (cmd.exe / PowerShell both accept it for
 * plain arguments): wrap in double quotes when there is whitespace or a quote, doubling backslashes
 * that precede a quote, as CommandLineToArgvW expects.
 */
export function winQuote(s: string): string {
  if (s !== '' && !/[\s"]/.test(s)) return s;
  let out = '"';
  let slashes = 0;
  for (const ch of s) {
    if (ch === '\\') {
      slashes++;
      continue;
    }
    if (ch === '"') {
      out += '\\'.repeat(slashes * 2 + 1) + '"';
    } else {
      out += '\\'.repeat(slashes) + ch;
    }
    slashes = 0;
  }
  return out + '\\'.repeat(slashes * 2) + '"';
}

export function winLine(argv: string[]): string {
  return argv.map(winQuote).join(' ');
}

/** Base64 bodies of every PEM CERTIFICATE block in a text, whitespace removed. */
export function pemBodies(text: string): string[] {
  const out: string[] = [];
  const re =
    /-----BEGIN (?:TRUSTED )?CERTIFICATE-----([\s\S]*?)-----END (?:TRUSTED )?CERTIFICATE-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push((m[1] ?? '').replace(/\s+/g, ''));
  return out;
}

/** Whether a PEM text (bundle, keystore dump, certutil -a output) holds exactly our CA certificate. */
export function pemContains(text: string, ca: Pick<TrustCa, 'certDer'>): boolean {
  const ours = ca.certDer.toString('base64');
  return pemBodies(text).includes(ours);
}

/** Count of certificates in a PEM text. */
export function pemCount(text: string): number {
  return pemBodies(text).length;
}

/** SHA-1 of the DER, upper-case hex without separators: Windows thumbprint, macOS `-Z` hash. */
export function sha1Hex(ca: Pick<TrustCa, 'certDer'>): string {
  return createHash('sha1').update(ca.certDer).digest('hex').toUpperCase();
}

export function sha256Hex(ca: Pick<TrustCa, 'certDer'>): string {
  return createHash('sha256').update(ca.certDer).digest('hex').toUpperCase();
}

/** Normalise a hex fingerprint however a tool printed it ("ab cd", "AB:CD", "abcd") for comparison. */
export function normHex(s: string): string {
  return s.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
}

/** Short, safe token from the serial for file names and aliases (serials can be 20 bytes). */
export function serialTag(ca: Pick<TrustCa, 'serialHex'>): string {
  return normHex(ca.serialHex).toLowerCase() || 'noserial';
}

/** "~/.pki/nssdb" for display, when the path is inside the context's home. */
export function tildify(p: string, home: string): string {
  if (home && (p === home || p.startsWith(home + path.sep))) return '~' + p.slice(home.length);
  return p;
}

/** First non-empty line of a tool's output, for details. */
export function firstLine(...texts: string[]): string {
  for (const t of texts) {
    const l = t
      .split(/\r?\n/)
      .map((s) => s.trim())
      .find(Boolean);
    if (l) return l;
  }
  return '';
}

/** The context for real use (the CLI and the app pass their own env). */
export function defaultContext(overrides: Partial<TrustContext> = {}): TrustContext {
  const env = overrides.env ?? process.env;
  const home = overrides.home ?? (env.HOME || env.USERPROFILE || os.homedir());
  return {
    run: defaultRunner,
    env,
    platform: process.platform,
    home,
    root: env.WSS_STUDIO_TRUST_ROOT || '/',
    uid: typeof process.getuid === 'function' ? process.getuid() : null,
    javaStorePassword: env.WSS_STUDIO_JAVA_STOREPASS || 'changeit',
    cliName: 'wss-studio',
    ...overrides,
  };
}
