// The doctor's result types are the wire types of shared/doctor.ts (declared once there); this file adds
// the engine-only options.
import type { ClientOptions } from './clients';
import type { DoctorStep } from '../../shared/doctor';

export type {
  DoctorReport,
  DoctorStep,
  DoctorTarget,
  StepStatus,
  TlsFacts,
  UpgradeFacts,
} from '../../shared/doctor';

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
