// Over 400 lines: the 'front a server' task's checks run before anything is written, next to the add/update/remove they guard.
// Many proxies, each started and stopped on its own, sharing the echo servers' frame log. Definitions
// persist in settings.json under `proxies` (this area owns that key) and the enabled ones start with the app.
//
// add() is the "front a server" task shared by the UI and the CLI: every check runs before anything is
// written or started (public name inside the CA's constraints, target reachable and speaking what its scheme
// says, public port free), then a certificate covering the name is picked or issued, then the proxy is
// (optionally) started and only then saved; a failure there deletes the certificate it issued. A name that
// does not resolve here comes back with its /etc/hosts line.
import dns from 'node:dns/promises';
import net from 'node:net';
import * as v from 'valibot';
import { ProxyOptionsSchema } from '../../shared/api';
import { WssError, failure, inputError, isWssError, q } from '../../shared/errors';
import type { FrameLog } from '../echo/frame-log';
import { bindListener, type TlsMaterial } from '../echo/listen';
import { FaultController, type FaultRegistry } from '../faults';
import {
  DefinitionManager,
  storedDefinitions,
  type ManagedEntry,
  type SettingsStore,
} from '../echo/definition-manager';
import { ProxyServer } from './proxy-server';
import { probeTarget } from './target';
import type {
  ProxyAddResult,
  ProxyDefinition,
  ProxyInput,
  ProxyStatus,
  TargetHealth,
} from './types';
import { normalizeProxy, parsePublic, parseTarget } from './validation';

/** One entry of settings.json "proxies": the API's own proxy options plus the id and the enabled flag. */
const StoredProxySchema = v.strictObject({
  ...ProxyOptionsSchema.entries,
  id: v.string('must be a string (the proxy id)'),
  enabled: v.optional(v.boolean('must be true or false')),
});

export type { SettingsStore } from '../echo/definition-manager';

/** What the manager needs from the certificate store (main/proxy/index.ts binds it to main/pki). */
export interface CertSource {
  /** The CA's verdict on a public host name: a code, error and hint when it cannot be covered. */
  checkName(host: string): { code?: string; error?: string; hint?: string };
  /** A valid leaf of the current CA covering host, or null. */
  pick(host: string): string | null;
  /** Does this leaf cover host? (field certId) */
  covers(certId: string, host: string): boolean;
  issue(host: string): Promise<string>;
  /** Delete a certificate (one add() issued on the spot, when the add fails after all). */
  remove(certId: string): Promise<void>;
  material(certId: string): TlsMaterial;
  caPem(): string | undefined;
}

export interface ProxyManagerOptions {
  log: FrameLog;
  settings?: SettingsStore;
  certs?: CertSource;
  faults?: FaultRegistry;
  /** DNS lookup (tests pass a fake); default node's resolver. */
  lookup?: (host: string) => Promise<string[]>;
}

interface Entry extends ManagedEntry<ProxyDefinition, ProxyServer> {
  health: TargetHealth;
  faults: FaultController;
  unregister?: () => void;
}

const unknownHealth = (): TargetHealth => ({
  state: 'unknown',
  detail: 'not checked yet',
  checkedAt: new Date(0).toISOString(),
});

export class ProxyManager extends DefinitionManager<
  ProxyDefinition,
  ProxyServer,
  Entry,
  ProxyStatus,
  (list: ProxyStatus[]) => void
> {
  readonly log: FrameLog;
  private readonly certs: CertSource | undefined;
  private readonly registry: FaultRegistry | undefined;
  private readonly lookup: (host: string) => Promise<string[]>;
  private emitTimer: NodeJS.Timeout | undefined;

  constructor(opts: ProxyManagerOptions) {
    super({
      settings: opts.settings,
      key: 'proxies',
      stored: storedDefinitions(StoredProxySchema, (entry) => normalizeProxy(entry)),
      noun: {
        code: 'PROXY_NOT_FOUND',
        action: 'proxy',
        one: 'proxy',
        many: 'proxies',
        withValue: false,
      },
    });
    this.log = opts.log;
    this.certs = opts.certs;
    this.registry = opts.faults;
    this.lookup =
      opts.lookup ?? (async (h) => (await dns.lookup(h, { all: true })).map((a) => a.address));
    for (const def of this.loadDefinitions()) this.put(def);
  }

  status(id: string): ProxyStatus {
    const e = this.entry(id);
    const s = e.server;
    const running = e.state === 'running' && s?.port !== undefined;
    const url = running ? s.publicOrigin : undefined;
    return {
      id,
      definition: { ...e.def },
      state: e.state,
      ...(url ? { url, wsUrl: url.replace(/^http/, 'ws'), port: s?.port } : {}),
      connections: s?.connections ?? 0,
      requests: s?.requests ?? 0,
      health: { ...e.health },
      faults: e.faults.settings,
      ...(running && e.startedAt ? { startedAt: e.startedAt } : {}),
      ...(e.error ? { error: e.error.toJSON() } : {}),
    };
  }

  /**
   * Check everything, then pick or issue a certificate, start when `start` is set, and save. On any failure
   * nothing is written (a certificate issued here is deleted again) and nothing listens.
   */
  async add(input: ProxyInput & { start?: boolean }): Promise<ProxyAddResult> {
    const { start, ...rest } = input;
    const def = normalizeProxy(rest);
    if (this.entries.has(def.id)) {
      throw inputError(
        'PROXY_EXISTS',
        `add proxy ${q(def.id)}`,
        `a proxy with id ${q(def.id)} already exists`,
        {
          field: 'id',
          hint: 'pick another id or update the existing proxy',
        },
      );
    }
    const action = `front ${q(def.target)} at ${q(def.publicUrl)}`;
    const pub = parsePublic(def.publicUrl);
    const warnings: string[] = [];
    // 1. The public name against the CA's constraints (https only: http needs no certificate).
    this.checkPublic(def, action);
    // 2. The target: reachable and speaking what its scheme says.
    const health = await this.probe(def);
    if (health.state !== 'up') {
      throw inputError(
        health.state === 'refused'
          ? 'TARGET_REFUSED'
          : health.state === 'speaks-tls'
            ? 'TARGET_SPEAKS_TLS'
            : health.state === 'speaks-plain'
              ? 'TARGET_SPEAKS_PLAIN'
              : health.state === 'cert-untrusted'
                ? 'TARGET_CERT_UNTRUSTED'
                : 'TARGET_UNREACHABLE',
        action,
        `target ${q(def.target)}: ${health.detail}`,
        { field: 'target', value: def.target, ...(health.fix ? { hint: health.fix } : {}) },
      );
    }
    // 3. The public port must be free (checked before a certificate is issued).
    if (pub.port !== 0) await portFree(def.bindHost, pub.port, def);
    // 4. Name resolution: not an error, the hosts line to add.
    let hostsLine: string | undefined;
    if (net.isIP(pub.host) === 0) {
      const addrs = await this.lookup(pub.host).catch(() => [] as string[]);
      if (addrs.length === 0)
        hostsLine = `${def.bindHost === '::1' ? '::1' : '127.0.0.1'} ${pub.host}`;
      else if (
        !addrs.some((a) => a.startsWith('127.') || a === '::1') &&
        (def.bindHost.startsWith('127.') || def.bindHost === '::1')
      ) {
        warnings.push(
          `${pub.host} resolves to ${addrs.join(', ')}, but the proxy listens on ${def.bindHost}: map it to 127.0.0.1 in /etc/hosts`,
        );
      }
    }
    const loopbackBind =
      def.bindHost.startsWith('127.') || def.bindHost === '::1' || def.bindHost === 'localhost';
    if (
      net.isIP(pub.host) !== 0 &&
      !pub.host.startsWith('127.') &&
      pub.host !== '::1' &&
      loopbackBind
    ) {
      warnings.push(
        `the public address ${pub.host} is not loopback, but the proxy listens on ${def.bindHost}: other machines cannot reach it; set bindHost to ${pub.host} to listen there`,
      );
    }
    // 5. Certificate: the one given, a valid one covering the name, or a new one.
    let issuedCertId: string | undefined;
    if (pub.scheme === 'https' && !def.certId) {
      const certs = this.needCerts(action);
      const found = certs.pick(pub.host);
      if (found) def.certId = found;
      else def.certId = issuedCertId = await certs.issue(pub.host);
    }
    // 6. Start (when asked) before anything is saved, so a port taken meanwhile or a failed listen leaves
    // nothing behind: no definition in settings.json and no certificate issued just for this proxy.
    const e = this.put({ ...def, enabled: false });
    e.health = health;
    try {
      if (start) {
        await this.enqueue(e, () => this.doStart(e));
        e.def = { ...e.def, enabled: true };
      }
      this.persist();
    } catch (err) {
      await this.enqueue(e, () => this.doStop(e)).catch(() => undefined);
      this.drop(def.id);
      this.emit();
      const named = listenField(err, def);
      throw issuedCertId ? await this.unissue(issuedCertId, named) : named;
    }
    this.emit();
    return {
      proxy: this.status(def.id),
      ...(issuedCertId ? { issuedCertId } : {}),
      ...(hostsLine ? { hostsLine } : {}),
      warnings,
    };
  }

  update(id: string, patch: ProxyInput): Promise<ProxyStatus> {
    const e = this.entry(id);
    const def = normalizeProxy({ ...patch, id }, e.def);
    return this.enqueue(e, async () => {
      // A new name or certificate must still fit together (the target may be down while editing: not probed).
      if (def.publicUrl !== e.def.publicUrl || def.certId !== e.def.certId) {
        this.checkPublic(def, `update proxy ${q(id)}`);
      }
      await this.replace(e, def);
      return this.status(id);
    });
  }

  remove(id: string): Promise<void> {
    const e = this.entry(id);
    return this.enqueue(e, async () => {
      await this.removeEntry(e, (k) => this.drop(k));
      this.emit();
    });
  }

  /** Probe a proxy's target now and keep the verdict for the card. */
  async check(id: string): Promise<TargetHealth> {
    const e = this.entry(id);
    e.health = await this.probe(e.def);
    this.emit();
    return { ...e.health };
  }

  /** The running server of a proxy (faults, inject), or undefined. */
  server(id: string): ProxyServer | undefined {
    return this.entries.get(id)?.server;
  }

  // --- internals -------------------------------------------------------------------------------------------

  /** An https public name inside the CA's constraints, and covered by the chosen certificate. */
  private checkPublic(def: ProxyDefinition, action: string): void {
    const pub = parsePublic(def.publicUrl);
    if (pub.scheme !== 'https') return;
    const certs = this.needCerts(action);
    const v = certs.checkName(pub.host);
    if (v.error) {
      throw inputError(v.code ?? 'NAME_NOT_PERMITTED', action, v.error, {
        field: 'publicUrl',
        value: def.publicUrl,
        ...(v.hint ? { hint: v.hint } : {}),
      });
    }
    if (def.certId && !certs.covers(def.certId, pub.host)) {
      throw inputError(
        'CERT_MISMATCH',
        action,
        `certificate ${q(def.certId)} does not cover ${q(pub.host)}`,
        {
          field: 'certId',
          value: def.certId,
          hint: `leave the certificate out and one is issued, or issue one with "wss-studio cert issue ${pub.host}"`,
        },
      );
    }
  }

  /** Take back a certificate issued by a failed add(); if even that fails, the error says what is left. */
  private async unissue(certId: string, err: unknown): Promise<unknown> {
    try {
      await this.certs?.remove(certId);
      return err;
    } catch (e) {
      if (!isWssError(err)) return err;
      return new WssError({
        ...err.data,
        cause: `${err.data.cause}; the certificate ${q(certId)} issued for it is left in the store (${isWssError(e) ? e.data.cause : String(e)})`,
        hint: `${err.hint ? `${err.hint}; ` : ''}delete it with "wss-studio cert delete ${certId}"`,
        ...(err.value !== undefined ? { value: err.value } : {}),
      });
    }
  }

  private needCerts(action: string): CertSource {
    if (!this.certs)
      throw failure('NO_CERT_SOURCE', action, 'this proxy manager has no certificate store');
    return this.certs;
  }

  private probe(def: ProxyDefinition) {
    return probeTarget(parseTarget(def.target), def.target, {
      verify: def.targetVerify,
      ...(this.certs?.caPem() ? { ca: this.certs.caPem() } : {}),
    }).then(({ problem: _p, ...h }) => h);
  }

  private put(def: ProxyDefinition): Entry {
    const faults = new FaultController(def.id, this.log);
    const e: Entry = {
      def,
      state: 'stopped',
      health: unknownHealth(),
      faults,
      queue: Promise.resolve(),
    };
    this.entries.set(def.id, e);
    e.unregister = this.registry?.register(def.id, () => e.server);
    return e;
  }

  private drop(id: string): void {
    this.entries.get(id)?.unregister?.();
    this.entries.delete(id);
  }

  protected startAction(def: ProxyDefinition): string {
    return `start proxy ${q(def.id)}`;
  }

  // Health for the card, without holding up the start.
  protected override started(e: Entry): void {
    void this.check(e.def.id).catch(() => undefined);
  }

  protected async launch(e: Entry): Promise<void> {
    const def = e.def;
    const pub = parsePublic(def.publicUrl);
    let tls: TlsMaterial | undefined;
    if (pub.scheme === 'https') {
      if (!def.certId) {
        throw inputError(
          'CERT_REQUIRED',
          `start proxy ${q(def.id)}`,
          'no certificate chosen for this https proxy',
          {
            field: 'certId',
            hint: `issue one with "wss-studio cert issue ${pub.host}" and pick it`,
          },
        );
      }
      tls = this.needCerts(`start proxy ${q(def.id)}`).material(def.certId);
    }
    const caPem = this.certs?.caPem();
    const server = new ProxyServer({
      definition: def,
      log: this.log,
      faults: e.faults,
      ...(tls ? { tls } : {}),
      ...(caPem ? { targetCa: caPem } : {}),
      onChange: () => this.emit(),
      // Live health from real traffic: a state change is pushed (coalesced with the counts).
      onTarget: (p) => {
        const state = p ? p.state : 'up';
        if (e.health.state === state) return;
        e.health = p
          ? { state, detail: p.detail, fix: p.fix, checkedAt: new Date().toISOString() }
          : { state, detail: 'answered the last request', checkedAt: new Date().toISOString() };
        this.emit();
      },
    });
    await server.start();
    e.server = server;
  }

  /** Every change pushes the whole list, coalesced to one push per 50 ms (whichever proxy changed). */
  protected emit(_id?: string): void {
    if (this.listeners.size === 0 || this.emitTimer) return;
    this.emitTimer = setTimeout(() => {
      this.emitTimer = undefined;
      const list = this.list();
      for (const fn of this.listeners) {
        try {
          fn(list);
        } catch {
          // A failing listener must not break proxy control.
        }
      }
    }, 50);
    this.emitTimer.unref();
  }
}

/** Is host:port free to listen on? Throws PORT_IN_USE (field publicUrl) naming the port and the fix. */
async function portFree(host: string, port: number, def: ProxyDefinition): Promise<void> {
  const s = net.createServer();
  const scheme = def.publicUrl.startsWith('https') ? 'wss' : 'ws';
  await bindListener(s, { scheme, host, name: def.name }, port, () => undefined).catch((e) => {
    throw listenField(e, def);
  });
  await new Promise<void>((resolve) => s.close(() => resolve()));
}

/** A listen failure as an input error naming what to change: the public URL's port, or the bind address. */
function listenField(err: unknown, def: ProxyDefinition): unknown {
  if (!isWssError(err) || !/^(PORT_|HOST_)/.test(err.code)) return err;
  const host = err.code.startsWith('HOST_');
  return inputError(err.code, err.data.action, err.data.cause, {
    field: host ? 'bindHost' : 'publicUrl',
    value: host ? def.bindHost : def.publicUrl,
    ...(err.hint ? { hint: err.hint } : {}),
  });
}
