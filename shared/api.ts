// Over 400 lines: the one request table, its result types and its streams are read together as the contract.
// The one API contract between the engine and every shell.
//
// `requests` is the single table: request name -> valibot input schema (+ whether it is a long task).
// `Results` maps the same names to their result types, `Streams` names every event stream and its payload.
// Everything else is derived from these: the Electron ipcMain binding and preload (main/app/), the
// web-mode RPC (main/web/), the renderer's typed client (shared/client.ts) and the engine's handler table
// (main/engine/index.ts, whose `Handlers` type forces one handler per entry). Adding a capability = one entry here (schema +
// result type) + one engine function.
//
// Every value crossing the boundary is plain JSON: no Buffer, no Date, no class instances. Binary data
// travels as base64. Private keys never appear in a result except in an explicit export (`cert.export`).
import * as v from 'valibot';
import { PushSchema } from './rules';
import { isAbsolutePath, isHost, isOrigin, isPath, isToken, SERVER_LIMITS } from './validation';
import type { RulesFile, RulesProblem } from './rules';
import { q, type WssErrorData } from './errors';
import { DOCTOR_CLIENTS, type DoctorReport, type DoctorStep } from './doctor';
import type { LogBatch, LogEventDto, ServerDto, ServerState } from './servers';
import type { TrustStoreChange, TrustStoreStatus } from './trust';

// Wire types declared in their own shared/ files, re-exported so every shell imports the contract from here.
export * from './doctor';
export * from './servers';
export * from './trust';
export * from './tasks';

// ---------------------------------------------------------------------------------------------------------
// Bounds shared by the schemas. Every string and array is bounded, so a 10 MB string is a validation error
// that names the field, not something the engine has to survive.
export const LIMITS = {
  name: 253, // a DNS name is at most 253 characters
  names: 100,
  id: 128,
  text: 2048,
  url: 2048,
  password: 1024,
  path: 4096,
  list: 64,
} as const;

const str = (max: number) =>
  v.pipe(v.string('must be a string'), v.maxLength(max, `must be at most ${max} characters`));
const nonEmpty = (max: number) =>
  v.pipe(
    v.string('must be a string'),
    v.minLength(1, 'must not be empty'),
    v.maxLength(max, `must be at most ${max} characters`),
  );
const int = (min: number, max: number) =>
  v.pipe(
    v.number('must be a number'),
    v.integer('must be a whole number'),
    v.minValue(min, `must be from ${min} to ${max}`),
    v.maxValue(max, `must be from ${min} to ${max}`),
  );
const list = <T extends v.GenericSchema>(item: T, max: number = LIMITS.list) =>
  v.pipe(v.array(item), v.maxLength(max, `must have at most ${max} entries`));

/** Empty input for requests that take none (`{}`; `undefined` is accepted and normalised to `{}`). */
const none = v.optional(v.strictObject({}), {});

export const KeyTypeSchema = v.picklist(['rsa', 'ecdsa'], 'must be "rsa" or "ecdsa"');
export const CertFormatSchema = v.picklist(
  ['pem', 'key', 'fullchain', 'der', 'p12'],
  'must be one of "pem", "key", "fullchain", "der", "p12"',
);
export const TrustStoreIdSchema = v.picklist(
  ['system', 'nss', 'java', 'macos', 'windows'],
  'must be one of "system", "nss", "java", "macos", "windows"',
);
export const SchemeSchema = v.picklist(['ws', 'wss'], 'must be "ws" or "wss"');
export const EchoModeSchema = v.picklist(
  ['echo', 'broadcast', 'silent'],
  'must be "echo", "broadcast" or "silent"',
);

/** A client-chosen id for a long task, so progress events can be matched before the call returns. */
const taskId = v.optional(
  v.pipe(
    v.string(),
    v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, "-" or "_"'),
  ),
);

/** A string that `ok` accepts; `max` first, so an overlong value is reported as such (not as malformed). */
const rule = (ok: (x: unknown) => boolean, why: string) => v.check((s: string) => ok(s), why);
const checked = (max: number, ok: (x: unknown) => boolean, why: string) =>
  v.pipe(nonEmpty(max), rule(ok, why));

/**
 * Options of one echo server: the one set of rules for a server definition. server.add / server.update
 * check requests with it, and main/echo re-checks settings.json entries with it (StoredServerSchema); the
 * engine only fills defaults. All optional on input. Bounds: shared/validation.ts SERVER_LIMITS.
 */
export const ServerOptionsSchema = v.strictObject({
  name: v.optional(str(SERVER_LIMITS.name)),
  scheme: v.optional(SchemeSchema),
  host: v.optional(
    checked(LIMITS.name, isHost, 'must be an IP address or a host name, e.g. "127.0.0.1" or "::1"'),
  ),
  port: v.optional(int(0, 65535)),
  path: v.optional(
    v.pipe(
      str(SERVER_LIMITS.path),
      rule(isPath, 'must start with "/" and contain only URL path characters, e.g. "/echo"'),
    ),
  ),
  /** null clears the certificate (a ws server needs none). */
  certId: v.optional(v.nullable(nonEmpty(LIMITS.id))),
  protocols: v.optional(
    list(
      checked(
        SERVER_LIMITS.protocol,
        isToken,
        'must be a token such as "chat.v1" (no spaces or commas)',
      ),
      SERVER_LIMITS.protocols,
    ),
  ),
  perMessageDeflate: v.optional(v.boolean('must be true or false')),
  /** wss only: refuse (403, logged) any client without a certificate from clientCaFile / the WSS Studio CA. */
  requireClientCert: v.optional(v.boolean('must be true or false')),
  /** Absolute path of a PEM file of CA certificates for client certificates; null = the WSS Studio CA. */
  clientCaFile: v.optional(
    v.nullable(
      checked(
        SERVER_LIMITS.clientCaFile,
        isAbsolutePath,
        'must be the absolute path of a PEM file',
      ),
    ),
  ),
  allowedOrigins: v.optional(
    list(
      checked(SERVER_LIMITS.origin, isOrigin, 'must be an origin such as "https://app.test:8443"'),
      SERVER_LIMITS.origins,
    ),
  ),
  maxPayload: v.optional(int(1, 1024 * 1024 * 1024)),
  mode: v.optional(EchoModeSchema),
});

/** Faults on a proxy or an echo server (issue 12): all optional on input; omitted fields keep their value. */
export const FaultSettingsSchema = v.strictObject({
  /** Added to every message, both directions (ms). */
  latencyMs: v.optional(int(0, 60_000)),
  /** Plus a uniformly random 0..jitterMs per message (ms). */
  jitterMs: v.optional(int(0, 60_000)),
  /** Fraction (0..1) of client -> server/target messages dropped. */
  dropIn: v.optional(
    v.pipe(
      v.number('must be a number'),
      v.minValue(0, 'must be from 0 to 1'),
      v.maxValue(1, 'must be from 0 to 1'),
    ),
  ),
  /** Fraction (0..1) of server/target -> client messages dropped. */
  dropOut: v.optional(
    v.pipe(
      v.number('must be a number'),
      v.minValue(0, 'must be from 0 to 1'),
      v.maxValue(1, 'must be from 0 to 1'),
    ),
  ),
  /** Stop forwarding without closing (half-open); false releases what was held, in order. */
  hold: v.optional(v.boolean('must be true or false')),
  /** Answer new WebSocket upgrades with this HTTP status instead of accepting them; null accepts again. */
  refuseStatus: v.optional(v.nullable(int(400, 599))),
  /** Bytes per second per connection and direction; null = unlimited. */
  bandwidth: v.optional(v.nullable(int(64, 1024 * 1024 * 1024))),
});

/** A TLS front for the developer's own server (issue 12). */
export const ProxyOptionsSchema = v.strictObject({
  name: v.optional(str(80)),
  /** https://app.test:8443 (or http://, wss://, ws://): what the browser opens. */
  publicUrl: nonEmpty(LIMITS.url),
  /** http://localhost:5173, ws://localhost:3000, https://... : the developer's server. */
  target: nonEmpty(LIMITS.url),
  certId: v.optional(v.nullable(nonEmpty(LIMITS.id))),
  /** Address to listen on (default 127.0.0.1). */
  bindHost: v.optional(nonEmpty(LIMITS.name)),
  /** false: send the target's own host:port as Host instead of the public one. */
  preserveHost: v.optional(v.boolean('must be true or false')),
  /** Rewrite redirects to the target's origin into the public origin (default true). */
  rewriteRedirects: v.optional(v.boolean('must be true or false')),
  /** https:// targets: verify their certificate (system roots + our CA; default true). */
  targetVerify: v.optional(v.boolean('must be true or false')),
});

// ---------------------------------------------------------------------------------------------------------
// The request table.

interface RequestDef<S extends v.GenericSchema = v.GenericSchema> {
  input: S;
  /** Long task: accepts `taskId`, emits `task.progress`, may be cancelled with `task.cancel`. */
  task?: boolean;
  /** One line for docs and error messages. */
  summary: string;
}
const def = <S extends v.GenericSchema>(
  input: S,
  summary: string,
  task = false,
): RequestDef<S> => ({
  input,
  summary,
  task,
});

export const requests = {
  // app / shell
  'app.info': def(none, 'version, state folder and which shell is running'),
  'app.openExternal': def(
    v.strictObject({ url: nonEmpty(LIMITS.url) }),
    'open an allow-listed https documentation link in the default browser',
  ),
  'app.copy': def(
    v.strictObject({ text: str(1024 * 1024) }),
    'copy text to the clipboard (desktop app; web mode answers copied:false, the page copies itself)',
  ),
  'app.saveFile': def(
    v.strictObject({
      suggestedName: nonEmpty(255),
      dataBase64: str(64 * 1024 * 1024),
    }),
    'save bytes through the native save dialog (desktop app; web mode answers saved:false: download in the page)',
  ),

  // CA
  'ca.get': def(none, 'the CA, or null when there is none yet'),
  'ca.create': def(
    v.strictObject({
      keyType: v.optional(KeyTypeSchema),
      constrained: v.optional(v.boolean('must be true or false')),
      permitted: v.optional(list(nonEmpty(LIMITS.name), LIMITS.names)),
      force: v.optional(v.boolean('must be true or false')),
      taskId,
    }),
    'create the local CA (RSA generation takes a few seconds: progress events)',
    true,
  ),
  'ca.importMkcert': def(
    v.strictObject({
      caroot: v.optional(nonEmpty(LIMITS.path)),
      force: v.optional(v.boolean('must be true or false')),
    }),
    'import the CA of an existing mkcert CAROOT',
  ),
  'ca.export': def(
    v.strictObject({ format: v.picklist(['pem', 'der'], 'must be "pem" or "der"') }),
    'export the CA certificate (never its key)',
  ),

  // certificates
  'names.check': def(
    v.strictObject({ names: list(str(LIMITS.name), LIMITS.names) }),
    'per-name verdict for live validation (pure, never fails on a bad name)',
  ),
  'cert.list': def(none, 'every issued certificate'),
  /** Separate from cert.list so its LeafDto[] result keeps its shape for every existing caller. */
  'cert.damaged': def(
    none,
    'certificate folders that cannot be read (path and what is wrong); cert.list leaves them out',
  ),
  'cert.get': def(v.strictObject({ id: nonEmpty(LIMITS.id) }), 'one certificate with its PEM'),
  'cert.issue': def(
    v.strictObject({
      names: v.pipe(
        list(nonEmpty(LIMITS.name), LIMITS.names),
        v.minLength(1, 'must name at least one host, IP or email'),
      ),
      keyType: v.optional(KeyTypeSchema),
      client: v.optional(v.boolean('must be true or false')),
      days: v.optional(int(1, 825)),
    }),
    'issue a leaf certificate',
  ),
  'cert.renew': def(
    v.strictObject({ id: nonEmpty(LIMITS.id) }),
    'renew a certificate (same names)',
  ),
  'cert.delete': def(v.strictObject({ id: nonEmpty(LIMITS.id) }), 'delete a certificate'),
  'cert.export': def(
    v.strictObject({
      id: nonEmpty(LIMITS.id),
      format: CertFormatSchema,
      password: v.optional(str(LIMITS.password)),
      legacy: v.optional(v.boolean('must be true or false')),
      /** Where the caller saves it (the CLI's --out): recorded so a renewal names the stale files. */
      file: v.optional(
        checked(LIMITS.path, isAbsolutePath, 'must be the absolute path the export is saved to'),
      ),
    }),
    'export a certificate (the only way a private key leaves the engine)',
  ),

  // trust
  'trust.status': def(
    /** `stores`: measure only these (the CLI's --stores); the trust.status stream is then left alone. */
    v.optional(v.strictObject({ stores: v.optional(list(TrustStoreIdSchema, 8)) }), {}),
    'measured trust status of the CA in every detected store (or the stores named)',
  ),
  'trust.install': def(
    v.strictObject({ stores: v.optional(list(TrustStoreIdSchema, 8)), taskId }),
    'install the CA into trust stores',
    true,
  ),
  'trust.uninstall': def(
    v.strictObject({
      stores: v.optional(list(TrustStoreIdSchema, 8)),
      /**
       * Which CAs: the current one (default), the ones it replaced that this install trusted, or all of
       * them. Each is matched by its certificate bytes.
       */
      scope: v.optional(
        v.picklist(['current', 'replaced', 'all'], 'must be "current", "replaced" or "all"'),
      ),
      taskId,
    }),
    'remove the CA (scope "replaced"/"all": also every replaced WSS Studio CA) from trust stores',
    true,
  ),
  'trust.replaced': def(
    v.optional(v.strictObject({ stores: v.optional(list(TrustStoreIdSchema, 8)) }), {}),
    'replaced WSS Studio CAs that a detected store (or one named in stores) still trusts (remove: trust.uninstall scope "replaced")',
  ),

  // echo servers
  'server.list': def(none, 'every server definition with its live status'),
  'server.add': def(ServerOptionsSchema, 'add a server definition (stopped)'),
  'server.update': def(
    v.strictObject({ id: nonEmpty(LIMITS.id), patch: ServerOptionsSchema }),
    'change a server definition (restarts it when running)',
  ),
  'server.remove': def(v.strictObject({ id: nonEmpty(LIMITS.id) }), 'stop and remove a server'),
  'server.start': def(v.strictObject({ id: nonEmpty(LIMITS.id) }), 'start a server'),
  'server.stop': def(v.strictObject({ id: nonEmpty(LIMITS.id) }), 'stop a server'),
  'server.restart': def(
    v.strictObject({ id: nonEmpty(LIMITS.id) }),
    'stop and start a server (e.g. to serve its renewed certificate)',
  ),
  'settings.problems': def(
    none,
    'what is wrong in settings.json: skipped server/proxy entries (path, index, field), or the whole file',
  ),

  // frame log
  'log.snapshot': def(
    v.strictObject({ limit: v.optional(int(1, 100_000)) }),
    'the newest events in the frame log (then follow `log.batch`)',
  ),
  'log.clear': def(none, 'clear the frame log'),
  'lab.results': def(none, 'the latest results a lab page posted back (null before any)'),
  'log.configure': def(
    v.strictObject({ capacity: int(100, 1_000_000) }),
    'change how many events the frame log keeps (shrinking drops the oldest)',
  ),
  'log.export': def(
    v.strictObject({
      format: v.picklist(['jsonl', 'har'], 'must be "jsonl" or "har"'),
      serverId: v.optional(nonEmpty(LIMITS.id)),
    }),
    'export the frame log (all servers or one) as JSON Lines or HAR',
  ),

  // doctor
  'doctor.run': def(
    v.strictObject({
      url: nonEmpty(LIMITS.url),
      origin: v.optional(nonEmpty(LIMITS.url)),
      /** Judge only these client families (the CLI's --client); default: every family found. */
      clients: v.optional(
        list(
          v.picklist(DOCTOR_CLIENTS, `must be one of ${DOCTOR_CLIENTS.join(', ')}`),
          DOCTOR_CLIENTS.length,
        ),
      ),
      /** Subprotocols to offer in the upgrade (the CLI's --protocol). */
      protocols: v.optional(list(nonEmpty(LIMITS.text))),
      /** Timeout of each network step in ms (the CLI's --timeout); default 5000. */
      timeoutMs: v.optional(int(1, 120_000)),
      /** Judge trust against this CA PEM file instead of the WSS Studio CA (the CLI's --ca). */
      caFile: v.optional(
        checked(LIMITS.path, isAbsolutePath, 'must be the absolute path of a PEM file'),
      ),
      taskId,
    }),
    'diagnose a ws:// or wss:// URL step by step (progress events; cancellable); fixes name CLI flags for shell "cli", the app\'s buttons otherwise',
    true,
  ),

  // engine-side WebSocket client (can send pings and any close code, which the browser's WebSocket cannot)
  'client.connect': def(
    v.strictObject({
      url: nonEmpty(LIMITS.url),
      protocols: v.optional(list(nonEmpty(LIMITS.text), 16)),
      /** "ours" (default): the system roots plus the WSS Studio CA; "system": the system roots only. */
      caTrust: v.optional(v.picklist(['ours', 'system'], 'must be "ours" or "system"')),
      /** Present this stored certificate (issued with client auth) to servers that ask for one (mTLS). */
      clientCertId: v.optional(nonEmpty(LIMITS.id)),
    }),
    'open a WebSocket from the engine (events on client.events)',
  ),
  'client.send': def(
    v.pipe(
      v.strictObject({
        clientId: nonEmpty(LIMITS.id),
        text: v.optional(str(16 * 1024 * 1024)),
        dataBase64: v.optional(str(24 * 1024 * 1024)),
      }),
      v.check(
        (i) => (i.text === undefined) !== (i.dataBase64 === undefined),
        'give exactly one of text or dataBase64',
      ),
    ),
    'send a text or binary message on an engine client',
  ),
  'client.ping': def(
    v.strictObject({ clientId: nonEmpty(LIMITS.id), dataBase64: v.optional(str(168)) }),
    'send a ping (payload at most 125 bytes)',
  ),
  'client.close': def(
    v.strictObject({
      clientId: nonEmpty(LIMITS.id),
      code: v.optional(int(1000, 4999)),
      reason: v.optional(str(123)),
    }),
    'close an engine client with a code and reason',
  ),

  // TLS front for the developer's own server (issue 12)
  'proxy.list': def(none, 'every proxy definition with its live status'),
  'proxy.add': def(
    v.strictObject({
      ...ProxyOptionsSchema.entries,
      start: v.optional(v.boolean('must be true or false')),
    }),
    'check the names, the target and the port, pick or issue a certificate, save the proxy (and start it)',
  ),
  'proxy.update': def(
    v.strictObject({ id: nonEmpty(LIMITS.id), patch: v.partial(ProxyOptionsSchema) }),
    'change a proxy definition (restarts it when running)',
  ),
  'proxy.remove': def(v.strictObject({ id: nonEmpty(LIMITS.id) }), 'stop and remove a proxy'),
  'proxy.start': def(v.strictObject({ id: nonEmpty(LIMITS.id) }), 'start a proxy'),
  'proxy.stop': def(v.strictObject({ id: nonEmpty(LIMITS.id) }), 'stop a proxy'),
  'proxy.check': def(
    v.strictObject({ id: nonEmpty(LIMITS.id) }),
    "probe a proxy's target now (up, refused, TLS mismatch)",
  ),

  // faults and inject, shared by proxies and echo servers (issue 12)
  'faults.get': def(
    v.strictObject({ serverId: nonEmpty(LIMITS.id) }),
    'current faults of a proxy or echo server',
  ),
  'faults.set': def(
    v.strictObject({ serverId: nonEmpty(LIMITS.id), faults: FaultSettingsSchema }),
    'change faults live (latency, drops, hold/release, refuse upgrades, throttle)',
  ),
  'faults.close': def(
    v.strictObject({
      serverId: nonEmpty(LIMITS.id),
      /** One connection; omitted: all of them. */
      conn: v.optional(int(1, Number.MAX_SAFE_INTEGER)),
      code: v.optional(int(1000, 4999)),
      reason: v.optional(str(123)),
    }),
    'close one or all connections with a chosen code and reason',
  ),
  'conn.inject': def(
    v.pipe(
      v.strictObject({
        serverId: nonEmpty(LIMITS.id),
        conn: int(1, Number.MAX_SAFE_INTEGER),
        /** client: as if the server/target sent it; target: as if the client sent it (proxies only). */
        to: v.picklist(['client', 'target'], 'must be "client" or "target"'),
        text: v.optional(str(16 * 1024 * 1024)),
        dataBase64: v.optional(str(24 * 1024 * 1024)),
      }),
      v.check(
        (i) => (i.text === undefined) !== (i.dataBase64 === undefined),
        'give exactly one of text or dataBase64',
      ),
    ),
    'send a message into a live connection (logged as injected)',
  ),

  // server behaviour (issue 13): rules, pushes, manual push, replay. `serverId` is an id or a unique name.
  'rules.get': def(
    v.strictObject({ serverId: nonEmpty(LIMITS.id) }),
    "a server's rules, their file and the last load error",
  ),
  'rules.set': def(
    v.strictObject({
      serverId: nonEmpty(LIMITS.id),
      /** Checked by shared/rules.ts checkRules (every problem with its path), not by a shape here. */
      rules: v.unknown(),
    }),
    "replace a server's rules (validated; written to its rules file)",
  ),
  'rules.try': def(
    v.pipe(
      v.strictObject({
        serverId: nonEmpty(LIMITS.id),
        /** Try against this draft instead of the rules in force. */
        rules: v.optional(v.unknown()),
        text: v.optional(str(1024 * 1024)),
        dataBase64: v.optional(str(1024 * 1024)),
        path: v.optional(str(LIMITS.text)),
        query: v.optional(v.record(str(256), str(LIMITS.text))),
        headers: v.optional(v.record(str(256), str(LIMITS.text))),
        protocol: v.optional(str(256)),
        connection: v.optional(int(1, 1_000_000_000)),
        messageNumber: v.optional(int(1, 1_000_000_000)),
      }),
      v.check(
        (i) => (i.text === undefined) !== (i.dataBase64 === undefined),
        'give exactly one of text or dataBase64',
      ),
    ),
    'which rule a message would match and what it would send (nothing is sent)',
  ),
  'push.send': def(
    v.pipe(
      v.strictObject({
        serverId: nonEmpty(LIMITS.id),
        /** A connection number from the frame log; missing: every open connection. */
        conn: v.optional(int(1, Number.MAX_SAFE_INTEGER)),
        text: v.optional(str(16 * 1024 * 1024)),
        dataBase64: v.optional(str(24 * 1024 * 1024)),
      }),
      v.check(
        (i) => (i.text === undefined) !== (i.dataBase64 === undefined),
        'give exactly one of text or dataBase64',
      ),
    ),
    'send a message now to one connection or all (logged as injected)',
  ),
  'push.start': def(
    v.pipe(
      v.strictObject({
        serverId: nonEmpty(LIMITS.id),
        /** A push defined in the server's rules ... */
        pushId: v.optional(nonEmpty(64)),
        /** ... or one defined now. */
        push: v.optional(PushSchema),
      }),
      v.check(
        (i) => (i.pushId === undefined) !== (i.push === undefined),
        'give exactly one of pushId or push',
      ),
    ),
    'start a periodic push',
  ),
  'push.stop': def(
    v.strictObject({ serverId: nonEmpty(LIMITS.id), pushId: nonEmpty(64) }),
    'stop a periodic push',
  ),
  'push.list': def(
    v.strictObject({ serverId: nonEmpty(LIMITS.id) }),
    "a server's pushes (defined and running) with their counts",
  ),
  'replay.start': def(
    v.pipe(
      v.strictObject({
        serverId: nonEmpty(LIMITS.id),
        /** The connection to play to. */
        conn: int(1, Number.MAX_SAFE_INTEGER),
        /** A HAR (with _webSocketMessages, e.g. from Chrome DevTools) or our JSON Lines export ... */
        recording: v.optional(str(32 * 1024 * 1024)),
        format: v.optional(v.picklist(['har', 'jsonl'], 'must be "har" or "jsonl"')),
        /** Which session of the recording (HAR entry / connection), default the first with server messages. */
        session: v.optional(int(0, 100_000)),
        /** ... or a selection of the live frame log: these sequence numbers of this connection. */
        fromSeq: v.optional(int(1, Number.MAX_SAFE_INTEGER)),
        toSeq: v.optional(int(1, Number.MAX_SAFE_INTEGER)),
        logConn: v.optional(int(1, Number.MAX_SAFE_INTEGER)),
        /** 2 = twice as fast; default 1 (original timing). */
        speed: v.optional(
          v.pipe(
            v.number('must be a number'),
            v.minValue(0.01, 'must be from 0.01 to 1000'),
            v.maxValue(1000, 'must be from 0.01 to 1000'),
          ),
        ),
        waitForClient: v.optional(v.boolean('must be true or false')),
      }),
      v.check(
        (i) => (i.recording !== undefined) !== (i.logConn !== undefined),
        'give either recording (HAR or JSON Lines text) or logConn (with fromSeq/toSeq) from the frame log',
      ),
    ),
    'play a recorded session to a connection',
  ),

  // workflows: several requests as one long task, shared by the UI and the CLI
  'setup.localhost': def(
    v.strictObject({
      /** The trust stores the flow may touch; default: the platform's (app.info setupStores). */
      stores: v.optional(list(TrustStoreIdSchema, 8)),
      /** For a new CA only: an existing CA is reused. */
      keyType: v.optional(KeyTypeSchema),
      constrained: v.optional(v.boolean('must be true or false')),
      /** Also start a wss:// echo server with the certificate (default true; the CLI passes false). */
      server: v.optional(v.boolean('must be true or false')),
      taskId,
    }),
    'make localhost trusted: CA (if missing), trust, a localhost certificate (reused while valid), a wss:// echo server (progress events; cancellable)',
    true,
  ),

  // long tasks
  'task.cancel': def(
    v.strictObject({ taskId: nonEmpty(64) }),
    'cancel a running long task (doctor; CA creation before it is written)',
  ),
} satisfies Record<string, RequestDef>;

export type RequestName = keyof typeof requests;
export const requestNames = Object.keys(requests) as RequestName[];
/** What the caller passes (optional fields may be left out). */
export type Input<K extends RequestName> = v.InferInput<(typeof requests)[K]['input']>;
/** What a handler receives after validation. */
export type ParsedInput<K extends RequestName> = v.InferOutput<(typeof requests)[K]['input']>;

// ---------------------------------------------------------------------------------------------------------
// Result types (plain JSON).

export type KeyType = 'rsa' | 'ecdsa';
export type CertFormat = v.InferOutput<typeof CertFormatSchema>;
export type TrustStoreId = v.InferOutput<typeof TrustStoreIdSchema>;

export interface AppInfo {
  version: string;
  /** The trust stores setup.localhost touches by default on this platform (the engine's choice). */
  setupStores: TrustStoreId[];
  /** The state folder ($WSS_STUDIO_HOME). */
  home: string;
  shell: 'electron' | 'web';
  platform: string;
  /** Desktop app: app.copy / app.saveFile / confirmations are native. Web mode: do them in the page. */
  native: boolean;
  /** https links app.openExternal accepts (prefixes). */
  externalLinks: string[];
}

export interface CaDto {
  fingerprint256: string;
  serialHex: string;
  subject: string;
  commonName: string;
  notBefore: string;
  notAfter: string;
  keyType: KeyType;
  constrained: boolean;
  permitted: string[];
  source: 'created' | 'mkcert';
  certPem: string;
  certPath: string;
  /** Set when the CA can issue for public sites (unconstrained or an effectively global permit list). */
  warning?: string;
}

export interface LeafDto {
  id: string;
  names: string[];
  commonName: string;
  keyType: KeyType;
  client: boolean;
  notBefore: string;
  notAfter: string;
  serialHex: string;
  fingerprint256: string;
  certPem: string;
  caFingerprint256: string;
  certPath: string;
  /** Where the key is on disk (the key itself only leaves through cert.export). */
  keyPath: string;
  /** Issuer distinguished name as read from the certificate ("CN=WSS Studio CA ..."). */
  issuer: string;
  /** Key usage bits read from the certificate: "digitalSignature", "keyEncipherment" ... */
  keyUsage: string[];
  /** Extended key usages read from the certificate: "serverAuth", "clientAuth" (or the OID). */
  extKeyUsage: string[];
}

/** What a renewal leaves behind: servers still serving the old certificate, files exported from it. */
export interface RenewalNotes {
  /** Servers defined with this certificate; `running` ones serve the old one until restarted. */
  servers: { id: string; name: string; running: boolean }[];
  /** Exports made from the certificate before this renewal (`file`: path written, or the suggested name). */
  staleExports: { format: CertFormat; file: string; at: string }[];
}

/** A certificate folder that cannot be read (corrupt or missing file): delete it with cert.delete {id}. */
export interface DamagedLeafDto {
  id: string;
  /** The certificate's folder. */
  path: string;
  /** What is wrong, naming the file ("meta.json missing", "\"names\" must be an array of names"). */
  problem: string;
}

export interface NameVerdict {
  input: string;
  normalized?: string;
  kind?: 'dns' | 'wildcard' | 'ip' | 'email' | 'uri';
  /** Set exactly when `error` is: branch on it, not on the sentence. */
  code?: 'INVALID_NAME' | 'NAME_NOT_PERMITTED';
  error?: string;
  hint?: string;
  warning?: string;
}

export interface ExportDto {
  /** The bytes, base64. Text formats are UTF-8. */
  dataBase64: string;
  /** True for pem/key/fullchain/jsonl/har: `text` holds the same content decoded. */
  text?: string;
  suggestedName: string;
  /** Copy-ready commands (wscat, curl, node, openssl ...); PATH stands for where the file is saved. */
  usage: string[];
  /** PKCS#12 exported without a password given: the default password that was used ("changeit"). */
  password?: string;
}

/** A CA this install trusted before it was replaced, and the stores that still trust it. */
export interface ReplacedCaDto {
  commonName: string;
  fingerprint256: string;
  trustedBy: TrustStoreId[];
}

export interface TrustResult {
  stores: TrustStoreChange[];
  /**
   * Stores that need root. Desktop app: already run through the OS prompt (pkexec), `ran` true.
   * Web mode: show `sudo` for the user to paste into a terminal.
   */
  privileged?: {
    store: TrustStoreId;
    sudo: string;
    ran: boolean;
    ok?: boolean;
    message?: string;
  }[];
}

/** Faults in force on a proxy or an echo server (main/faults applies them). */
export interface FaultSettings {
  latencyMs: number;
  jitterMs: number;
  dropIn: number;
  dropOut: number;
  hold: boolean;
  refuseStatus: number | null;
  bandwidth: number | null;
}

/** No fault in force: what faults.set with these values restores. */
export const NO_FAULTS: Readonly<FaultSettings> = Object.freeze({
  latencyMs: 0,
  jitterMs: 0,
  dropIn: 0,
  dropOut: 0,
  hold: false,
  refuseStatus: null,
  bandwidth: null,
});

/** One proxy as the user defined it (main/proxy names it ProxyDefinition). */
export interface ProxyDefinitionDto {
  id: string;
  name: string;
  publicUrl: string;
  target: string;
  bindHost: string;
  certId?: string;
  preserveHost: boolean;
  rewriteRedirects: boolean;
  targetVerify: boolean;
  enabled: boolean;
}

/** What a proxy definition holds for each option the user leaves out (main/proxy fills these). */
export const PROXY_DEFAULTS = Object.freeze({
  /** Loopback only unless the user picks another address. */
  bindHost: '127.0.0.1',
  preserveHost: true,
  rewriteRedirects: true,
  targetVerify: true,
  enabled: false,
} satisfies Partial<ProxyDefinitionDto>);

export type TargetHealthState =
  'unknown' | 'up' | 'refused' | 'speaks-tls' | 'speaks-plain' | 'cert-untrusted' | 'unreachable';

export interface TargetHealth {
  state: TargetHealthState;
  /** What was seen, in words. */
  detail: string;
  /** The fix, when not up. */
  fix?: string;
  checkedAt: string;
}

export interface ProxyDto {
  id: string;
  definition: ProxyDefinitionDto;
  state: ServerState;
  /** Public URL with the port actually bound while running. */
  url?: string;
  /** The wss:// form of url, for WebSocket clients. */
  wsUrl?: string;
  port?: number;
  /** Open WebSocket pairs. */
  connections: number;
  /** HTTP requests served since start. */
  requests: number;
  health: TargetHealth;
  faults: FaultSettings;
  startedAt?: string;
  error?: WssErrorData;
}

export interface ProxyAddResult {
  proxy: ProxyDto;
  /** Set when the certificate was issued for this proxy just now. */
  issuedCertId?: string;
  /** The public name does not resolve here: add this line to /etc/hosts (hosts file on Windows). */
  hostsLine?: string;
  warnings: string[];
}

/** One WebSocket the lab page tried, as the browser saw it. */
export interface LabResult {
  url: string;
  scheme: 'ws' | 'wss';
  host: string;
  loopback: boolean;
  status: 'echoed' | 'blocked' | 'failed' | 'timeout' | 'pending';
  why: string;
}
/** What a lab page posted back to the server that served it. */
export interface LabReport {
  /** Origin of the lab page (https://localhost:8443). */
  page: string;
  secure: boolean;
  /** When it arrived (ISO 8601). */
  at: string;
  results: LabResult[];
}

/** The frame log's counters, all over one scope: events since the last clear. received = held + dropped. */
export interface LogCounters {
  /** Events written since the last clear. */
  received: number;
  /** Of those, events the ring no longer holds (overwritten when full, or cut by a smaller capacity). */
  dropped: number;
  /** Events the ring keeps at most. */
  capacity: number;
}

export interface LogSnapshot extends LogCounters {
  events: LogEventDto[];
}

export interface Ok {
  ok: true;
}

/** The steps of setup.localhost, in order. */
export type SetupStepId = 'ca' | 'trust' | 'cert' | 'server';
export type SetupStepState = 'pending' | 'running' | 'done' | 'warn' | 'failed' | 'skipped';
export interface SetupStep {
  id: SetupStepId;
  state: SetupStepState;
  /** What the step did or found, in words ("reusing certificate localhost", "trusted in NSS ..."). */
  detail: string;
  /** A failed step's error; a trust step that only warns carries the install error here too. */
  error?: WssErrorData;
}

/** What setup.localhost made or found. A failed step rejects the task instead (its progress says which). */
export interface SetupResult {
  steps: SetupStep[];
  ca: CaDto;
  /** Measured after the trust step (every detected store). */
  trust: TrustStoreStatus[];
  /** Stores that need root and were not changed: paste `sudo` into a terminal. */
  sudo: { store: TrustStoreId; sudo: string }[];
  leaf: LeafDto;
  /** Absent when the input said server: false. */
  server?: ServerDto;
  /** The server's URL with the name the certificate covers (wss://localhost:PORT/). */
  url?: string;
}

/** Result type of each request. The engine's handler table is typed against this. */
export interface Results {
  'app.info': AppInfo;
  'app.openExternal': { opened: boolean };
  'app.copy': { copied: boolean };
  'app.saveFile': { saved: boolean; path?: string };
  'ca.get': CaDto | null;
  'ca.create': CaDto;
  'ca.importMkcert': CaDto;
  'ca.export': ExportDto;
  'names.check': NameVerdict[];
  'cert.list': LeafDto[];
  'cert.damaged': DamagedLeafDto[];
  'cert.get': LeafDto;
  'cert.issue': { leaf: LeafDto; warnings: string[] };
  'cert.renew': LeafDto & { renewal: RenewalNotes };
  'cert.delete': Ok;
  'cert.export': ExportDto;
  'trust.status': TrustStoreStatus[];
  'trust.install': TrustResult;
  'trust.uninstall': TrustResult;
  'trust.replaced': ReplacedCaDto[];
  'server.list': ServerDto[];
  'server.add': ServerDto;
  'server.update': ServerDto;
  'server.remove': Ok;
  'server.start': ServerDto;
  'server.stop': ServerDto;
  'server.restart': ServerDto;
  'settings.problems': string[];
  'log.snapshot': LogSnapshot;
  'log.clear': Ok;
  'log.configure': LogCounters;
  'lab.results': LabReport | null;
  'log.export': ExportDto;
  'doctor.run': DoctorReport;
  'client.connect': { clientId: string; protocol: string; extensions: string };
  'client.send': Ok;
  'client.ping': Ok;
  'client.close': Ok;
  'proxy.list': ProxyDto[];
  'proxy.add': ProxyAddResult;
  'proxy.update': ProxyDto;
  'proxy.remove': Ok;
  'proxy.start': ProxyDto;
  'proxy.stop': ProxyDto;
  'proxy.check': TargetHealth;
  'faults.get': FaultSettings;
  'faults.set': FaultSettings;
  'faults.close': { closed: number };
  'conn.inject': Ok;
  'task.cancel': { cancelled: boolean };
  'setup.localhost': SetupResult;
  'rules.get': RulesStatusDto;
  'rules.set': RulesStatusDto;
  'rules.try': RuleTryResult;
  'push.send': { serverId: string; sent: number[] };
  'push.start': PushStatusDto;
  'push.stop': PushStatusDto;
  'push.list': PushStatusDto[];
  'replay.start': { replayId: string; session: string; messages: number; awaits: number };
}

export interface RulesStatusDto {
  serverId: string;
  rules: RulesFile;
  /** The file the rules are read from and written to, when there is one. */
  file?: string;
  /** When the rules now in force were loaded (ISO). */
  loadedAt?: string;
  /** The last load of the rules file failed; `rules` are the previous ones, still in force. */
  error?: { message: string; problems: RulesProblem[]; at: string };
}

export interface RuleTryResult {
  rule: number | null;
  name?: string;
  outcome: 'handled' | 'echo' | 'broadcast' | 'silent';
  sends: {
    to: 'sender' | 'all' | 'others';
    delayMs: number;
    opcode: 'text' | 'binary';
    text?: string;
    dataBase64?: string;
  }[];
  close?: { code: number; reason: string; delayMs: number };
  /** Template errors (rule, field, position). */
  errors: string[];
  /** The draft did not validate: its problems (nothing was tried). */
  problems?: RulesProblem[];
}

export interface PushStatusDto {
  id: string;
  everyMs: number;
  to: 'each' | 'broadcast';
  running: boolean;
  /** Ticks done since started. */
  ticks: number;
  /** Messages sent since started. */
  sent: number;
  /** Ticks skipped because the event loop was late by a whole interval or more. */
  skipped: number;
}
export type Result<K extends RequestName> = Results[K];

// Compile-time check that Results has exactly the request names.
type _SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never]
  ? true
  : never;
const _resultsCoverRequests: _SameKeys<Results, typeof requests> = true;
void _resultsCoverRequests;

// ---------------------------------------------------------------------------------------------------------
// Event streams. Each push is already a batch: shells deliver at most one push per stream per ~50 ms.

export interface TaskProgress {
  taskId: string;
  task: RequestName;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  /** Short step label ("generating RSA key", "nss", "TLS handshake"). */
  step: string;
  message?: string;
  /** 0..1 when known. */
  fraction?: number;
  /** doctor.run: the step just finished. */
  doctorStep?: DoctorStep;
  /** setup.localhost: every step as it stands now (the newest update is the whole picture). */
  setup?: SetupStep[];
  error?: WssErrorData;
}

/** What an engine-side client saw. */
export interface ClientEvent {
  clientId: string;
  type: 'open' | 'message' | 'pong' | 'close' | 'error';
  /** ms since the epoch. */
  time: number;
  opcode?: 'text' | 'binary';
  /** Text messages (first 64 KiB). */
  text?: string;
  /** Binary messages and pong payloads (first 64 KiB), base64. */
  dataBase64?: string;
  length?: number;
  truncated?: boolean;
  code?: number;
  reason?: string;
  message?: string;
}

export interface Streams {
  /** New frame-log events since the last push, and the running dropped count. */
  'log.batch': LogBatch;
  /** Every server with its current status (whole list: simple to render, small). */
  'server.status': { servers: ServerDto[] };
  /** Trust status after an install/uninstall or a re-check. */
  'trust.status': { stores: TrustStoreStatus[] };
  /** Progress of long tasks, oldest first. */
  'task.progress': { updates: TaskProgress[] };
  /** Engine-side WebSocket clients: messages, pongs, closes. */
  'client.events': { events: ClientEvent[] };
  /** The CA or the certificate list changed (reload with ca.get / cert.list). */
  'store.changed': { what: ('ca' | 'certs')[] };
  /** Every proxy with its current status (issue 12). */
  'proxy.status': { proxies: ProxyDto[] };
}
export type StreamName = keyof Streams;
export const streamNames: StreamName[] = [
  'log.batch',
  'server.status',
  'trust.status',
  'task.progress',
  'client.events',
  'store.changed',
  'proxy.status',
];

// ---------------------------------------------------------------------------------------------------------
// Errors on the wire: shared/errors.ts's WssErrorData, so a rejected input names the field and why.

export function isRequestName(name: unknown): name is RequestName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(requests, name);
}

export function isStreamName(name: unknown): name is StreamName {
  return typeof name === 'string' && (streamNames as string[]).includes(name);
}

/**
 * Validate one request's input. Returns the parsed input, or the error data naming the first bad field
 * ("names[0]", "patch.port") and why. Pure; never throws.
 */
export function validateInput<K extends RequestName>(
  name: K,
  input: unknown,
): { ok: true; value: ParsedInput<K> } | { ok: false; error: WssErrorData } {
  const r = v.safeParse(requests[name].input, input, { abortEarly: true });
  if (r.success) return { ok: true, value: r.output as ParsedInput<K> };
  const issue = r.issues[0];
  const field = fieldPath(issue) || 'input';
  return {
    ok: false,
    error: {
      code: 'INVALID_INPUT',
      action: `run ${q(name)}`,
      cause: `${q(field)} ${issue.message}`,
      hint: `fix ${q(field)} and retry`,
      field,
      kind: 'input',
    },
  };
}

/** A valibot issue's path as the errors name it: `patch.path`, `names[0]`. */
export function fieldPath(issue: v.BaseIssue<unknown>): string {
  let out = '';
  for (const item of issue.path ?? []) {
    const key = (item as { key?: unknown }).key;
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string') out += out ? `.${key}` : key;
  }
  return out;
}
