// The one rule for "which existing certificate covers these names", used by setup.localhost (engine), by
// `wss-studio serve` without --cert and by the proxy's per-host pick. Pure and type-only imports, so
// app.info and the CLI can load it without the certificate engine.
import type { LeafDto } from '../../shared/api';

/** A leaf must stay valid at least this long to be reused; with less left, a new one is issued instead. */
export const REUSE_MARGIN_MS = 86_400_000;

/** The fields the rule reads, so both LeafDto (engine, cert.list) and pki's LeafInfo fit. */
export type ReuseCandidate = Pick<LeafDto, 'names' | 'notAfter' | 'caFingerprint256'> & {
  notBefore?: string;
};

export interface ReuseWanted {
  /** Every one of these must be listed on the leaf, compared case-insensitively. A wildcard entry does
   *  not count: "*.localhost" is not reused for "a.localhost" (a new leaf is issued for the exact name). */
  names: readonly string[];
  /** The current CA's fingerprint: only its leaves are reused. Undefined when there is no CA any more,
   *  so serve can still run on the leaves it has (nothing could be issued anyway). */
  caFingerprint256: string | undefined;
  now?: number;
}

/**
 * The leaf to reuse for `wanted`: issued by the current CA, covering every wanted name, already valid
 * and valid for a day more; of several, the one valid longest. Damaged certificate folders never reach
 * this rule (scanLeaves puts them aside). undefined when none fits.
 */
export function reusableLeaf<L extends ReuseCandidate>(
  leaves: readonly L[],
  wanted: ReuseWanted,
): L | undefined {
  const now = wanted.now ?? Date.now();
  const want = wanted.names.map((n) => n.toLowerCase());
  let best: L | undefined;
  for (const l of leaves) {
    const names = new Set(l.names.map((n) => n.toLowerCase()));
    if (!want.every((n) => names.has(n))) continue;
    if (wanted.caFingerprint256 !== undefined && l.caFingerprint256 !== wanted.caFingerprint256) {
      continue;
    }
    // Not yet valid (a clock moved back): skip. An unknown start (a partial record) does not disqualify.
    if (l.notBefore !== undefined && Date.parse(l.notBefore) > now) continue;
    const end = Date.parse(l.notAfter);
    if (!(end > now + REUSE_MARGIN_MS)) continue;
    if (!best || end > Date.parse(best.notAfter)) best = l;
  }
  return best;
}
