// `wss-studio proxy PUBLIC_URL TARGET_URL`: put trusted https:// and wss:// in front of your own server in the
// foreground and print every request and frame (JSON Lines with --json), until Ctrl-C. Faults change live:
// type "help" while it runs (main/faults/commands.ts).
import { bool, str } from './args';
import type { Command, Io } from './command';
import { inputError, isWssError, q } from '../../shared/errors';
import { storeFor } from './home';
import { ProxyManager, storeCerts } from '../proxy';
import { FrameLog } from '../echo/frame-log';
import { FAULT_HELP } from '../faults';
import { readFaultLines } from './fault-lines';
import { printLog } from './print-log';

const CMD = 'wss-studio proxy';

export const commands: Command[] = [
  {
    path: ['proxy'],
    summary:
      'front your dev server with trusted https:// and wss://, printing every request and frame',
    args: 'PUBLIC_URL TARGET_URL',
    options: {
      cert: {
        type: 'string',
        value: 'ID',
        help: 'certificate to serve (default: a valid one covering the name, else one is issued)',
      },
      host: { type: 'string', value: 'ADDR', help: 'address to listen on (default 127.0.0.1)' },
      'rewrite-host': {
        type: 'boolean',
        help: "send the target's own host:port as Host (default: the public Host is kept)",
      },
      'keep-redirects': {
        type: 'boolean',
        help: "do not rewrite redirects to the target's origin",
      },
      'insecure-target': {
        type: 'boolean',
        help: "https:// targets: do not verify the target's certificate",
      },
      json: { type: 'boolean', help: 'print JSON Lines: one object per event' },
    },
    details: [
      'Example: wss-studio proxy https://app.test:8443 http://localhost:5173',
      '         wss-studio proxy wss://localhost:9443 ws://localhost:3000',
      "The public name must be inside the CA's name constraints; a certificate covering it is picked or issued.",
      'A name that does not resolve prints the /etc/hosts line to add. Every HTTP request (method, path,',
      'status, time), every WebSocket frame of both legs and every fault is printed. While it runs, type:',
      FAULT_HELP,
      'With --json the first line is {"type":"listening",...}, then log events, and {"type":"stopped",...} last.',
    ].join('\n'),
    run: proxy,
  },
];

async function proxy(p: Parameters<Command['run']>[0], io: Io): Promise<number> {
  const json = bool(p, 'json');
  const [publicUrl, target, extra] = p.positionals;
  if (publicUrl === undefined || target === undefined) {
    throw inputError(
      'USAGE',
      `run ${q(CMD)}`,
      `missing ${publicUrl === undefined ? 'PUBLIC_URL' : 'TARGET_URL'}`,
      {
        field: publicUrl === undefined ? 'PUBLIC_URL' : 'TARGET_URL',
        hint: 'e.g. "wss-studio proxy https://app.test:8443 http://localhost:5173"',
      },
    );
  }
  if (extra !== undefined) {
    throw inputError('USAGE', `run ${q(CMD)}`, `unexpected argument ${q(extra)}`, {
      hint: 'give the public URL and the target URL, then options',
    });
  }
  const store = storeFor(io);
  const log = new FrameLog();
  const manager = new ProxyManager({ log, certs: storeCerts(store) });
  const cert = str(p, 'cert');
  const host = str(p, 'host');
  const say = (obj: Record<string, unknown>, text: string) =>
    io.out(json ? JSON.stringify(obj) : text);

  // One write per batch, bounded, skipped (counted) while stdout is backed up: as `serve` prints.
  const unsubscribe = printLog(log, io, json);
  let added;
  try {
    added = await manager.add({
      id: 'proxy',
      publicUrl,
      target,
      ...(cert ? { certId: cert } : {}),
      ...(host ? { bindHost: host } : {}),
      preserveHost: !bool(p, 'rewrite-host'),
      rewriteRedirects: !bool(p, 'keep-redirects'),
      targetVerify: !bool(p, 'insecure-target'),
      start: true,
    });
  } catch (e) {
    unsubscribe();
    await manager.stopAll();
    if (isWssError(e) && e.field) {
      // Name the CLI's own words for the fields.
      const field =
        { publicUrl: 'PUBLIC_URL', target: 'TARGET_URL', certId: '--cert', bindHost: '--host' }[
          e.field
        ] ?? e.field;
      throw inputError(e.code, e.data.action, e.data.cause, {
        field,
        ...(e.hint ? { hint: e.hint } : {}),
      });
    }
    throw e;
  }
  const s = added.proxy;
  say(
    {
      type: 'listening',
      proxyId: s.id,
      url: s.url,
      wsUrl: s.wsUrl,
      port: s.port,
      target: s.definition.target,
      ...(s.definition.certId ? { certId: s.definition.certId } : {}),
      ...(added.issuedCertId ? { issuedCertId: added.issuedCertId } : {}),
      ...(added.hostsLine ? { hostsLine: added.hostsLine } : {}),
      warnings: added.warnings,
    },
    [
      `proxy ${s.url} -> ${s.definition.target}  (WebSocket: ${s.wsUrl})`,
      s.definition.certId
        ? `certificate ${s.definition.certId}${added.issuedCertId ? ' (issued now)' : ''}`
        : '',
      added.hostsLine
        ? `"${publicHostOf(s.url ?? '')}" does not resolve here: add this line to /etc/hosts:\n  ${added.hostsLine}`
        : '',
      ...added.warnings.map((w) => `warning: ${w}`),
      'Type "help" for live faults (latency, drop, hold, close ...). Press Ctrl-C to stop.',
    ]
      .filter(Boolean)
      .join('\n'),
  );

  const stopLines = readFaultLines(io, () => {
    const server = manager.server('proxy');
    return server ? [{ id: 'proxy', target: server }] : [];
  });

  await io.interrupted;
  stopLines();
  await manager.stopAll();
  log.flush();
  unsubscribe();
  say(
    { type: 'stopped', events: log.total, dropped: log.dropped },
    `stopped after ${log.total} events`,
  );
  return 0;
}

function publicHostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}
