// The shape every CLI command file exports. One file per command group (ca, cert, trust, serve, doctor, ui),
// so each area of the engine owns its own commands.
import type { OptSpec, Parsed } from './args';

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Resolves when the user asks to stop (Ctrl-C); long-running commands (serve, ui) wait on it. */
  interrupted: Promise<void>;
  /** Several lines in one write (what out() does for each); absent: out() per line. */
  outLines?: (lines: string[]) => void;
  /**
   * Bytes (whole lines, each ending in '\n') in one write. Returns true when stdout took them all at once,
   * so the caller may reuse the buffer; false: it is still queued and must not be touched. Absent: lines.
   */
  outBytes?: (bytes: Uint8Array) => boolean;
  /**
   * Bytes given to out() that stdout has not taken yet (a pipe or a slow terminal). Long-running commands
   * skip log lines (and say how many) rather than queue without bound. Absent: nothing is queued.
   */
  outQueued?: () => number;
  /** Lines typed while a long-running command runs (proxy: live faults). Absent in tests that give none. */
  lines?: (onLine: (line: string) => void) => () => void;
}

export interface Command {
  /** e.g. ['ca', 'init'] */
  path: string[];
  /** One line for the command list. */
  summary: string;
  /** Positional arguments as shown in help, e.g. 'NAME...'. */
  args?: string;
  options: Record<string, OptSpec>;
  /** Longer help shown under the usage line. */
  details?: string;
  /** Returns the exit code: 0 success, 1 failure, 2 bad input. Throw WssError for errors. */
  run: (p: Parsed, io: Io) => Promise<number>;
}
