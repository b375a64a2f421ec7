// How each trust state reads, for the CLI (`trust status`, `ca show`) and the UI's trust badges alike.
// A Record over the TrustState union: a new state does not compile until it has its words here.
import type { TrustState } from './api';

export const TRUST_STATE_LABELS: Readonly<Record<TrustState, string>> = {
  trusted: 'trusted',
  'not-trusted': 'not trusted',
  'not-present': 'not present',
  'tool-missing': 'tool missing',
  'needs-permission': 'needs permission',
  error: 'error',
};
