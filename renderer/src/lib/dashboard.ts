// Pure helpers for the Overview dashboard: what URL a user should paste, where the lab page is, which
// certificates need attention, and whether setup is done. No runes: unit-tested in dashboard.test.ts.
import type { CaDto, LeafDto, ServerDto, TrustStoreStatus } from '../../../shared/api';

/**
 * The URL to show for a running server. A server bound to 127.0.0.1 with a certificate for `localhost`
 * is reached as `localhost` (the name the certificate and the browser care about).
 */
export function displayUrl(s: ServerDto, leaf?: LeafDto): string | null {
  if (!s.url) return null;
  if (s.definition.scheme === 'ws' || leaf?.names.includes('localhost'))
    return s.url.replace('//127.0.0.1:', '//localhost:');
  return s.url;
}

/** The lab page every server answers on GET / (https for wss, http for ws). */
export function labUrl(s: ServerDto): string | null {
  if (s.labUrl) return s.labUrl.replace('//127.0.0.1:', '//localhost:');
  if (!s.url) return null;
  const m = /^(wss?):\/\/([^/]+)/.exec(s.url);
  if (!m) return null;
  return `${m[1] === 'wss' ? 'https' : 'http'}://${(m[2] ?? '').replace(/^127\.0\.0\.1:/, 'localhost:')}/`;
}

export interface Expiring {
  kind: 'ca' | 'leaf';
  id: string;
  label: string;
  notAfter: string;
  expired: boolean;
}

/** The CA and leaves that expire within `days` (or already have), soonest first. */
export function expiringSoon(
  ca: CaDto | null,
  leaves: readonly LeafDto[],
  now = Date.now(),
  days = 30,
): Expiring[] {
  const limit = now + days * 86_400_000;
  const out: Expiring[] = [];
  const add = (kind: Expiring['kind'], id: string, label: string, notAfter: string) => {
    const t = Date.parse(notAfter);
    if (Number.isNaN(t) || t <= limit) out.push({ kind, id, label, notAfter, expired: !(t > now) });
  };
  if (ca) add('ca', 'ca', `CA "${ca.commonName}"`, ca.notAfter);
  for (const l of leaves) add('leaf', l.id, l.names.join(' '), l.notAfter);
  return out.sort((a, b) => (Date.parse(a.notAfter) || 0) - (Date.parse(b.notAfter) || 0));
}

/**
 * Setup is done when a CA exists, a wss:// server runs and the CA is trusted somewhere (or trust is not
 * known yet: no flash of the setup card while the stores are asked); the setup card then collapses.
 */
export function setupDone(
  ca: CaDto | null,
  servers: readonly ServerDto[],
  trust: readonly TrustStoreStatus[],
): boolean {
  return (
    ca !== null &&
    servers.some((s) => s.definition.scheme === 'wss' && s.state === 'running') &&
    (trust.length === 0 || trust.some((t) => t.state === 'trusted'))
  );
}

/** "trusted in 2 of 3 stores", counting only stores present on this machine. */
export function trustSummary(stores: readonly TrustStoreStatus[]): {
  trusted: number;
  present: number;
  text: string;
} {
  const present = stores.filter((s) => s.state !== 'not-present');
  const trusted = present.filter((s) => s.state === 'trusted').length;
  const text =
    present.length === 0
      ? 'no trust store detected'
      : trusted === present.length
        ? `trusted in all ${present.length} store${present.length === 1 ? '' : 's'}`
        : `trusted in ${trusted} of ${present.length} stores`;
  return { trusted, present: present.length, text };
}
