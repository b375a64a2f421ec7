// server.* and log.*: the echo engine (main/echo) behind the contract. The manager is created on first use
// so a broken settings.json fails those requests with its path, not the whole app.
import type { ServerDto, Streams } from '../../shared/api';
import { createServerManager, type ServerManager } from '../echo';
import type { FrameLog } from '../echo/frame-log';
import { settingsProblems, skippedFailure } from '../store/settings';
import type { Handlers } from './dispatch';
import type { EngineDeps } from './deps';
import { exportDto } from './dto';

type EchoNames =
  | 'server.list'
  | 'server.add'
  | 'server.update'
  | 'server.remove'
  | 'server.start'
  | 'server.stop'
  | 'server.restart'
  | 'log.snapshot'
  | 'log.clear'
  | 'log.configure'
  | 'lab.results'
  | 'log.export';

export interface EchoPart {
  handlers: Pick<Handlers, EchoNames>;
  subscribeLog(cb: (b: Streams['log.batch']) => void): () => void;
  /** The shared frame log (proxies write into it too). */
  frameLog(): FrameLog;
  labUrls(): string[];
  /** The manager (created on first use): rules, pushes and replay work on it (handlers-behaviour.ts). */
  manager(): ServerManager;
  /** Every server with its status; [] when the definitions cannot be read. */
  servers(): ServerDto[];
  startEnabled(): Promise<void>;
  /** settings.json problems of the servers area (skipped entries, or why the area did not load). */
  problems(): string[];
  close(): Promise<void>;
}

/** Preview bytes per frame-log push to a window (see subscribeLog). */
export const UI_PUSH_BYTES = 64 * 1024;
/** Least ms between two frame-log pushes to a window (see subscribeLog). */
export const UI_PUSH_MS = 200;

export function echoHandlers(d: EngineDeps): EchoPart {
  let manager: ServerManager | undefined;
  let closed = false;
  const m = (): ServerManager => {
    if (!manager) {
      // Web mode: a client CA path typed into the page must not tell the page which files exist.
      manager = createServerManager(d.store, {
        faults: d.faults,
        ...(d.shell === 'web' ? { discreetPaths: true } : {}),
      });
      // Status changes are coalesced by the hub: one push of the whole list per ~50 ms.
      manager.onStatus(() => {
        if (manager) d.hub.emit('server.status', { servers: manager.list() });
      });
    }
    return manager;
  };
  return {
    handlers: {
      'server.list': () => m().list(),
      // certId null = no certificate: echo's normalizeDefinition drops the field.
      'server.add': (input) => m().add(input),
      'server.update': ({ id, patch }) => m().update(id, patch),
      'server.remove': async ({ id }) => {
        await m().remove(id);
        return { ok: true };
      },
      'server.start': ({ id }) => m().start(id),
      'server.stop': ({ id }) => m().stop(id),
      'server.restart': ({ id }) => m().restart(id),
      'log.snapshot': ({ limit }) => m().snapshot(limit),
      'log.clear': () => {
        m().log.clear();
        return { ok: true };
      },
      'log.configure': ({ capacity }) => m().configureLog(capacity),
      'lab.results': () => m().labReport() ?? null,
      'log.export': ({ format, serverId }) => {
        const opts = serverId ? { serverId } : {};
        const text =
          format === 'har'
            ? JSON.stringify(m().exportHar(opts), null, 2)
            : m().exportJsonLines(opts);
        return exportDto(
          {
            data: Buffer.from(text),
            suggestedName: `wss-studio-frames.${format}`,
            usage:
              format === 'har'
                ? ['Chrome DevTools > Network > Import HAR file: PATH']
                : ['jq . PATH', 'grep \'"type":"frame"\' PATH'],
          },
          true,
        );
      },
    },
    subscribeLog(cb) {
      // A window (Electron or a browser tab) parses and renders every event it is sent, on the same cores
      // as the servers, and each push costs it a fixed share besides (measured: 20 pushes/s of 64 KiB took
      // Chromium ~60 ms of CPU per second before any rendering). So a window gets at most one push per
      // UI_PUSH_MS, each the newest UI_PUSH_BYTES of previews (~300 1-KiB frames/s) or 2,500 events
      // (12,500 small frames/s); the rest is counted as missed, and the page reads the ring again once the
      // pushes calm down (renderer/src/lib/frame-log.svelte.ts). bench/shells.mjs measures the cost.
      return m().log.subscribe(
        (b) => cb({ events: b.events, missed: b.missed, dropped: b.dropped, received: b.received }),
        { maxBytes: UI_PUSH_BYTES, intervalMs: UI_PUSH_MS },
      );
    },
    frameLog: () => m().log,
    manager: m,
    labUrls: () => (manager ? manager.list().flatMap((s) => (s.labUrl ? [s.labUrl] : [])) : []),
    servers: () => {
      try {
        return m().list();
      } catch {
        return [];
      }
    },
    problems: () => settingsProblems(() => m().problems),
    async startEnabled() {
      const mgr = m();
      await mgr.startEnabled();
      // Skipped settings.json entries are said out loud (web mode prints this as a warning).
      const skipped = skippedFailure('echo server', mgr.problems);
      if (skipped) throw skipped;
    },
    async close() {
      if (closed) return;
      closed = true;
      await manager?.stopAll();
    },
  };
}
