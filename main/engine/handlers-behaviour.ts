// rules.*, push.*, replay.*: a server's behaviour beyond echo (main/echo/rules) behind the contract. Shared by
// the engine (desktop app, web mode) and `wss-studio serve`, which runs a ServerManager of its own and
// answers `wss-studio send` through the control endpoint with these same handlers.
import { inputError, q } from '../../shared/errors';
import { checkRules } from '../../shared/rules';
import type { ServerManager } from '../echo';
import { parseRecording, pickSession, sessionsFromEvents } from '../echo/rules/replay';
import type { Handlers } from './dispatch';

export type BehaviourNames =
  | 'rules.get'
  | 'rules.set'
  | 'rules.try'
  | 'push.send'
  | 'push.start'
  | 'push.stop'
  | 'push.list'
  | 'replay.start';

/** A server id, or a name that only one server has (case-insensitive): what `send SERVER` accepts. */
export function resolveServer(m: ServerManager, idOrName: string): string {
  const list = m.list();
  if (list.some((s) => s.id === idOrName)) return idOrName;
  const byName = list.filter((s) => s.definition.name.toLowerCase() === idOrName.toLowerCase());
  if (byName.length === 1) return (byName[0] as (typeof list)[number]).id;
  throw inputError(
    'SERVER_NOT_FOUND',
    `find echo server ${q(idOrName)}`,
    byName.length > 1
      ? `${byName.length} servers are named ${q(idOrName)}`
      : `no server with id or name ${q(idOrName)}`,
    {
      field: 'serverId',
      hint: `use an id: ${list.map((s) => `${q(s.id)} (${s.definition.name})`).join(', ') || '(no servers)'}`,
    },
  );
}

export function behaviourHandlers(m: () => ServerManager): Pick<Handlers, BehaviourNames> {
  const b = (serverId: string) => m().behaviours.get(resolveServer(m(), serverId));
  return {
    'rules.get': ({ serverId }) => m().behaviours.status(resolveServer(m(), serverId)),
    'rules.set': ({ serverId, rules }) => m().behaviours.set(resolveServer(m(), serverId), rules),
    'rules.try': (i) => {
      const beh = b(i.serverId);
      let doc;
      if (i.rules !== undefined) {
        const r = checkRules(i.rules);
        if (!r.ok)
          return { rule: null, outcome: 'handled', sends: [], errors: [], problems: r.problems };
        doc = r.value;
      }
      const data =
        i.text !== undefined
          ? Buffer.from(i.text, 'utf8')
          : Buffer.from(i.dataBase64 ?? '', 'base64');
      return beh.tryMessage(
        {
          data,
          isBinary: i.text === undefined,
          ...(i.path !== undefined ? { path: i.path } : {}),
          ...(i.query ? { query: i.query } : {}),
          ...(i.headers ? { headers: i.headers } : {}),
          ...(i.protocol !== undefined ? { protocol: i.protocol } : {}),
          ...(i.connection !== undefined ? { connection: i.connection } : {}),
          ...(i.messageNumber !== undefined ? { messageNumber: i.messageNumber } : {}),
        },
        doc,
      );
    },
    'push.send': ({ serverId, conn, text, dataBase64 }) => {
      const id = resolveServer(m(), serverId);
      const beh = m().behaviours.get(id);
      if (m().status(id).state !== 'running') {
        throw inputError(
          'SERVER_NOT_RUNNING',
          `send to server ${q(id)}`,
          'the server is not running',
          {
            field: 'serverId',
            hint: `start it first ("server.start" or the switch on its card)`,
          },
        );
      }
      const binary = text === undefined;
      const sent = beh.inject(
        conn,
        binary ? Buffer.from(dataBase64 ?? '', 'base64') : Buffer.from(text, 'utf8'),
        binary,
      );
      return { serverId: id, sent };
    },
    'push.start': ({ serverId, pushId, push }) => b(serverId).startPush(push ?? (pushId as string)),
    'push.stop': ({ serverId, pushId }) => {
      const r = b(serverId).stopPush(pushId);
      if (!r) {
        throw inputError(
          'PUSH_NOT_RUNNING',
          `stop push ${q(pushId)}`,
          `push ${q(pushId)} is not running`,
          {
            field: 'pushId',
            hint: 'see "push.list" for the running pushes',
          },
        );
      }
      return r;
    },
    'push.list': ({ serverId }) => b(serverId).pushList(),
    'replay.start': (i) => {
      const id = resolveServer(m(), i.serverId);
      const sessions =
        i.recording !== undefined
          ? parseRecording(i.recording, i.format)
          : sessionsFromEvents(
              m()
                .log.events()
                .filter(
                  (e) =>
                    'conn' in e &&
                    e.conn === i.logConn &&
                    (i.fromSeq === undefined || e.seq >= i.fromSeq) &&
                    (i.toSeq === undefined || e.seq <= i.toSeq),
                ),
            );
      if (sessions.length === 0) {
        throw inputError(
          'INVALID_RECORDING',
          'read the recorded session',
          `the frame log holds no text or binary frames of connection ${i.logConn ?? '?'} in that range`,
          {
            field: 'logConn',
            hint: 'pick a connection and range that has frames (the log keeps the newest events)',
          },
        );
      }
      const s = pickSession(sessions, i.session);
      const r = m()
        .behaviours.get(id)
        .replay(i.conn, s.frames, {
          ...(i.speed !== undefined ? { speed: i.speed } : {}),
          ...(i.waitForClient !== undefined ? { waitForClient: i.waitForClient } : {}),
        });
      return {
        replayId: r.id,
        session: s.label,
        messages: s.frames.filter((f) => f.dir === 'out').length,
        awaits: i.waitForClient ? s.frames.filter((f) => f.dir === 'in').length : 0,
      };
    },
  };
}
