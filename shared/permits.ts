// Which CA permit lists are "effectively global": a CA limited to them can still issue for real sites, so
// it deserves the same warning (and, over web mode, the same opt-in flag) as an unconstrained CA. Pure
// predicates that never throw; shared by the engine, the CLI and the renderer.

/** Top-level names reserved for local use (RFC 2606, RFC 6761, RFC 6762, RFC 8375, ICANN .internal). */
const LOCAL_TLDS = new Set(['test', 'localhost', 'local', 'internal', 'invalid', 'example', 'lan']);

/**
 * True for a permit entry that covers public names or addresses wholesale:
 * - an address range wider than a /8 in IPv4 or a /7 in IPv6 (`0.0.0.0/0`, `::/0`, `128.0.0.0/1`): the
 *   widest private ranges (10.0.0.0/8, 127.0.0.0/8, fc00::/7) are exactly that size;
 * - a bare top-level name that is not reserved for local use (`com`, `.dev`): every site under it.
 * Multi-label public suffixes (`co.uk`) are not detected: that needs the Public Suffix List.
 */
export function isEffectivelyGlobalPermit(entry: string): boolean {
  const s = String(entry).trim().toLowerCase();
  if (s === '' || s === '.') return true;
  const slash = s.lastIndexOf('/');
  if (slash >= 0) {
    const bits = Number(s.slice(slash + 1));
    if (!Number.isInteger(bits)) return false;
    return s.includes(':') ? bits < 7 : bits < 8;
  }
  if (s.includes(':') || /^[\d.]+$/.test(s)) return false; // one address
  const name = s.replace(/^\./, '').replace(/\.$/, '');
  return !name.includes('.') && !LOCAL_TLDS.has(name);
}

/** The entries of a permit list that make it effectively global (empty: the list is fine). */
export function globalPermits(permitted: readonly string[]): string[] {
  return permitted.filter(isEffectivelyGlobalPermit);
}

/**
 * The warning for a CA that can issue for any site, or undefined for a properly constrained one. Worded
 * for every shell (CLI, UI, RPC result).
 */
export function unconstrainedCaWarning(ca: {
  constrained: boolean;
  permitted: readonly string[];
}): string | undefined {
  if (!ca.constrained) {
    return 'this CA has no name constraints: once trusted, it can issue certificates that your browsers accept for ANY site; keep its key private, or recreate it constrained';
  }
  const wide = globalPermits(ca.permitted);
  if (wide.length === 0) return undefined;
  return `this CA can issue for public sites: its permitted names include ${wide.map((w) => JSON.stringify(w)).join(', ')}; once trusted, your browsers accept its certificates for them; keep its key private, or recreate it with local names only`;
}

/** A bind address that only this machine can reach. */
export function isLoopbackBind(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
