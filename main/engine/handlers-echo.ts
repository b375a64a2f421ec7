// server.* and log.*: placeholder until main/echo/index.ts (ServerManager, FrameLog) lands.
import type { Streams } from '../../shared/api';
import { failure } from '../../shared/errors';
import type { Handlers } from './dispatch';
import type { EngineDeps } from './index';

type EchoNames =
  | 'server.list'
  | 'server.add'
  | 'server.update'
  | 'server.remove'
  | 'server.start'
  | 'server.stop'
  | 'log.snapshot'
  | 'log.clear'
  | 'log.export';

export interface EchoPart {
  handlers: Pick<Handlers, EchoNames>;
  subscribeLog(cb: (b: Streams['log.batch']) => void): () => void;
  labUrls(): string[];
  startEnabled(): Promise<void>;
  close(): Promise<void>;
}

export function echoHandlers(_d: EngineDeps): EchoPart {
  const notYet = () => {
    throw failure(
      'NOT_AVAILABLE',
      'manage echo servers',
      'the echo engine is not part of this build yet',
    );
  };
  return {
    handlers: {
      'server.list': () => [],
      'server.add': notYet,
      'server.update': notYet,
      'server.remove': notYet,
      'server.start': notYet,
      'server.stop': notYet,
      'log.snapshot': () => ({ events: [], dropped: 0, capacity: 0 }),
      'log.clear': () => ({ ok: true }),
      'log.export': notYet,
    },
    subscribeLog: () => () => {},
    labUrls: () => [],
    startEnabled: async () => {},
    close: async () => {},
  };
}
