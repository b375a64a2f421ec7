// CLI commands for "wss-studio doctor ...".
//   wss-studio doctor URL [--origin PAGE_ORIGIN] [--protocol P]... [--ca FILE] [--client NAME]...
//                         [--timeout MS] [--json]
// Exit codes: 0 the connection would work (warnings allowed), 1 it would not, 2 bad usage.
import path from 'node:path';
import { inputError, q } from '../../shared/errors';
import { bool, intOpt, list, str } from './args';
import type { Command, Io } from './command';
import {
  caFromStore,
  clientSummary,
  codeTable,
  DOCTOR_CLIENTS,
  type DoctorClient,
  parseOrigin,
  STEP_TITLES,
  type DoctorReport,
  type DoctorStep,
} from '../doctor';
import { cliEngine } from './engine';
import { homeFor } from './home';

const MARK: Record<DoctorStep['status'], string> = {
  pass: 'PASS',
  fail: 'FAIL',
  warn: 'WARN',
  skip: 'skip',
};

/** Human form of one step: status, title, code, then the explanation, fix and facts indented. */
export function formatStep(s: DoctorStep): string[] {
  const pad = '        ';
  if (s.status === 'skip') return [`  ${MARK.skip}  ${s.title}: ${s.explanation}`];
  const lines = [
    `  ${MARK[s.status]}  ${s.title}${s.code ? `  [${[s.code, ...(s.also ?? [])].join(', ')}]` : ''}`,
  ];
  lines.push(pad + s.explanation);
  if (s.fix && s.status !== 'pass') lines.push(`${pad}fix: ${s.fix}`);
  for (const d of s.detail ?? []) lines.push(`${pad}- ${d}`);
  for (const c of s.clients ?? []) {
    const mark = { works: 'works', fails: 'FAILS', unknown: '?' }[c.verdict];
    lines.push(`${pad}${mark.padEnd(6)} ${c.label}: ${c.reason}`);
    if (c.verdict !== 'works' && (c.command || c.fix))
      lines.push(`${pad}       fix: ${c.command ?? c.fix}`);
  }
  return lines;
}

export function formatVerdict(r: DoctorReport): string {
  if (r.cancelled) return 'result: cancelled before the diagnosis finished';
  const failed = r.steps
    .filter((s) => s.status === 'fail')
    .flatMap((s) => [s.code, ...(s.also ?? [])]);
  const warned = r.steps.filter((s) => s.status === 'warn').map((s) => s.code);
  // Only the trust verdict differs between clients: name it per client.
  const clients = r.clients ?? [];
  const onlyTrust = failed.every((c) => c === 'CERT_UNTRUSTED');
  if (clients.length && onlyTrust && clients.some((c) => c.verdict !== 'works'))
    return `result: ${r.ok ? '' : 'this connection would FAIL: '}${clientSummary(clients)}`;
  if (!r.ok) return `result: this connection would FAIL: ${failed.join(', ')}`;
  return `result: this connection would work${warned.length ? ` (with ${warned.length === 1 ? 'a warning' : 'warnings'}: ${warned.join(', ')})` : ''}`;
}

/** The client families --client names (chromium is chrome). */
function clientList(p: Parameters<Command['run']>[0]): DoctorClient[] {
  const out: DoctorClient[] = [];
  for (const raw of list(p, 'client').flatMap((x) => x.split(','))) {
    const name = raw
      .trim()
      .toLowerCase()
      .replace(/^chromium$/, 'chrome');
    if (!name) continue;
    if (!(DOCTOR_CLIENTS as readonly string[]).includes(name)) {
      throw inputError('USAGE', 'select doctor clients', `unknown client ${q(raw.trim())}`, {
        field: '--client',
        value: raw,
        hint: `use one or more of: ${DOCTOR_CLIENTS.join(', ')}`,
      });
    }
    if (!out.includes(name as DoctorClient)) out.push(name as DoctorClient);
  }
  return out;
}

/** Where the CA to check against comes from, for the header line: --ca FILE, or the store (never created). */
function caSourceFor(p: Parameters<Command['run']>[0], io: Io): { file?: string; source: string } {
  const file = str(p, 'ca');
  if (file !== undefined) {
    const abs = path.resolve(io.cwd, file);
    return { file: abs, source: abs };
  }
  const ca = caFromStore(homeFor(io));
  if (ca.warning) io.err(`warning: ${ca.warning}`);
  return { source: ca.source };
}

const doctor: Command = {
  path: ['doctor'],
  summary: 'diagnose a ws:// or wss:// URL step by step and say why it fails',
  args: 'URL',
  options: {
    origin: {
      type: 'string',
      value: 'PAGE_ORIGIN',
      help: 'origin of the page that opens the WebSocket (checks mixed content), e.g. https://localhost:5173',
    },
    protocol: { type: 'list', value: 'NAME', help: 'offer this subprotocol (repeatable)' },
    ca: {
      type: 'string',
      value: 'FILE',
      help: 'check trust against this CA PEM instead of the WSS Studio CA',
    },
    client: {
      type: 'list',
      value: 'NAME',
      help: `judge trust only for this client (repeatable): ${DOCTOR_CLIENTS.join(', ')}`,
    },
    timeout: { type: 'string', value: 'MS', help: 'timeout of each network step (default 5000)' },
    json: { type: 'boolean', help: 'print the report as one JSON document' },
  },
  details: [
    'Steps: ' + Object.values(STEP_TITLES).join('; ') + '.',
    'The mixed content check runs first, before any network traffic, when --origin is given.',
    'Trust is judged per client from the store each reads: Chrome/Chromium and each Firefox profile (NSS),',
    'curl/openssl/Python/Go (system bundle), Node (bundled roots + NODE_EXTRA_CA_CERTS), Java (cacerts),',
    'Windows (also from WSL) and macOS; --client narrows it. The verdict names who fails and the fix.',
    'Exit status: 0 the connection would work (warnings allowed), 1 it would not, 2 bad usage.',
    '',
    'codes:',
    ...codeTable().map(
      ({ code, doc }) =>
        `  ${code.padEnd(26)} ${doc.severity === 'warn' ? '(warning) ' : ''}${doc.step}`,
    ),
  ].join('\n'),
  run: async (p, io) => {
    const [url, ...extra] = p.positionals;
    if (url === undefined || extra.length) {
      throw inputError(
        'USAGE',
        'run "wss-studio doctor"',
        url === undefined
          ? 'the URL is missing'
          : `expected one URL, got ${p.positionals.length}: ${p.positionals.map(q).join(' ')}`,
        {
          field: 'URL',
          hint: 'run e.g. "wss-studio doctor wss://localhost:8443/ --origin https://localhost:5173"',
        },
      );
    }
    const timeoutMs = intOpt(p, 'timeout', 1, 120_000, 'wss-studio doctor');
    const origin = str(p, 'origin');
    if (origin !== undefined) parseOrigin(origin); // bad --origin: usage error before any output
    const json = bool(p, 'json');
    const only = clientList(p);
    const ca = caSourceFor(p, io);
    const protocols = list(p, 'protocol');
    // The engine's doctor.run, as the app runs it: the report is its DoctorReport, fixes worded for a
    // terminal (shell "cli"). Steps arrive as task progress; Ctrl-C cancels the task.
    const engine = cliEngine(io);
    const taskId = 'cli-doctor';
    let started = false;
    engine.onProgress((u) => {
      if (u.taskId !== taskId || json) return;
      if (!started) {
        started = true; // after the handler read --ca: a bad file is a usage error with nothing on stdout
        io.out(`doctor ${url}${origin ? ` (page ${origin})` : ''}`);
        io.out(`  trust anchors: system bundle; WSS Studio CA: ${ca.source}`);
      }
      if (u.doctorStep) formatStep(u.doctorStep).forEach((l) => io.out(l));
    });
    void io.interrupted.then(() => engine.handle('task.cancel', { taskId }));
    let report: DoctorReport;
    try {
      report = await engine.handle('doctor.run', {
        url,
        ...(origin !== undefined ? { origin } : {}),
        ...(only.length ? { clients: only } : {}),
        ...(protocols.length ? { protocols } : {}),
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        ...(ca.file !== undefined ? { caFile: ca.file } : {}),
        taskId,
      });
    } finally {
      engine.close();
    }
    if (json) io.out(JSON.stringify(report, null, 2));
    else io.out(formatVerdict(report));
    return report.ok && !report.cancelled ? 0 : 1;
  },
};

export const commands: Command[] = [doctor];
