// Types for scripts/launch.mjs (plain JavaScript: `npm start` runs it without a build).
import type { ChildProcess } from 'node:child_process';
export const EARLY_MS: number;
export function classifyEarlyExit(stderr: string): 'sandbox' | 'display' | 'other';
export function explainEarlyExit(
  kind: 'sandbox' | 'display' | 'other',
  electronBinary: string,
  detail: string,
): string[];
export function runWithFallback(o: {
  desktop: [string, string[]];
  web: [string, string[]];
  electronBinary: string;
  earlyMs?: number;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  onChild?: (c: ChildProcess) => void;
}): Promise<number>;
