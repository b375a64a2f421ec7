// Over 400 lines: every server's lifecycle (start, stop, restart, update, remove) and its persisted definition change together.
// Many echo servers, each started, stopped and restarted on its own, sharing one frame log. Definitions are
// persisted in the store's settings.json under the key `servers` (this area owns that key) and come back on
// the next start; servers whose `enabled` flag is set are started again by startEnabled().
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import type { LabReport } from '../../shared/api';
import { failure, inputError, isWssError, q } from '../../shared/errors';
import { EchoServer, type TlsMaterial } from './echo-server';
import { FrameLog, type FrameLogOptions } from './frame-log';
import { toHar, type Har } from './har';
import type { LabTarget } from './lab-page';
import type {
  LogEvent,
  ServerDefinition,
  ServerDefinitionInput,
  ServerStatus,
  ServerStatusEvent,
} from './types';
import { normalizeDefinition, StoredServerSchema } from './validation';
import { Behaviours } from './rules/registry';
import {
  certView,
  certWarnings,
  planUrl,
  urlHost,
  type CertView,
  type Lookup,
  type UrlPlan,
} from './urls';
import { FaultController, type FaultRegistry } from '../faults';
import {
  DefinitionManager,
  storedDefinitions,
  type ManagedEntry,
  type SettingsStore,
} from './definition-manager';

export type { SettingsStore } from './definition-manager';

export interface ServerManagerOptions {
  /** Where definitions persist. Omit for an in-memory manager (the `serve` CLI). */
  settings?: SettingsStore;
  /** Certificate + key (+ CA) for a leaf id; throws a WssError (e.g. CERT_NOT_FOUND) when it cannot. */
  resolveCert?: (certId: string) => TlsMaterial;
  /** Shared log; by default one is created with `logOptions`. */
  log?: FrameLog;
  logOptions?: FrameLogOptions;
  /** See EchoServerOptions.handshakeTimeoutMs (default 10 s). */
  handshakeTimeoutMs?: number;
  /** Folder of per-server rules files (`<id>.json`); omit to keep rules in memory (serve attaches files). */
  rulesDir?: string;
  /** Name resolution for choosing a server's URL (default: getaddrinfo, bounded). */
  lookup?: Lookup;
  /** Running servers register here so `faults.*` and `conn.inject` reach them (main/faults). */
  faults?: FaultRegistry;
  /**
   * Web mode: a path given over the page's API (clientCaFile) gets one error for missing, unreadable, not
   * a regular file and not a CA, so the page cannot probe which files exist on this machine.
   */
  discreetPaths?: boolean;
}

interface Entry extends ManagedEntry<ServerDefinition, EchoServer> {
  /** Last bound port: a restart of a port-0 server tries it first so clients can reconnect. */
  lastPort?: number;
  /** While running: the certificate served and the host its URL is shown under. */
  cert?: CertView;
  plan?: UrlPlan;
}

export class ServerManager extends DefinitionManager<
  ServerDefinition,
  EchoServer,
  Entry,
  ServerStatus,
  (e: ServerStatusEvent) => void
> {
  readonly log: FrameLog;
  /** Rules, scripts, pushes and replay of each server (main/echo/rules). */
  readonly behaviours: Behaviours;
  /** The latest results a lab page posted back (any server's). */
  private lastLab: LabReport | undefined;
  private readonly resolveCert: (certId: string) => TlsMaterial;
  private readonly handshakeTimeoutMs: number | undefined;
  private readonly lookup: Lookup | undefined;
  private readonly discreetPaths: boolean;
  private readonly countTimers = new Map<string, NodeJS.Timeout>();
  private readonly registry: FaultRegistry | undefined;

  constructor(opts: ServerManagerOptions = {}) {
    super({
      settings: opts.settings,
      key: 'servers',
      stored: storedDefinitions(StoredServerSchema, (entry) => normalizeDefinition(entry)),
      noun: {
        code: 'SERVER_NOT_FOUND',
        action: 'echo server',
        one: 'server',
        many: 'servers',
        withValue: true,
      },
    });
    this.log = opts.log ?? new FrameLog(opts.logOptions);
    this.behaviours = new Behaviours(
      this.log,
      (id) => this.entries.get(id)?.def.mode ?? 'echo',
      opts.rulesDir,
    );
    this.handshakeTimeoutMs = opts.handshakeTimeoutMs;
    this.lookup = opts.lookup;
    this.registry = opts.faults;
    this.discreetPaths = opts.discreetPaths === true;
    this.resolveCert =
      opts.resolveCert ??
      ((id) => {
        throw failure(
          'NO_CERT_SOURCE',
          `load certificate ${q(id)}`,
          'this server manager has no certificate store',
        );
      });
    for (const def of this.loadDefinitions()) {
      this.entries.set(def.id, { def, state: 'stopped', queue: Promise.resolve() });
    }
  }

  status(id: string): ServerStatus {
    const e = this.entry(id);
    const port = e.server?.port;
    const running = e.state === 'running' && port !== undefined;
    const h = urlHost(
      e.plan?.host ?? (e.def.host === '0.0.0.0' || e.def.host === '::' ? 'localhost' : e.def.host),
    );
    const warnings =
      running && e.cert && e.plan ? certWarnings(e.cert, e.plan.host, e.def.certId) : [];
    return {
      id,
      definition: {
        ...e.def,
        protocols: [...e.def.protocols],
        allowedOrigins: [...e.def.allowedOrigins],
      },
      state: e.state,
      ...(running ? { port } : {}),
      ...(running ? { url: `${e.def.scheme}://${h}:${port}${e.def.path}` } : {}),
      ...(running
        ? { labUrl: `${e.def.scheme === 'wss' ? 'https' : 'http'}://${h}:${port}/` }
        : {}),
      ...(running && e.plan?.hint ? { urlHint: e.plan.hint } : {}),
      ...(warnings.length ? { warnings } : {}),
      ...(running && e.cert ? { certFingerprint256: e.cert.fingerprint256 } : {}),
      connections: e.server?.connections ?? 0,
      ...(e.startedAt && running ? { startedAt: e.startedAt } : {}),
      ...(e.error ? { error: e.error.toJSON() } : {}),
    };
  }

  /** Add a definition (validated; persisted). Does not start it. */
  add(input: ServerDefinitionInput): ServerStatus {
    const def = normalizeDefinition(input);
    if (this.entries.has(def.id)) {
      throw inputError(
        'SERVER_EXISTS',
        `add echo server ${q(def.id)}`,
        `a server with id ${q(def.id)} already exists`,
        {
          field: 'id',
          value: def.id,
          hint: 'pick another id or update the existing server',
        },
      );
    }
    this.entries.set(def.id, { def, state: 'stopped', queue: Promise.resolve() });
    try {
      this.persist();
    } catch (err) {
      this.entries.delete(def.id);
      throw err;
    }
    this.emit(def.id);
    return this.status(def.id);
  }

  /** Change a definition; a running server is restarted with it (e.g. to swap its certificate). */
  update(id: string, patch: ServerDefinitionInput): Promise<ServerStatus> {
    const e = this.entry(id);
    if (patch.id !== undefined && patch.id !== id) {
      throw inputError(
        'INVALID_SERVER',
        `update echo server ${q(e.def.name)}`,
        'the id of a server cannot change',
        {
          field: 'id',
          value: patch.id,
          hint: 'remove the server and add a new one',
        },
      );
    }
    const def = normalizeDefinition(patch, e.def);
    return this.enqueue(e, async () => {
      await this.replace(e, def);
      return this.status(id);
    });
  }

  /** Stop (if running) and forget a server. */
  remove(id: string): Promise<void> {
    const e = this.entry(id);
    return this.enqueue(e, async () => {
      const last = await this.removeEntry(e, (k) => this.entries.delete(k));
      this.behaviours.drop(id);
      this.emit(id, last);
    });
  }

  /** Stop and start one server; other servers are untouched. */
  restart(id: string): Promise<ServerStatus> {
    const e = this.entry(id);
    return this.enqueue(e, async () => {
      await this.doStop(e);
      await this.doStart(e);
      this.setEnabled(e, true);
      return this.status(id);
    });
  }

  /** App shutdown: stop everything, keeping each server's enabled flag for the next start. */
  override async stopAll(): Promise<void> {
    await super.stopAll();
    this.behaviours.close();
    this.log.flush();
  }

  /** The newest `limit` events (default: all held), the dropped count and the capacity. */
  snapshot(limit?: number): {
    events: LogEvent[];
    dropped: number;
    received: number;
    capacity: number;
  } {
    const all = this.log.events();
    return {
      events: limit !== undefined && limit < all.length ? all.slice(all.length - limit) : all,
      ...this.logCounters(),
    };
  }

  /** The latest lab page results posted back, if any. */
  labReport(): LabReport | undefined {
    return this.lastLab;
  }

  /** Change how many events the frame log keeps (shrinking drops the oldest). */
  configureLog(capacity: number): { received: number; dropped: number; capacity: number } {
    this.log.resize(capacity);
    return this.logCounters();
  }

  /** The frame log's counters over one scope (since the last clear): received = held + dropped. */
  logCounters(): { received: number; dropped: number; capacity: number } {
    return {
      received: this.log.received,
      dropped: this.log.dropped,
      capacity: this.log.capacity,
    };
  }

  exportJsonLines(opts: { serverId?: string } = {}): string {
    return this.log.toJsonLines(opts);
  }

  exportHar(opts: { serverId?: string } = {}): Har {
    // A connection whose open event the ring overwrote still gets its server's real URL.
    return toHar(this.log.events(opts), (id) =>
      this.entries.has(id) ? this.status(id).url : undefined,
    );
  }

  // --- internals -------------------------------------------------------------------------------------------

  protected startAction(def: ServerDefinition): string {
    return `start echo server ${q(def.name)}`;
  }

  protected override stopping(e: Entry): void {
    this.behaviours.get(e.def.id).stopped();
  }

  protected async launch(e: Entry): Promise<void> {
    const def = e.def;
    let tls: TlsMaterial | undefined;
    if (def.scheme === 'wss') {
      if (!def.certId) {
        throw inputError(
          'CERT_REQUIRED',
          `start wss server ${q(def.name)}`,
          'no certificate chosen for this wss server',
          {
            field: 'certId',
            hint: 'pick one from "wss-studio cert list", or issue one with "wss-studio cert issue localhost 127.0.0.1 ::1"',
          },
        );
      }
      tls = this.resolveCert(def.certId);
      if (def.requireClientCert)
        tls = { ...tls, clientCaPem: clientCaFor(def, tls, this.discreetPaths) };
    }
    e.faults ??= new FaultController(def.id, this.log);
    if (this.registry) {
      const entry = e;
      this.registry.register(def.id, () =>
        this.entries.get(def.id) === entry ? entry.server : undefined,
      );
    }
    const server = new EchoServer({
      definition: def,
      log: this.log,
      faults: e.faults,
      ...(tls ? { tls } : {}),
      ...(this.handshakeTimeoutMs !== undefined
        ? { handshakeTimeoutMs: this.handshakeTimeoutMs }
        : {}),
      labTargets: () => this.labTargets(),
      onConnections: () => this.connectionsChanged(def.id),
      behaviour: this.behaviours.get(def.id),
      onLabReport: (r) => (this.lastLab = r),
    });
    let port: number;
    try {
      port = await server.start(def.port === 0 && e.lastPort ? e.lastPort : def.port);
    } catch (err) {
      // The previous free port was taken meanwhile: any free port will do.
      if (!(def.port === 0 && e.lastPort && isWssError(err) && err.code === 'PORT_IN_USE'))
        throw err;
      port = await server.start(0);
    }
    e.cert = tls ? certView(tls.certPem) : undefined;
    e.plan = await planUrl(def.host, e.cert, this.lookup);
    e.server = server;
    this.behaviours.get(def.id).started();
    e.lastPort = port;
  }

  private labTargets(): LabTarget[] {
    const out: LabTarget[] = [];
    for (const e of this.entries.values()) {
      const port = e.server?.port;
      if (e.state !== 'running' || port === undefined) continue;
      out.push({
        id: e.def.id,
        name: e.def.name,
        scheme: e.def.scheme,
        host: e.def.host,
        port,
        path: e.def.path,
      });
    }
    return out;
  }

  private connectionsChanged(id: string): void {
    if (this.countTimers.has(id) || this.listeners.size === 0) return;
    const t = setTimeout(() => {
      this.countTimers.delete(id);
      if (this.entries.has(id)) this.emit(id);
    }, 50);
    t.unref();
    this.countTimers.set(id, t);
  }

  protected emit(id: string, status?: ServerStatus): void {
    if (this.listeners.size === 0) return;
    const s = status ?? (this.entries.has(id) ? this.status(id) : undefined);
    if (!s) return;
    for (const fn of this.listeners) {
      try {
        fn({ type: 'server', status: s });
      } catch {
        // A failing listener must not break server control.
      }
    }
  }
}

/** The CA certificates a server that requires client certificates verifies them against. */
function clientCaFor(def: ServerDefinition, tls: TlsMaterial, discreet: boolean): string {
  const action = `start wss server ${q(def.id)} with client certificates`;
  if (discreet && def.clientCaFile) {
    try {
      return clientCaFor(def, tls, false);
    } catch {
      throw failure(
        'CLIENT_CA_INVALID',
        action,
        `client CA file ${q(def.clientCaFile)} is not a readable PEM file of CA certificates`,
        'check the file in a terminal (openssl x509 -in FILE -noout -subject), or start the server there with "wss-studio serve --require-client-cert --client-ca FILE" to see why',
      );
    }
  }
  if (!def.clientCaFile) {
    if (tls.caPem) return tls.caPem;
    throw failure(
      'CLIENT_CA_MISSING',
      action,
      'there is no WSS Studio CA to verify client certificates with',
      'create one with "wss-studio ca init", or give a CA file (clientCaFile / --client-ca FILE)',
    );
  }
  const file = def.clientCaFile;
  let text: string;
  try {
    // A regular file only: reading a FIFO or a device (/dev/zero) would block or never end.
    const st = fs.statSync(file);
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > 1024 * 1024) throw new Error('larger than 1 MiB');
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw failure(
      'CLIENT_CA_UNREADABLE',
      action,
      `cannot read client CA file ${q(file)}: ${(e as Error).message}`,
      'give the path of a readable PEM file of CA certificates',
    );
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const valid = blocks.filter((b) => {
    try {
      return new X509Certificate(b).ca;
    } catch {
      return false;
    }
  });
  if (valid.length === 0) {
    throw failure(
      'CLIENT_CA_INVALID',
      action,
      `client CA file ${q(file)} holds no CA certificate (${blocks.length} PEM certificate block(s) found)`,
      'give a PEM file with the CA certificate(s) that issued your client certificates',
    );
  }
  return valid.join('\n') + '\n';
}
