// CLI commands for "wss-studio serve ...": run ws:// and wss:// echo servers in the foreground and print
// the frame log, one line per event (JSON Lines with --json), until Ctrl-C.
import path from 'node:path';
import { bool, intOpt, str } from './args';
import type { Command, Io } from './command';
import { inputError, q } from '../../shared/errors';
import type { Store } from '../store';
import { storeFor } from './home';
import { getLeaf } from '../pki';
import { ServerManager, pickLeafFor, storeCertSource, type ServerStatus } from '../echo';
import { isHost } from '../../shared/validation';
import { behaviourHandlers } from '../engine/handlers-behaviour';
import { Dispatcher } from '../engine/dispatch';
import { helloServers, startControl, type ControlEndpoint } from '../control/server';
import { homeFor } from './home';
import { FaultRegistry } from '../faults';
import { readFaultLines } from './fault-lines';
import { printLog } from './print-log';

const CMD = 'wss-studio serve';
const ISSUE_HINT = 'wss-studio cert issue localhost 127.0.0.1 ::1';

export const commands: Command[] = [
  {
    path: ['serve'],
    summary: 'run ws:// and wss:// echo servers and print every frame',
    options: {
      ws: {
        type: 'string',
        value: 'PORT',
        help: 'start a ws:// echo server on PORT (0 = any free port)',
      },
      wss: {
        type: 'string',
        value: 'PORT',
        help: 'start a wss:// echo server on PORT (0 = any free port)',
      },
      cert: {
        type: 'string',
        value: 'ID',
        help: 'certificate for --wss (default: a valid one covering localhost)',
      },
      host: { type: 'string', value: 'ADDR', help: 'address to bind (default 127.0.0.1)' },
      'require-client-cert': {
        type: 'boolean',
        help: 'mTLS for --wss: refuse (403, logged) clients without a client certificate from the CA',
      },
      'client-ca': {
        type: 'string',
        value: 'FILE',
        help: 'PEM file of the CA(s) client certificates must chain to (default: the WSS Studio CA)',
      },
      rules: {
        type: 'string',
        value: 'FILE',
        help: 'rules, scripts and pushes (JSON, schemas/rules.schema.json); reloaded on change',
      },
      json: { type: 'boolean', help: 'print JSON Lines: one object per event' },
    },
    details: [
      'With neither --ws nor --wss, a ws:// server starts on a free port.',
      'Each server also answers GET / with the lab page (http:// or https:// on the same port).',
      'Stop with Ctrl-C. With --json every line is one JSON object: first {"type":"listening",...} per',
      'server, then frame-log events (type open | frame | close | error), and {"type":"stopped",...} last.',
      'With --rules, an invalid file at start is an error; an invalid change later keeps the previous rules',
      'and prints why (RULES_INVALID). Other terminals reach these servers with "wss-studio send ws MESSAGE".',
    ].join('\n'),
    run: serve,
  },
];

async function serve(p: Parameters<Command['run']>[0], io: Io): Promise<number> {
  const json = bool(p, 'json');
  if (p.positionals.length > 0) {
    throw inputError('USAGE', `run ${q(CMD)}`, `unexpected argument ${q(p.positionals[0])}`, {
      hint: 'ports go after --ws or --wss, e.g. "wss-studio serve --ws 8080 --wss 8443"',
    });
  }
  let wsPort = intOpt(p, 'ws', 0, 65535, CMD);
  const wssPort = intOpt(p, 'wss', 0, 65535, CMD);
  const certOpt = str(p, 'cert');
  const host = str(p, 'host') ?? '127.0.0.1';
  if (!isHost(host)) {
    throw inputError(
      'USAGE',
      `run ${q(CMD)}`,
      `option "--host" must be an IP address or host name, got ${q(host)}`,
      {
        field: '--host',
        value: host,
        hint: 'use e.g. "--host 127.0.0.1", "--host ::1" or "--host 0.0.0.0"',
      },
    );
  }
  if (certOpt !== undefined && wssPort === undefined) {
    throw inputError(
      'USAGE',
      `run ${q(CMD)}`,
      'option "--cert" is for the wss server, but "--wss" was not given',
      {
        field: '--cert',
        hint: `add "--wss PORT", e.g. "wss-studio serve --wss 8443 --cert ${certOpt}"`,
      },
    );
  }
  const requireClientCert = bool(p, 'require-client-cert');
  const clientCa = str(p, 'client-ca');
  if ((requireClientCert || clientCa !== undefined) && wssPort === undefined) {
    throw inputError(
      'USAGE',
      `run ${q(CMD)}`,
      `option "--${requireClientCert ? 'require-client-cert' : 'client-ca'}" is for the wss server, but "--wss" was not given`,
      {
        field: requireClientCert ? '--require-client-cert' : '--client-ca',
        hint: 'add "--wss PORT", e.g. "wss-studio serve --wss 8443 --require-client-cert"',
      },
    );
  }
  if (wsPort === undefined && wssPort === undefined) wsPort = 0;

  let store: Store | undefined;
  let certId: string | undefined;
  if (wssPort !== undefined) {
    store = storeFor(io);
    if (certOpt !== undefined) {
      certId = getLeaf(store, certOpt).id; // CERT_NOT_FOUND names the id and "cert list"
    } else {
      const leaf = pickLeafFor(store, 'localhost');
      if (!leaf) {
        throw inputError(
          'NO_CERT',
          'start wss server',
          `there is no valid certificate covering "localhost" in ${q(store.root)}`,
          {
            field: '--cert',
            hint: `issue one with ${q(ISSUE_HINT)} (run "wss-studio ca init" first if you have no CA), or pass "--cert ID" (a certificate with less than a day left is not picked)`,
          },
        );
      }
      certId = leaf.id;
    }
  }

  const rulesFile = str(p, 'rules');
  const faults = new FaultRegistry();
  const manager = new ServerManager({
    faults,
    ...(store ? { resolveCert: storeCertSource(store) } : {}),
  });
  const unsubscribe = printLog(manager.log, io, json);

  const started: ServerStatus[] = [];
  try {
    if (wsPort !== undefined) {
      manager.add({ id: 'ws', name: 'ws echo', scheme: 'ws', host, port: wsPort });
      if (rulesFile !== undefined) manager.behaviours.attachFile('ws', rulesFile, true);
      started.push(await manager.start('ws'));
    }
    if (wssPort !== undefined) {
      manager.add({
        id: 'wss',
        name: 'wss echo',
        scheme: 'wss',
        host,
        port: wssPort,
        certId,
        ...(requireClientCert || clientCa !== undefined ? { requireClientCert: true } : {}),
        ...(clientCa !== undefined ? { clientCaFile: path.resolve(io.cwd, clientCa) } : {}),
      });
      if (rulesFile !== undefined) manager.behaviours.attachFile('wss', rulesFile, true);
      started.push(await manager.start('wss'));
    }
  } catch (e) {
    // No half-started state: whatever did start is stopped again before the error is reported.
    unsubscribe();
    await manager.stopAll();
    throw e;
  }

  for (const s of started) {
    const url = s.url as string;
    const lab = s.labUrl as string;
    if (json) {
      io.out(
        JSON.stringify({
          type: 'listening',
          serverId: s.id,
          scheme: s.definition.scheme,
          host: s.definition.host,
          port: s.port,
          url,
          labUrl: lab,
          ...(s.definition.certId ? { certId: s.definition.certId } : {}),
          ...(s.definition.requireClientCert
            ? { requireClientCert: true, clientCa: s.definition.clientCaFile ?? 'wss-studio-ca' }
            : {}),
          ...(s.urlHint ? { urlHint: s.urlHint } : {}),
          ...(s.warnings ? { warnings: s.warnings } : {}),
        }),
      );
    } else {
      const cert = s.definition.certId ? `  (certificate ${s.definition.certId})` : '';
      io.out(`${s.definition.scheme.padEnd(3)} echo on ${url}  lab page ${lab}${cert}`);
      if (s.definition.requireClientCert) {
        io.out(
          `    client certificate required, issued by ${s.definition.clientCaFile ? q(s.definition.clientCaFile) : 'the WSS Studio CA'} (others get 403)`,
        );
      }
      if (s.urlHint) io.out(`    note: ${s.urlHint}`);
      for (const w of s.warnings ?? []) io.err(`warning: ${w}`);
    }
  }
  const control = await startServeControl(manager, io, json);
  if (!json)
    io.out('Press Ctrl-C to stop. Type "help" for live faults (latency, drop, hold, close ...).');
  const stopLines = readFaultLines(io, () =>
    started.map((st) => ({ id: st.id, target: faults.get(st.id, 'apply faults') })),
  );

  await io.interrupted;
  stopLines();
  await control?.close();
  await manager.stopAll();
  manager.log.flush();
  unsubscribe();
  const summary = { type: 'stopped', events: manager.log.total, dropped: manager.log.dropped };
  io.out(json ? JSON.stringify(summary) : `stopped after ${summary.events} events`);
  return 0;
}

/**
 * The control endpoint, so `wss-studio send` in another terminal reaches these servers. A state folder we
 * cannot write to costs only that: the servers run anyway and a note says why.
 */
async function startServeControl(
  manager: ServerManager,
  io: Io,
  json: boolean,
): Promise<ControlEndpoint | undefined> {
  const dispatcher = new Dispatcher({
    'server.list': () => manager.list(),
    ...behaviourHandlers(() => manager),
  });
  try {
    const c = await startControl({
      home: homeFor(io),
      shell: 'serve',
      call: (name, input) => dispatcher.call(name, input, { shell: 'test' }),
      servers: () => helloServers(manager.list()),
    });
    io.out(
      json
        ? JSON.stringify({ type: 'control', pid: c.info.pid, endpoint: c.endpoint })
        : `control: pid ${c.info.pid}; from another terminal: wss-studio send ${manager.list()[0]?.id ?? 'ws'} MESSAGE`,
    );
    return c;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    io.err(`note: "wss-studio send" cannot reach this process: ${why}`);
    return undefined;
  }
}
