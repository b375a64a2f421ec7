// Which of a certificate's names fall outside a CA's permitted subtrees? Pure; never throws.
// Node reports a name-constraint failure only as "UNSPECIFIED", so the doctor works out the offending
// names itself to say which name broke which rule. Matching follows RFC 5280 4.2.1.10 as OpenSSL applies
// it: a DNS constraint "example.test" permits the name and every subdomain, ".example.test" only
// subdomains; IP constraints are address/prefix ranges; a name type with no constraint is unconstrained.
import { BlockList, isIP } from 'node:net';

export function outsideConstraints(names: string[], permitted: string[]): string[] {
  const dns = permitted.filter((p) => !p.includes('/'));
  const ips = permitted.filter((p) => p.includes('/'));
  const ranges = new BlockList();
  for (const r of ips) {
    const [addr = '', bits = ''] = r.split('/');
    const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    try {
      ranges.addSubnet(addr, Number(bits), family);
    } catch {
      // An unreadable range permits nothing.
    }
  }
  return names.filter((n) => {
    const kind = isIP(n);
    if (kind) return ips.length > 0 && !ranges.check(n, kind === 6 ? 'ipv6' : 'ipv4');
    if (dns.length === 0) return false;
    const name = n.toLowerCase().replace(/^\*\./, 'x.');
    return !dns.some((c) => dnsPermits(c.toLowerCase(), name));
  });
}

function dnsPermits(constraint: string, name: string): boolean {
  if (constraint === '') return true;
  if (constraint.startsWith('.')) return name.endsWith(constraint);
  return name === constraint || name.endsWith('.' + constraint);
}
