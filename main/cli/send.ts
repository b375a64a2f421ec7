// Over 400 lines: the commands that reach a running instance share one connection-and-print path; splitting would duplicate it.
// Commands that talk to a running instance (the desktop app, web mode or a `wss-studio serve` in another
// terminal) through its control endpoint: send, push start|stop|list. Plus `rules check FILE`, offline.
import fs from 'node:fs';
import { bool, intOpt, str } from './args';
import type { Command, Io } from './command';
import { homeFor } from './home';
import { inputError, q } from '../../shared/errors';
import type { ControlHello, ControlInfo } from '../../shared/control';
import type { PushStatusDto, Results } from '../../shared/api';
import { checkRules, formatProblem, RULE_LIMITS } from '../../shared/rules';
import { ControlClient, listInstances } from '../control/client';

const shellName: Record<ControlInfo['shell'], string> = {
  electron: 'the desktop app',
  web: 'web mode (wss-studio ui)',
  serve: 'wss-studio serve',
  test: 'a test engine',
};

interface Found {
  client: ControlClient;
  hello: ControlHello;
  serverId: string;
}

function describe(h: ControlHello): string {
  return `${shellName[h.shell]} (pid ${h.pid})`;
}

/** The one running instance that has SERVER (id or name); errors say which instances exist and what they run. */
async function findServer(
  io: Io,
  server: string,
  pid: number | undefined,
  cmd: string,
): Promise<Found> {
  const home = homeFor(io);
  let infos = listInstances(home);
  if (pid !== undefined) infos = infos.filter((i) => i.pid === pid);
  if (infos.length === 0) {
    throw inputError(
      'NO_INSTANCE',
      `run ${q(cmd)}`,
      pid !== undefined
        ? `no running instance with pid ${pid} uses the state folder ${q(home)}`
        : `no running WSS Studio instance uses the state folder ${q(home)}`,
      {
        hint: 'start "wss-studio serve", "wss-studio ui" or the app with the same WSS_STUDIO_HOME, then retry',
      },
    );
  }
  const hits: Found[] = [];
  const seen: string[] = [];
  for (const info of infos) {
    const client = new ControlClient(info);
    let hello: ControlHello;
    try {
      hello = await client.hello();
    } catch {
      client.close();
      continue;
    }
    seen.push(
      `${describe(hello)}: ${hello.servers.map((s) => `${s.id} (${s.name})`).join(', ') || 'no servers'}`,
    );
    const s =
      hello.servers.find((x) => x.id === server) ??
      hello.servers.find((x) => x.name.toLowerCase() === server.toLowerCase());
    if (s) hits.push({ client, hello, serverId: s.id });
    else client.close();
  }
  if (hits.length === 1) return hits[0] as Found;
  for (const h of hits) h.client.close();
  if (hits.length === 0) {
    throw inputError(
      'SERVER_NOT_FOUND',
      `run ${q(cmd)}`,
      `no running instance has a server ${q(server)}`,
      {
        field: 'SERVER',
        hint: seen.length ? `running: ${seen.join('; ')}` : 'no instance answered',
      },
    );
  }
  throw inputError(
    'AMBIGUOUS_SERVER',
    `run ${q(cmd)}`,
    `${hits.length} running instances have a server ${q(server)}`,
    {
      field: 'SERVER',
      hint: `pick one with --instance PID: ${hits.map((h) => describe(h.hello)).join(', ')}`,
    },
  );
}

async function withServer<T>(
  io: Io,
  server: string,
  pid: number | undefined,
  cmd: string,
  fn: (f: Found) => Promise<T>,
): Promise<T> {
  const f = await findServer(io, server, pid, cmd);
  try {
    // The instance's errors arrive as WssErrors with their own kind: exit 2 for input, 1 for a failure.
    return await fn(f);
  } finally {
    f.client.close();
  }
}

const instanceOpt = {
  type: 'string' as const,
  value: 'PID',
  help: 'the instance to talk to when several run this server',
};
const jsonOpt = { type: 'boolean' as const, help: 'print the result as JSON' };

function positionals(
  p: { positionals: string[] },
  n: number,
  cmd: string,
  usage: string,
): string[] {
  if (p.positionals.length !== n) {
    throw inputError(
      'USAGE',
      `run ${q(cmd)}`,
      `expected ${n} argument${n > 1 ? 's' : ''}, got ${p.positionals.length}`,
      {
        hint: `usage: ${usage}`,
      },
    );
  }
  return p.positionals;
}

export const commands: Command[] = [
  {
    path: ['send'],
    summary: 'send a message into a running server (one connection or all), logged as injected',
    args: 'SERVER MESSAGE',
    options: {
      conn: {
        type: 'string',
        value: 'N',
        help: 'only this connection (its number in the frame log)',
      },
      binary: { type: 'boolean', help: 'MESSAGE is hex digits sent as a binary message' },
      instance: instanceOpt,
      json: jsonOpt,
    },
    details: [
      'SERVER is the id or name shown by "wss-studio serve" and the app (e.g. "ws").',
      'Reaches the desktop app, web mode or a "wss-studio serve" in another terminal that uses the same',
      'state folder (WSS_STUDIO_HOME), through its control endpoint: a socket only your user can open.',
    ].join('\n'),
    run: async (p, io) => {
      const cmd = 'wss-studio send';
      const [server, message] = positionals(
        p,
        2,
        cmd,
        'wss-studio send SERVER [--conn N] MESSAGE',
      ) as [string, string];
      const conn = intOpt(p, 'conn', 1, Number.MAX_SAFE_INTEGER, cmd);
      const pid = intOpt(p, 'instance', 1, 2 ** 31, cmd);
      const binary = bool(p, 'binary');
      if (binary && !/^([0-9a-fA-F]{2})*$/.test(message.replace(/\s+/g, ''))) {
        throw inputError(
          'USAGE',
          `run ${q(cmd)}`,
          `with --binary, MESSAGE must be hex digits, got ${q(message.slice(0, 40))}`,
          {
            field: 'MESSAGE',
            hint: 'e.g. wss-studio send ws --binary "cafe01"',
          },
        );
      }
      return withServer(io, server, pid, cmd, async (f) => {
        const r = await f.client.call<Results['push.send']>('push.send', {
          serverId: f.serverId,
          ...(conn !== undefined ? { conn } : {}),
          ...(binary
            ? { dataBase64: Buffer.from(message.replace(/\s+/g, ''), 'hex').toString('base64') }
            : { text: message }),
        });
        if (bool(p, 'json')) {
          io.out(JSON.stringify({ instance: { pid: f.hello.pid, shell: f.hello.shell }, ...r }));
        } else {
          const to =
            r.sent.length === 0
              ? 'no open connection'
              : `connection${r.sent.length > 1 ? 's' : ''} ${r.sent.join(', ')}`;
          io.out(`sent to ${to} of server ${q(r.serverId)} in ${describe(f.hello)}`);
        }
        return 0;
      });
    },
  },
  {
    path: ['push', 'start'],
    summary: 'start a periodic push of a running server (one from its rules, or --every/--text)',
    args: 'SERVER [PUSH_ID]',
    options: {
      every: {
        type: 'string',
        value: 'MS',
        help: `interval of a push defined here (at least ${RULE_LIMITS.minEveryMs})`,
      },
      text: {
        type: 'string',
        value: 'TEMPLATE',
        help: 'message of a push defined here, e.g. "tick {{counter}}"',
      },
      broadcast: { type: 'boolean', help: 'render once and send the same message to all' },
      instance: instanceOpt,
      json: jsonOpt,
    },
    run: async (p, io) => {
      const cmd = 'wss-studio push start';
      const [server, pushId] = p.positionals as [string | undefined, string | undefined];
      if (!server)
        throw inputError('USAGE', `run ${q(cmd)}`, 'SERVER is missing', {
          hint: 'wss-studio push start ws tick',
        });
      const every = intOpt(p, 'every', RULE_LIMITS.minEveryMs, 86_400_000, cmd);
      const text = str(p, 'text');
      if ((every === undefined) !== (text === undefined) || (every === undefined && !pushId)) {
        throw inputError(
          'USAGE',
          `run ${q(cmd)}`,
          'give a PUSH_ID from the rules, or both --every and --text',
          {
            hint: 'wss-studio push start ws tick   or   wss-studio push start ws --every 1000 --text "tick {{counter}}"',
          },
        );
      }
      const pid = intOpt(p, 'instance', 1, 2 ** 31, cmd);
      return withServer(io, server, pid, cmd, async (f) => {
        const r = await f.client.call<PushStatusDto>('push.start', {
          serverId: f.serverId,
          ...(every !== undefined
            ? {
                push: {
                  id: pushId ?? 'cli',
                  everyMs: every,
                  message: { text },
                  to: bool(p, 'broadcast') ? 'broadcast' : 'each',
                },
              }
            : { pushId }),
        });
        io.out(
          bool(p, 'json')
            ? JSON.stringify(r)
            : `push ${q(r.id)} every ${r.everyMs} ms started on ${q(f.serverId)} in ${describe(f.hello)}`,
        );
        return 0;
      });
    },
  },
  {
    path: ['push', 'stop'],
    summary: 'stop a periodic push of a running server',
    args: 'SERVER PUSH_ID',
    options: { instance: instanceOpt, json: jsonOpt },
    run: async (p, io) => {
      const cmd = 'wss-studio push stop';
      const [server, pushId] = positionals(p, 2, cmd, 'wss-studio push stop SERVER PUSH_ID') as [
        string,
        string,
      ];
      return withServer(io, server, intOpt(p, 'instance', 1, 2 ** 31, cmd), cmd, async (f) => {
        const r = await f.client.call<PushStatusDto>('push.stop', { serverId: f.serverId, pushId });
        io.out(
          bool(p, 'json')
            ? JSON.stringify(r)
            : `push ${q(r.id)} stopped after ${r.ticks} ticks, ${r.sent} messages (${r.skipped} ticks skipped)`,
        );
        return 0;
      });
    },
  },
  {
    path: ['replay'],
    summary: 'play a recorded session (HAR or JSON Lines) to one connection of a running server',
    args: 'SERVER FILE',
    options: {
      conn: {
        type: 'string',
        value: 'N',
        help: 'the connection to play to (its number in the frame log)',
      },
      speed: {
        type: 'string',
        value: 'X',
        help: 'timing factor: 2 = twice as fast (default 1, original timing)',
      },
      session: {
        type: 'string',
        value: 'I',
        help: 'which WebSocket of the recording (default: the first with server messages)',
      },
      'wait-for-client': {
        type: 'boolean',
        help: 'wait for each recorded client message before going on',
      },
      instance: instanceOpt,
      json: jsonOpt,
    },
    details: [
      'FILE: a HAR with _webSocketMessages (Chrome DevTools > Network > Export HAR) or the frame log as',
      'JSON Lines ("wss-studio serve --json" or the app\'s "Export JSONL"). Server->client messages are played;',
      'client->server messages are awaited with --wait-for-client.',
    ].join('\n'),
    run: async (p, io) => {
      const cmd = 'wss-studio replay';
      const [server, file] = positionals(p, 2, cmd, 'wss-studio replay SERVER --conn N FILE') as [
        string,
        string,
      ];
      const conn = intOpt(p, 'conn', 1, Number.MAX_SAFE_INTEGER, cmd);
      if (conn === undefined) {
        throw inputError('USAGE', `run ${q(cmd)}`, 'option "--conn" is required', {
          field: '--conn',
          hint: 'the connection number is in the frame log ("open" events), e.g. --conn 3',
        });
      }
      const speedText = str(p, 'speed');
      const speed = speedText === undefined ? undefined : Number(speedText);
      if (speed !== undefined && !(speed >= 0.01 && speed <= 1000)) {
        throw inputError(
          'USAGE',
          `run ${q(cmd)}`,
          `option "--speed" must be from 0.01 to 1000, got ${q(speedText)}`,
          {
            field: '--speed',
            hint: 'e.g. --speed 2 for twice as fast',
          },
        );
      }
      const session = intOpt(p, 'session', 0, 100_000, cmd);
      let recording: string;
      try {
        recording = fs.readFileSync(file, 'utf8');
      } catch (e) {
        throw inputError(
          'RECORDING_UNREADABLE',
          `read recording ${q(file)}`,
          (e as Error).message,
          { field: 'FILE' },
        );
      }
      return withServer(io, server, intOpt(p, 'instance', 1, 2 ** 31, cmd), cmd, async (f) => {
        const r = await f.client.call<Results['replay.start']>('replay.start', {
          serverId: f.serverId,
          conn,
          recording,
          ...(speed !== undefined ? { speed } : {}),
          ...(session !== undefined ? { session } : {}),
          ...(bool(p, 'wait-for-client') ? { waitForClient: true } : {}),
        });
        io.out(
          bool(p, 'json')
            ? JSON.stringify(r)
            : `replaying ${r.messages} messages of ${r.session} to connection ${conn} of ${q(f.serverId)} in ${describe(f.hello)}${r.awaits ? `, waiting for ${r.awaits} client messages` : ''}`,
        );
        return 0;
      });
    },
  },
  {
    path: ['rules', 'check'],
    summary: 'validate a rules file (the same check the servers run)',
    args: 'FILE',
    options: { json: jsonOpt },
    run: async (p, io) => {
      const cmd = 'wss-studio rules check';
      const [file] = positionals(p, 1, cmd, 'wss-studio rules check FILE') as [string];
      let text: string;
      try {
        if (fs.statSync(file).size > RULE_LIMITS.fileBytes)
          throw new Error(`it is over ${RULE_LIMITS.fileBytes} bytes`);
        text = fs.readFileSync(file, 'utf8');
      } catch (e) {
        throw inputError('RULES_UNREADABLE', `read rules file ${q(file)}`, (e as Error).message, {
          field: 'FILE',
        });
      }
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch (e) {
        throw inputError(
          'INVALID_RULES',
          `read rules file ${q(file)}`,
          `it is not JSON: ${(e as Error).message}`,
          { field: 'FILE' },
        );
      }
      const r = checkRules(doc);
      if (bool(p, 'json'))
        io.out(JSON.stringify(r.ok ? { ok: true } : { ok: false, problems: r.problems }));
      else if (r.ok)
        io.out(
          `${file}: ${r.value.rules?.length ?? 0} rules, ${r.value.onConnect?.length ?? 0} scripts, ${r.value.pushes?.length ?? 0} pushes: valid`,
        );
      else for (const pr of r.problems) io.err(`${file}: ${formatProblem(pr)}`);
      return r.ok ? 0 : 2;
    },
  },
];
