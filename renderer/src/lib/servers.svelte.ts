// State for the Servers screen: the add form, per-card option drafts and actions.
import type { ServerDto } from '../../../shared/api';
import { message, type WssErrorData } from '../../../shared/errors';
import { errorText } from './format';
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

/** Editable copy of one server's options. */
export class ServerDraft {
  name = $state('');
  port = $state(0);
  host = $state('127.0.0.1');
  path = $state('/');
  certId = $state<string>('');
  subprotocols = $state('');
  perMessageDeflate = $state(false);
  origins = $state('');
  maxPayload = $state(16 * 1024 * 1024);
  mode = $state<ServerDto['definition']['mode']>('echo');
  requireClientCert = $state(false);
  /** '' = the WSS Studio CA. */
  clientCaFile = $state('');

  constructor(server: ServerDto) {
    const s = server.definition;
    this.name = s.name;
    this.port = s.port;
    this.host = s.host;
    this.path = s.path;
    this.certId = s.certId ?? '';
    this.subprotocols = listText(s.protocols);
    this.perMessageDeflate = s.perMessageDeflate;
    this.origins = listText(s.allowedOrigins);
    this.maxPayload = s.maxPayload;
    this.mode = s.mode;
    this.requireClientCert = s.requireClientCert;
    this.clientCaFile = s.clientCaFile ?? '';
  }

  patch(scheme: 'ws' | 'wss') {
    return {
      name: this.name,
      port: Number(this.port) || 0,
      host: this.host || '127.0.0.1',
      path: this.path || '/',
      ...(scheme === 'wss' && this.certId ? { certId: this.certId } : {}),
      protocols: parseList(this.subprotocols),
      perMessageDeflate: this.perMessageDeflate,
      allowedOrigins: parseList(this.origins),
      maxPayload: Number(this.maxPayload) || 16 * 1024 * 1024,
      mode: this.mode,
      ...(scheme === 'wss'
        ? {
            requireClientCert: this.requireClientCert,
            clientCaFile:
              this.requireClientCert && this.clientCaFile.trim() ? this.clientCaFile.trim() : null,
          }
        : {}),
    };
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
  busy = $state(false);
  error = $state<UiError | null>(null);

  constructor(readonly studio: Studio) {}

  openWith(): void {
    this.open = true;
    this.error = null;
    const local = this.studio.leaves.find((l) => l.names.includes('localhost'));
    this.certId = local?.id ?? this.studio.leaves[0]?.id ?? '';
  }

  async submit(): Promise<ServerDto | null> {
    this.busy = true;
    this.error = null;
    try {
      const s = await this.studio.api.call('server.add', {
        ...(this.name.trim() ? { name: this.name.trim() } : {}),
        scheme: this.scheme,
        port: Number(this.port) || 0,
        ...(this.scheme === 'wss' && this.certId ? { certId: this.certId } : {}),
      });
      let started = s;
      if (this.start) {
        try {
          started = await this.studio.api.call('server.start', { id: s.id });
        } catch {
          // Added but not started (port taken, no certificate): its card shows the server's error.
        }
      }
      await this.studio.refreshServers();
      this.open = false;
      this.name = '';
      this.port = 0;
      return started;
    } catch (e) {
      this.error = errorText(e);
      return null;
    } finally {
      this.busy = false;
    }
  }
}
