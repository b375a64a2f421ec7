// The connection doctor's wire types, declared once: main/doctor fills them, doctor.run returns them,
// task.progress carries each step as it finishes, the CLI's --json prints them and the Doctor screen reads
// them. Plain JSON (no classes, no Buffers).
import type { TrustStoreId } from './api';

/** Every code the doctor reports; main/doctor/codes.ts holds the sentence and the fix for each. */
export type DoctorCode =
  | 'BAD_URL'
  | 'BAD_SCHEME'
  | 'HTTP_SCHEME'
  | 'MIXED_CONTENT_BLOCKED'
  | 'MIXED_CONTENT_LOOPBACK'
  | 'DNS_FAILED'
  | 'CONNECTION_REFUSED'
  | 'HOST_UNREACHABLE'
  | 'CONNECT_FAILED'
  | 'TIMEOUT'
  | 'TLS_ON_PLAIN_PORT'
  | 'PLAIN_ON_TLS_PORT'
  | 'TLS_HANDSHAKE_FAILED'
  | 'TLS_OLD_VERSION'
  | 'CERT_UNTRUSTED'
  | 'CERT_UNTRUSTED_BY_SOME'
  | 'CERT_NAME_MISMATCH'
  | 'CERT_EXPIRED'
  | 'CERT_NOT_YET_VALID'
  | 'NAME_CONSTRAINT_VIOLATION'
  | 'CERT_INVALID'
  | 'UPGRADE_NOT_FOUND'
  | 'UPGRADE_FORBIDDEN'
  | 'CLIENT_CERT_REQUIRED'
  | 'UPGRADE_REDIRECT'
  | 'UPGRADE_NOT_WEBSOCKET'
  | 'UPGRADE_REFUSED'
  | 'UPGRADE_NO_RESPONSE'
  | 'BAD_ACCEPT'
  | 'SUBPROTOCOL_MISMATCH'
  | 'EXTENSION_MISMATCH';
/** The steps, in the order they run. */
export type StepId = 'url' | 'mixed-content' | 'dns' | 'tcp' | 'tls' | 'certificate' | 'upgrade';

export type StepStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface DoctorStep {
  id: StepId;
  title: string;
  status: StepStatus;
  /** Set when status is fail or warn. */
  code?: DoctorCode;
  /** Further problems found by the same step (e.g. an untrusted certificate that also names another host). */
  also?: DoctorCode[];
  /** One or two sentences naming the actual host, port, status ... */
  explanation: string;
  /** What to do, when there is something to do. */
  fix?: string;
  /** Facts worth showing under the step: "TLSv1.3", "chain: CN=localhost <- CN=WSS Studio CA" ... */
  detail?: string[];
  /** Certificate step: one trust verdict per client family (when the doctor judges clients). */
  clients?: DoctorClientVerdict[];
  /** A one-click fix (MIXED_CONTENT_BLOCKED: front the ws:// server with wss://, main/proxy/offer.ts). */
  action?: FixAction;
  durationMs: number;
}

/** Client families the doctor judges trust for (`wss-studio doctor --client`). */
export const DOCTOR_CLIENTS = [
  'chrome',
  'firefox',
  'system',
  'node',
  'java',
  'windows',
  'macos',
] as const;
export type DoctorClient = (typeof DOCTOR_CLIENTS)[number];

/** One client's verdict on the certificate, measured from the store that client reads. */
export interface DoctorClientVerdict {
  client: DoctorClient;
  /** Short name for sentences: "Chrome/Chromium", "Firefox profile default-esr", "Node". */
  name: string;
  /** "Chrome/Chromium (~/.pki/nssdb)", "Firefox profile default-esr", "Node (bundled roots)" ... */
  label: string;
  verdict: 'works' | 'fails' | 'unknown';
  /** Why, in one line: "CA not installed in ~/.pki/nssdb", "CA in /etc/ssl/certs/ca-certificates.crt". */
  reason: string;
  /** What to do, in words (no command line). */
  fix?: string;
  /** The same fix as a command for a terminal. */
  command?: string;
  /** A fix the app can do itself: install the CA into these trust stores (trust.install). */
  install?: TrustStoreId[];
  /** Where it was measured (database folder, bundle file, keystore). */
  path?: string;
}

/** A one-click fix: the request to call and its input. */
export interface FixAction {
  kind: 'proxy.add';
  /** Button text, e.g. "Front it with wss://". */
  label: string;
  input: { publicUrl: string; target: string; start: true };
  /** The URL the page should use once the fix is applied. */
  newUrl: string;
}

export interface DoctorTarget {
  /** The URL as the doctor will use it (http: mapped to ws:, https: to wss:). */
  url: string;
  scheme: 'ws' | 'wss';
  /** Host as written, without IPv6 brackets. */
  host: string;
  port: number;
  /** Path and query sent in the request line. */
  path: string;
}

export interface TlsFacts {
  protocol: string | null;
  cipher: string | null;
  /** Leaf first. */
  chain: {
    subject: string;
    issuer: string;
    notBefore: string;
    notAfter: string;
    fingerprint256: string;
  }[];
  names: string[];
  trustedBySystem: boolean;
  trustedByOurCa: boolean | null;
  issuedByOurCa: boolean | null;
}

export interface UpgradeFacts {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  protocol: string | null;
  extensions: string | null;
}

export interface DoctorReport {
  /** The URL as given. */
  url: string;
  /** The page origin, serialized (https://localhost:5173), when one was given. */
  origin?: string;
  target: DoctorTarget | null;
  /** True when a client with this URL (from this origin) would connect: no step failed. */
  ok: boolean;
  /** The codes of failed and warned steps, in step order. */
  codes: DoctorCode[];
  steps: DoctorStep[];
  /** What the port actually speaks, when the doctor got that far. */
  speaks: 'tls' | 'plain' | null;
  addresses: string[];
  tls: TlsFacts | null;
  upgrade: UpgradeFacts | null;
  startedAt: string;
  durationMs: number;
  /** Set when the AbortSignal fired: the steps so far are kept, the rest were not run. */
  cancelled?: boolean;
  /** Certificate step: one trust verdict per client family, when the doctor judges clients. */
  clients?: DoctorClientVerdict[];
}
