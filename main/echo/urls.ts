// The URL a server is shown under: a name its certificate covers and that reaches the address it is bound to.
//
// A wss:// server is only useful under a name its certificate covers: `wss://127.0.0.1:PORT/` for an
// "app.test, *.app.test" certificate fails in every client with a name mismatch. So the URL comes from the
// certificate's names, in this order: localhost, the other DNS names (a wildcard "*.x" as "www.x"), the IP
// addresses; the first one that resolves to the bound address wins. When none does, the first DNS name is
// shown with the /etc/hosts line that makes it work. A ws:// server (no certificate) is shown as localhost
// when localhost resolves to its address, else as the address itself (`--host ::1` on a machine whose
// localhost is only 127.0.0.1 is `ws://[::1]:PORT/`).
import { X509Certificate } from 'node:crypto';
import dns from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

export interface CertView {
  /** DNS names and IP addresses from subjectAltName, in certificate order. */
  dns: string[];
  ips: string[];
  notBefore: string;
  notAfter: string;
  fingerprint256: string;
}

export function certView(certPem: string): CertView {
  const x = new X509Certificate(certPem);
  const dnsNames: string[] = [];
  const ips: string[] = [];
  for (const part of (x.subjectAltName ?? '').split(', ')) {
    if (part.startsWith('DNS:')) dnsNames.push(part.slice(4).toLowerCase());
    else if (part.startsWith('IP Address:')) ips.push(normalizeIp(part.slice(11)));
  }
  return {
    dns: dnsNames,
    ips,
    notBefore: new Date(x.validFrom).toISOString(),
    notAfter: new Date(x.validTo).toISOString(),
    fingerprint256: x.fingerprint256,
  };
}

/** Canonical text of an IP address (OpenSSL prints IPv6 SANs uncompressed: 0:0:0:0:0:0:0:1). */
export function normalizeIp(ip: string): string {
  const bare = ip.replace(/^\[|\]$/g, '');
  if (isIP(bare) !== 6) return bare;
  try {
    return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  } catch {
    return bare.toLowerCase();
  }
}

/** Does the certificate cover `host` (a DNS name or an IP address)? Wildcards match one label. */
export function covers(cert: CertView, host: string): boolean {
  const h = host
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
    .replace(/\.$/, '');
  if (isIP(h)) return cert.ips.includes(normalizeIp(h));
  return cert.dns.some((n) => {
    if (n === h) return true;
    if (!n.startsWith('*.') || !h.endsWith(n.slice(1))) return false;
    const label = h.slice(0, h.length - n.length + 1);
    return label.length > 0 && !label.includes('.');
  });
}

export const urlHost = (h: string): string => (isIP(h) === 6 ? `[${h}]` : h);

export type Lookup = (name: string) => Promise<string[]>;

/** getaddrinfo (what browsers and most clients use, /etc/hosts included), bounded to 1 s; [] on failure. */
export const systemLookup: Lookup = async (name) => {
  const timeout = new Promise<string[]>((r) => setTimeout(() => r([]), 1000).unref());
  const found = dns
    .lookup(name, { all: true })
    .then((a) => a.map((x) => normalizeIp(x.address)))
    .catch(() => []);
  return Promise.race([found, timeout]);
};

const isLoopback = (ip: string): boolean => /^127\./.test(ip) || ip === '::1';

function localAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) out.push(normalizeIp(a.address));
  }
  return out;
}

export interface UrlPlan {
  /** Host part for the URL, without brackets. */
  host: string;
  /** The certificate covers `host` (always true without a certificate). */
  covered: boolean;
  /** Set when `host` does not resolve to the bound address here: the /etc/hosts line that fixes it. */
  hint?: string;
}

/** Pick the host a server bound to `bind` is shown under (see the file comment). */
export async function planUrl(
  bind: string,
  cert: CertView | undefined,
  lookup: Lookup = systemLookup,
): Promise<UrlPlan> {
  const wildcardBind = bind === '0.0.0.0' || bind === '::';
  const bound = isIP(bind) ? [normalizeIp(bind)] : await lookup(bind);
  const anyLocal = wildcardBind ? localAddresses() : [];
  const reaches = (addrs: string[]) =>
    addrs.some((a) =>
      wildcardBind
        ? isLoopback(a) || anyLocal.includes(a)
        : bound.includes(a) || (bind === 'localhost' && isLoopback(a)),
    );
  const fallbackAddr = wildcardBind ? (bind === '::' ? '::1' : '127.0.0.1') : bind;
  const resolves = async (name: string) => (isIP(name) ? [normalizeIp(name)] : lookup(name));

  if (!cert) {
    if ((wildcardBind || bound.some(isLoopback)) && reaches(await resolves('localhost')))
      return { host: 'localhost', covered: true };
    return { host: isIP(bind) ? normalizeIp(fallbackAddr) : bind, covered: true };
  }

  const dnsNames = [
    ...cert.dns.filter((n) => n === 'localhost'),
    ...cert.dns
      .filter((n) => n !== 'localhost')
      .map((n) => (n.startsWith('*.') ? `www${n.slice(1)}` : n)),
  ];
  for (const name of [...new Set(dnsNames)]) {
    if (reaches(await resolves(name))) return { host: name, covered: true };
  }
  for (const ip of cert.ips) if (reaches([ip])) return { host: ip, covered: true };
  const name = dnsNames.find((n) => n !== 'localhost') ?? dnsNames[0];
  const target = bound.find((a) => !wildcardBind && a) ?? fallbackAddr;
  if (name) {
    return {
      host: name,
      covered: true,
      hint: `"${name}" does not resolve to ${target} here: add the line "${target} ${name}" to /etc/hosts (Windows: C:\\Windows\\System32\\drivers\\etc\\hosts)`,
    };
  }
  return { host: isIP(bind) ? normalizeIp(fallbackAddr) : bind, covered: false };
}

/** What is wrong with serving `cert` under `host` at `now`: visible warnings for the card and `serve`. */
export function certWarnings(
  cert: CertView,
  host: string,
  certId: string | undefined,
  now: Date = new Date(),
): string[] {
  const out: string[] = [];
  if (!covers(cert, host)) {
    const names = [...cert.dns, ...cert.ips].join(', ') || '(none)';
    out.push(
      `the certificate does not cover "${host}" (its names: ${names}): clients will refuse it; issue one for "${host}" or bind an address it covers`,
    );
  }
  const t = now.getTime();
  if (t < Date.parse(cert.notBefore)) {
    out.push(`the certificate is not valid until ${cert.notBefore}: clients will refuse it`);
  }
  if (t >= Date.parse(cert.notAfter)) {
    out.push(
      `the certificate expired on ${cert.notAfter}: clients will refuse it; renew it${certId ? ` with "wss-studio cert renew ${certId}"` : ''} and restart the server`,
    );
  }
  return out;
}
