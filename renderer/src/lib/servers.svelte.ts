// State for the Servers screen: the add form, per-card option drafts and actions. The server list itself
// is Studio's, kept fresh by the engine's server.status stream: nothing here reloads it after an action.
import { SERVER_DEFAULTS, type Input, type ServerDto } from '../../../shared/api';
import { message, type WssErrorData } from '../../../shared/errors';
import { CardAction } from './card.svelte';
import type { Studio, UiError } from './studio.svelte';

export function listText(xs: string[]): string {
  return xs.join(', ');
}
export function parseList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export function apiErrorText(e: WssErrorData | undefined): UiError | null {
  if (!e) return null;
  return { message: message(e), hint: e.hint, code: e.code };
}

type Definition = ServerDto['definition'];
/** What server.update takes: only the fields to change. */
export type ServerPatch = Input<'server.update'>['patch'];

const sameList = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Editable copy of one server's options. patch() holds only what the user changed, so a save never writes
 * back a value someone else changed meanwhile (the CLI, another window). An emptied field means the
 * engine's default (shared/servers.ts SERVER_DEFAULTS), as it does for a new server.
 */
export class ServerDraft {
  name = $state('');
  port = $state(0);
  host = $state('');
  path = $state('');
  subprotocols = $state('');
  perMessageDeflate = $state(false);
  origins = $state('');
  maxPayload = $state(0);
  mode = $state<Definition['mode']>(SERVER_DEFAULTS.mode);
  requireClientCert = $state(false);
  /** '' = the WSS Studio CA. */
  clientCaFile = $state('');
  readonly #was: Definition;

  constructor(server: ServerDto) {
    const s = (this.#was = server.definition);
    this.name = s.name;
    this.port = s.port;
    this.host = s.host;
    this.path = s.path;
    this.subprotocols = listText(s.protocols);
    this.perMessageDeflate = s.perMessageDeflate;
    this.origins = listText(s.allowedOrigins);
    this.maxPayload = s.maxPayload;
    this.mode = s.mode;
    this.requireClientCert = s.requireClientCert;
    this.clientCaFile = s.clientCaFile ?? '';
  }

  /** The fields whose value differs from the definition this draft was made from; {} = nothing to save. */
  patch(): ServerPatch {
    const was = this.#was;
    const p: ServerPatch = {};
    if (this.name !== was.name) p.name = this.name;
    const port = Number(this.port) || SERVER_DEFAULTS.port;
    if (port !== was.port) p.port = port;
    const host = this.host || SERVER_DEFAULTS.host;
    if (host !== was.host) p.host = host;
    const path = this.path || SERVER_DEFAULTS.path;
    if (path !== was.path) p.path = path;
    const protocols = parseList(this.subprotocols);
    if (!sameList(protocols, was.protocols)) p.protocols = protocols;
    if (this.perMessageDeflate !== was.perMessageDeflate)
      p.perMessageDeflate = this.perMessageDeflate;
    const origins = parseList(this.origins);
    if (!sameList(origins, was.allowedOrigins)) p.allowedOrigins = origins;
    const maxPayload = Number(this.maxPayload) || SERVER_DEFAULTS.maxPayload;
    if (maxPayload !== was.maxPayload) p.maxPayload = maxPayload;
    if (this.mode !== was.mode) p.mode = this.mode;
    if (was.scheme === 'wss') {
      if (this.requireClientCert !== was.requireClientCert)
        p.requireClientCert = this.requireClientCert;
      // The CA file only counts while a client certificate is required; null = the WSS Studio CA.
      const caFile = (this.requireClientCert && this.clientCaFile.trim()) || null;
      if (caFile !== (was.clientCaFile ?? null)) p.clientCaFile = caFile;
    }
    return p;
  }
}

export class AddServerForm {
  open = $state(false);
  name = $state('');
  scheme = $state<'ws' | 'wss'>('wss');
  port = $state(0);
  certId = $state('');
  /** Start the server right after adding it (the default: a stopped echo is rarely what one wants). */
  start = $state(true);
  /** The add in flight and its error, as the cards keep theirs. */
  readonly action = new CardAction();

  constructor(readonly studio: Studio) {}

  get busy(): boolean {
    return this.action.busy;
  }
  get error(): UiError | null {
    return this.action.error;
  }

  openWith(): void {
    this.open = true;
    this.action.error = null;
    const local = this.studio.leaves.find((l) => l.names.includes('localhost'));
    this.certId = local?.id ?? this.studio.leaves[0]?.id ?? '';
  }

  /** Add (and start) the server; null when the add failed (the form keeps the error and stays open). */
  async submit(): Promise<ServerDto | null> {
    let started: ServerDto | null = null;
    await this.action.run(async () => {
      started = await this.#addAndStart();
      // The list follows from the engine's server.status stream (the add and the start each push one).
      this.open = false;
      this.name = '';
      this.port = 0;
    });
    return started;
  }

  async #addAndStart(): Promise<ServerDto> {
    const s = await this.studio.api.call('server.add', {
      ...(this.name.trim() ? { name: this.name.trim() } : {}),
      scheme: this.scheme,
      port: Number(this.port) || 0,
      ...(this.scheme === 'wss' && this.certId ? { certId: this.certId } : {}),
    });
    if (!this.start) return s;
    try {
      return await this.studio.api.call('server.start', { id: s.id });
    } catch {
      // Added but not started (port taken, no certificate): its card shows the server's error.
      return s;
    }
  }
}
