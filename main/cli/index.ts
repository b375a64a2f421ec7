// `wss-studio` command-line entry. Exit codes: 0 success, 2 bad input or usage, 1 other failure.
// Errors are printed in one style:  error: failed to <verb> <object>: <cause>   plus   hint: <fix>
import readline from 'node:readline';
import { parseArgs, type OptSpec } from './args';
import type { Command, Io } from './command';
import { inputError, isWssError, q } from '../../shared/errors';
import { VERSION } from '../../shared/version';

// Command groups load on demand (in the bundle, a module body runs on its first import): "cert issue" never runs the
// web server or the echo engine. The main help loads them all.
const groups: Record<string, () => Promise<{ commands: Command[] }>> = {
  ca: () => import('./ca'),
  cert: () => import('./cert'),
  trust: () => import('./trust'),
  serve: () => import('./serve'),
  doctor: () => import('./doctor'),
  proxy: () => import('./proxy'),
  setup: () => import('./setup'),
  ui: () => import('./ui'),
  send: () => import('./send'),
  push: () => import('./send'),
  rules: () => import('./send'),
  replay: () => import('./send'),
};

export async function loadAllCommands(): Promise<Command[]> {
  const loaded = await Promise.all(Object.values(groups).map((g) => g()));
  // Several groups may share one module (send, push, rules): list each command once.
  return [...new Set(loaded.flatMap((m) => m.commands))];
}

const helpOpt: Record<string, OptSpec> = {
  help: { type: 'boolean', short: 'h', help: 'show help' },
};

function usageLine(c: Command): string {
  const opts = Object.entries(c.options)
    .map(([k, s]) =>
      s.type === 'boolean'
        ? `[--${k}]`
        : `[--${k} ${s.value ?? 'VALUE'}]${s.type === 'list' ? '...' : ''}`,
    )
    .join(' ');
  return ['wss-studio', ...c.path, c.args ?? '', opts].filter(Boolean).join(' ');
}

export function commandHelp(c: Command): string {
  const lines = [`usage: ${usageLine(c)}`, '', c.summary];
  if (c.details) lines.push('', c.details);
  const entries = Object.entries(c.options);
  if (entries.length) {
    lines.push('', 'options:');
    for (const [k, s] of entries) {
      const left = `  --${k}${s.type === 'boolean' ? '' : ' ' + (s.value ?? 'VALUE')}`;
      lines.push(`${left.padEnd(34)} ${s.help}`);
    }
  }
  return lines.join('\n');
}

export function mainHelp(allCommands: Command[]): string {
  const lines = [
    `wss-studio ${VERSION}: trusted local TLS and a WebSocket peer`,
    '',
    'usage: wss-studio <command> [options]',
    '',
    'commands:',
  ];
  for (const c of allCommands) lines.push(`  ${c.path.join(' ').padEnd(22)} ${c.summary}`);
  lines.push('', 'Run "wss-studio <command> --help" for a command\'s options.');
  lines.push("State lives in $WSS_STUDIO_HOME (default: your platform's app-data folder).");
  return lines.join('\n');
}

function findCommand(
  argv: string[],
  allCommands: Command[],
): { cmd?: Command; rest: string[]; group?: string } {
  for (const c of allCommands) {
    if (c.path.every((p, i) => argv[i] === p)) return { cmd: c, rest: argv.slice(c.path.length) };
  }
  const group = argv[0] && allCommands.some((c) => c.path[0] === argv[0]) ? argv[0] : undefined;
  return { rest: argv, ...(group ? { group } : {}) };
}

export async function run(argv: string[], io: Io): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(mainHelp(await loadAllCommands()));
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === '--version' || argv[0] === '-v') {
    io.out(VERSION);
    return 0;
  }
  const load = groups[argv[0] as string];
  const allCommands = load ? (await load()).commands : await loadAllCommands();
  const { cmd, rest, group } = findCommand(argv, allCommands);
  if (!cmd) {
    if (group) {
      const sub = allCommands.filter((c) => c.path[0] === group);
      if (argv.length === 1 || argv[1] === '--help' || argv[1] === '-h') {
        io.out(sub.map((c) => `  ${c.path.join(' ').padEnd(22)} ${c.summary}`).join('\n'));
        return argv.length === 1 ? 2 : 0;
      }
      const action = `run ${q(`wss-studio ${argv.slice(0, 2).join(' ')}`)}`;
      const hint = `${q(group)} takes one of: ${sub.map((c) => c.path[1]).join(', ')}`;
      return reportError(
        inputError('USAGE', action, `unknown command ${q(argv[1])}`, { hint }),
        io,
      );
    }
    const hint = 'run "wss-studio --help" for the list of commands';
    const cause = `unknown command ${q(argv[0])}`;
    return reportError(
      inputError('USAGE', `run ${q(`wss-studio ${argv[0]}`)}`, cause, { hint }),
      io,
    );
  }
  const name = `wss-studio ${cmd.path.join(' ')}`;
  try {
    const parsed = parseArgs(rest, { ...cmd.options, ...helpOpt }, name);
    if (parsed.opts.help) {
      io.out(commandHelp(cmd));
      return 0;
    }
    if (!cmd.args && parsed.positionals.length) {
      const extra = parsed.positionals.map(q).join(' ');
      throw inputError('USAGE', `run ${q(name)}`, `unexpected argument ${extra}`, {
        hint: `${q(name)} takes no arguments; see ${q(`${name} --help`)}`,
      });
    }
    return await cmd.run(parsed, io);
  } catch (e) {
    return reportError(e, io);
  }
}

export function reportError(e: unknown, io: Io): number {
  if (isWssError(e)) {
    io.err(`error: ${e.message}`);
    if (e.hint) io.err(`hint: ${e.hint}`);
    return e.kind === 'input' ? 2 : 1;
  }
  const msg = e instanceof Error ? e.message : String(e);
  io.err(`error: failed to run command: ${msg}`);
  if (e instanceof Error && e.stack && process.env.WSS_STUDIO_DEBUG) io.err(e.stack);
  return 1;
}

function processIo(): Io {
  let resolveInt: () => void = () => {};
  const interrupted = new Promise<void>((r) => (resolveInt = r));
  let count = 0;
  // Started again by bin/wss-studio.cjs with heap flags (proxy, ui): a Ctrl-C in a terminal reaches this
  // process and its launcher, which passes it on, so one press arrives twice within milliseconds.
  const launched = process.env.WSS_STUDIO_LAUNCHED_WITH_HEAP_FLAGS === '1';
  delete process.env.WSS_STUDIO_LAUNCHED_WITH_HEAP_FLAGS; // not for the processes this one starts
  let last = -Infinity;
  const onSig = () => {
    const now = performance.now();
    if (launched && now - last < 500) return;
    last = now;
    count++;
    if (count > 1) process.exit(130);
    resolveInt();
  };
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  if (launched && process.channel) {
    // The launcher's IPC channel closes when it dies (even by SIGKILL): stop as on Ctrl-C. The channel does
    // not keep this process alive.
    process.channel.unref();
    process.once('disconnect', () => {
      last = -Infinity;
      onSig();
    });
  }
  return {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
    outLines: (ls) => process.stdout.write(ls.join('\n') + '\n'),
    outBytes: (b) => {
      process.stdout.write(b);
      // Nothing unwritten: every byte went out in the call (a file, or a pipe with room), none is kept.
      return process.stdout.writableLength === 0;
    },
    outQueued: () => process.stdout.writableLength,
    env: process.env,
    cwd: process.cwd(),
    interrupted,
    lines(onLine) {
      // Only read a terminal or a pipe when a command asks for it, so other commands never hold stdin.
      const rl = readline.createInterface({ input: process.stdin, terminal: false });
      rl.on('line', onLine);
      return () => rl.close();
    },
  };
}

/** Entry used by bin/wss-studio.cjs (through the bundle dist/cli.cjs). */
export async function cliMain(argv: string[] = process.argv.slice(2)): Promise<void> {
  const code = await run(argv, processIo());
  process.exitCode = code;
  // Servers and timers are closed by now; exit once stdout and stderr have drained.
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}
