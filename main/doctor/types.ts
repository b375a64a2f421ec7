// The doctor's result types. Plain JSON (no classes, no Buffers) so the report crosses IPC, the web-mode
// RPC and `wss-studio doctor --json` unchanged.
import type { DoctorClientVerdict } from '../../shared/api';
import type { ClientOptions } from './clients';
import type { DoctorCode, StepId } from './codes';
import type { FixAction } from '../../shared/api';

export type StepStatus = 'pass' | 'fail' | 'warn' | 'skip';

// Type aliases (not interfaces) so they are assignable to the contract's open shapes in shared/api.ts.
export type DoctorStep = {
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
  /** Certificate step: one trust verdict per client family (when DiagnoseOptions.clients is set). */
  clients?: DoctorClientVerdict[];
  /** A one-click fix (MIXED_CONTENT_BLOCKED: front the ws:// server with wss://, main/proxy/offer.ts). */
  action?: FixAction;
  durationMs: number;
};

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

export type DoctorReport = {
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
  /** Certificate step: one trust verdict per client family, when DiagnoseOptions.clients is set. */
  clients?: DoctorClientVerdict[];
};

export interface DiagnoseOptions {
  /** Origin of the page that will open the WebSocket, e.g. https://localhost:5173. Enables the mixed content check. */
  origin?: string;
  /** PEM of the WSS Studio CA (loadCa(store).certPem): trust is checked against it and against the system bundle. */
  caPem?: string;
  /** Subprotocols to offer in the upgrade (Sec-WebSocket-Protocol). */
  protocols?: string[];
  /** Per network step (connect, TLS handshake, upgrade answer). Default 5000 ms. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Judge trust per client family (Chromium's and each Firefox profile's NSS db, the system bundle, Node,
   * Java, Windows/macOS) from the stores they read. Without it, trust is judged against the system bundle
   * and caPem only.
   */
  clients?: ClientOptions & { commands?: boolean };
  /** Fixes and explanations name the app's screens, never CLI commands or flags (the Doctor screen). */
  forApp?: boolean;
  /** Called as each step finishes, in order, before diagnose() resolves. */
  onStep?: (step: DoctorStep) => void;
}
