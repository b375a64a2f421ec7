// Types for scripts/fetch-electron.mjs (plain JavaScript so `npm install` runs it without a build).
export function progressText(p: { transferred: number; total: number | null }): string;
export function oneLine(e: unknown): string;
export function fetchElectron(o?: {
  dir?: string;
  out?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
  tickMs?: number;
}): Promise<{ ok: true } | { ok: false; reason: string }>;
export function npmIgnoresAllowScripts(userAgent?: string): boolean;
export function electronBinaryPath(env?: NodeJS.ProcessEnv, dir?: string): string;
