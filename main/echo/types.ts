// Public types of the echo engine: the wire types of shared/servers.ts (declared once there), named for
// main/echo, plus the engine-only input and status-event shapes.
import type { ServerDefinitionDto, ServerDto } from '../../shared/servers';

export type {
  ClientCertInfo,
  CloseEventDto as CloseEvent,
  EchoMode,
  ErrorEventDto as ErrorEvent,
  FaultEventDto as FaultEvent,
  FrameEventDto as FrameEvent,
  HttpEventDto as HttpEvent,
  LogBatch,
  LogEventDto as LogEvent,
  Opcode,
  OpenEventDto as OpenEvent,
  Scheme,
  ServerDefinitionDto as ServerDefinition,
  ServerDto as ServerStatus,
  ServerState,
} from '../../shared/servers';

/**
 * What callers may pass to add/update: everything is optional and gets a default (an id is generated).
 * `certId: null` in an update removes the certificate.
 */
export type ServerDefinitionInput = Omit<
  Partial<ServerDefinitionDto>,
  'certId' | 'clientCaFile'
> & {
  certId?: string | null;
  clientCaFile?: string | null;
};

export interface ServerStatusEvent {
  type: 'server';
  status: ServerDto;
}
