// Trust-store status on the wire, declared once: main/trust measures it (under its own names,
// main/trust/types.ts), trust.* returns it, the trust.status stream pushes it, the doctor and the renderer read it.
import type { TrustStoreId } from './api';

/**
 * trusted / not-trusted: measured by asking the store.
 * not-present: the store does not exist here (no NSS database, no Java, wrong OS).
 * tool-missing: the store exists but the tool to read or change it does not (certutil, keytool).
 * needs-permission: the change needs root / an administrator (the `fix` holds the exact command).
 * error: the tool ran and failed (corrupt database, wrong password); `detail` says what it printed.
 */
export type TrustState =
  'trusted' | 'not-trusted' | 'not-present' | 'tool-missing' | 'needs-permission' | 'error';

/** One place inside a store: an NSS database, a keychain, a bundle file. */
export interface TrustTargetDto {
  /** What the user recognises: "Firefox profile abc.default-esr", "Chromium (~/.pki/nssdb)". */
  label: string;
  path: string;
  state: TrustState;
  detail?: string;
}

export interface TrustStoreStatus {
  store: TrustStoreId;
  /** Human name: "Linux system store (Debian/Ubuntu)", "NSS (Chrome/Chromium, Firefox)". */
  label: string;
  state: TrustState;
  /** One line: what was measured, where. */
  detail: string;
  /** The exact command or action that fixes a non-trusted state, when there is one. */
  fix?: string;
  /** Things that do not change the state but the user must know (Firefox running: restart it). */
  warnings?: string[];
  targets?: TrustTargetDto[];
}

export interface TrustStoreChange extends TrustStoreStatus {
  /** Whether this call changed anything on disk (install/uninstall are idempotent). */
  changed: boolean;
}
