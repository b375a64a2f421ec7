// proxy.*, faults.* and conn.inject: the proxy engine (main/proxy) and the shared fault mechanism
// (main/faults) behind the contract. Proxies write into the echo servers' frame log, so the page load, the
// upgrade and the frames of both legs land in one timeline.
import type { ProxyDto } from '../../shared/api';
import { inputError } from '../../shared/errors';
import { sendableCloseCode, type FaultRegistry } from '../faults';
import { createProxyManager, type ProxyManager } from '../proxy';
import type { FrameLog } from '../echo/frame-log';
import { settingsProblems, skippedFailure } from '../store/settings';
import type { Handlers } from './dispatch';
import type { EngineDeps } from './deps';

type ProxyNames =
  | 'proxy.list'
  | 'proxy.add'
  | 'proxy.update'
  | 'proxy.remove'
  | 'proxy.start'
  | 'proxy.stop'
  | 'proxy.check'
  | 'faults.get'
  | 'faults.set'
  | 'faults.close'
  | 'conn.inject';

export interface ProxyPart {
  handlers: Pick<Handlers, ProxyNames>;
  /** Where echo servers register so faults and inject reach them too. */
  registry: FaultRegistry;
  startEnabled(): Promise<void>;
  /** settings.json problems of the proxies area. */
  problems(): string[];
  close(): Promise<void>;
}

export function proxyHandlers(d: EngineDeps, frameLog: () => FrameLog): ProxyPart {
  const registry = d.faults;
  let manager: ProxyManager | undefined;
  let closed = false;
  const m = (): ProxyManager => {
    if (!manager) {
      manager = createProxyManager(d.store, { log: frameLog(), faults: registry });
      manager.onStatus((proxies) => d.hub.emit('proxy.status', { proxies }));
    }
    return manager;
  };
  const dto = (p: ProxyDto): ProxyDto => p;
  const payload = (text: string | undefined, dataBase64: string | undefined) => {
    if (text !== undefined) return { data: Buffer.from(text, 'utf8'), binary: false };
    const data = Buffer.from(dataBase64 ?? '', 'base64');
    if (data.toString('base64').replace(/=+$/, '') !== (dataBase64 ?? '').replace(/=+$/, '')) {
      throw inputError('INVALID_INPUT', 'inject message', '"dataBase64" is not valid base64', {
        field: 'dataBase64',
        hint: 'encode the bytes with standard base64',
      });
    }
    return { data, binary: true };
  };

  return {
    registry,
    handlers: {
      'proxy.list': () => m().list().map(dto),
      'proxy.add': async (input) => {
        const r = await m().add(input);
        // A certificate issued on the spot shows up on the Certificates screen at once.
        if (r.issuedCertId) d.hub.emit('store.changed', { what: ['certs'] });
        return r;
      },
      'proxy.update': async ({ id, patch }) => dto(await m().update(id, patch)),
      'proxy.remove': async ({ id }) => {
        await m().remove(id);
        return { ok: true };
      },
      'proxy.start': async ({ id }) => dto(await m().start(id)),
      'proxy.stop': async ({ id }) => dto(await m().stop(id)),
      'proxy.check': ({ id }) => m().check(id),
      'faults.get': ({ serverId }) => {
        return registry.get(serverId, 'read faults').faults.settings;
      },
      'faults.set': ({ serverId, faults }) => {
        const now = registry.get(serverId, 'set faults').faults.set(faults);
        // A proxy's status carries its faults (the card shows them): push the change like any other,
        // so every window sees it without asking. (An echo server's status carries none.)
        const proxies = manager?.list();
        if (proxies?.some((p) => p.id === serverId)) d.hub.emit('proxy.status', { proxies });
        return now;
      },
      'faults.close': ({ serverId, conn, code, reason }) => {
        if (code !== undefined && !sendableCloseCode(code)) {
          throw inputError(
            'INVALID_INPUT',
            'close connections',
            `close code ${code} may not be sent on the wire`,
            {
              field: 'code',
              hint: 'use 1000-1003, 1007-1014 or 3000-4999 (1004-1006 and 1015 are reserved)',
            },
          );
        }
        const t = registry.get(serverId, 'close connections');
        return { closed: t.closeConnections(conn, code ?? 1000, reason ?? '') };
      },
      'conn.inject': ({ serverId, conn, to, text, dataBase64 }) => {
        const { data, binary } = payload(text, dataBase64);
        registry.get(serverId, 'inject message').inject(conn, to, data, binary);
        return { ok: true };
      },
    },
    problems: () => settingsProblems(() => m().problems),
    async startEnabled() {
      await m().startEnabled();
      const skipped = skippedFailure('proxy', m().problems);
      if (skipped) throw skipped;
    },
    async close() {
      if (closed) return;
      closed = true;
      await manager?.stopAll();
    },
  };
}
