// The one interface every trust store implements (mkcert style: one file per store, the same trio of
// check / install / uninstall), plus the context that makes every external effect injectable:
// commands go through `run`, every root path (`/`, $HOME, JAVA_HOME, cacerts) comes from here, so
// tests never touch the real /etc or the real home.

import type { TrustStoreId } from '../../shared/api';
import type {
  TrustState,
  TrustStoreChange as StoreChange,
  TrustStoreStatus as StoreStatus,
  TrustTargetDto as TrustTarget,
} from '../../shared/trust';

export type StoreId = TrustStoreId;

export const STORE_IDS: readonly StoreId[] = ['system', 'nss', 'java', 'macos', 'windows'];

// Measured states and statuses are the wire types of shared/trust.ts.
export type { TrustState, StoreChange, StoreStatus, TrustTarget };

/** The parts of the CA that trust stores need (structurally a subset of pki's CaInfo). */
export interface TrustCa {
  certPem: string;
  certDer: Buffer;
  /** 'AB:CD:...' as node's X509Certificate.fingerprint256 */
  fingerprint256: string;
  serialHex: string;
  commonName: string;
  /** The CA certificate file on disk (handed to commands that need a path: sudo/pkexec lines). */
  certPath: string;
}

export interface RunOptions {
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export interface RunResult {
  /** Exit code; null when the process was killed (timeout) or could not start. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started at all ('ENOENT' = not installed) or timed out. */
  spawnError?: string;
}

/** Every external command goes through this one function (tests inject a fake with real sample output). */
export type Runner = (file: string, args: string[], opts?: RunOptions) => Promise<RunResult>;

export interface TrustContext {
  run: Runner;
  /** Environment used to find tools (PATH, JAVA_HOME) and home folders. */
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  /** The user's home (NSS databases, Firefox profiles, login keychain). */
  home: string;
  /** Filesystem root for the Linux system store ('/' in real use, a temp folder in tests). */
  root: string;
  /** Effective uid, or null on Windows. Root can change the system store directly. */
  uid: number | null;
  /** Java keystore password (the JDK default "changeit"). */
  javaStorePassword: string;
  /** Explicit cacerts path; default: $JAVA_HOME/lib/security/cacerts of the keytool found. */
  javaCacerts?: string;
  /** How the CLI is invoked, for fix lines ("wss-studio"). */
  cliName: string;
}

export interface TrustStore {
  id: StoreId;
  label: string;
  /** Whether this store exists on this machine: decides the default selection. Fast, never throws. */
  detect(ctx: TrustContext): Promise<boolean>;
  /** Measured status: asks the store, never a remembered flag. Never throws. */
  status(ca: TrustCa, ctx: TrustContext): Promise<StoreStatus>;
  /** Idempotent: adds only our CA. Never throws; failures come back as a state with a fix. */
  install(ca: TrustCa, ctx: TrustContext): Promise<StoreChange>;
  /** Idempotent: removes only our CA (matched by fingerprint), never another certificate. */
  uninstall(ca: TrustCa, ctx: TrustContext): Promise<StoreChange>;
}
