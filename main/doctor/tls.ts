// Steps 3 and 4 for TLS: the handshake, then the certificate: chain, who issued it, trust (system bundle and
// the WSS Studio CA, each said separately), host name vs SAN, validity dates, name constraints.
//
// The handshake is done with rejectUnauthorized: false so the doctor sees the certificate even when a client
// would refuse it; each verdict is then computed on its own, so one problem does not hide the next.
// OpenSSL's verification (a second handshake with the candidate CA) has the last word on a chain we found an
// anchor for: it enforces name constraints, key usage and CA flags exactly like Node and curl do.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { DoctorCode } from './codes';
import { permittedSubtreesOf } from '../pki/x509';
import { outsideConstraints } from './name-constraints';
import { settleOnce } from './net';
import { probeTlsOptions } from './tls-options';

export interface TlsHandshake {
  protocol: string | null;
  cipher: string | null;
  alpn: string | null;
  /** Leaf first, as the server sent it. */
  chain: X509Certificate[];
  /** OpenSSL's verdict against the CAs passed (ca option), null when authorized. */
  authorizationError: { code: string; message: string } | null;
}

export type TlsProbe =
  { ok: true; hs: TlsHandshake } | { ok: false; timedOut: boolean; errno: string; message: string };

/**
 * The doctor's handshakes accept TLS 1.0 and 1.1 (which Node, browsers and curl refuse) so that an old
 * server is named as such (TLS_OLD_VERSION) instead of failing with a bare "protocol version" alert.
 * Built for this process's TLS library: Electron's BoringSSL throws on OpenSSL's cipher commands.
 */
export const PROBE_TLS_OPTIONS = probeTlsOptions();

/** servername for SNI: only for names, never for IP literals (RFC 6066). */
export function sniName(host: string): string | undefined {
  return isIP(host) ? undefined : host;
}

export function probeTls(
  address: string,
  port: number,
  host: string,
  timeoutMs: number,
  signal?: AbortSignal,
  ca?: string[],
): Promise<TlsProbe> {
  return new Promise((resolve, reject) => {
    const servername = sniName(host);
    const socket = tls.connect({
      host: address,
      port,
      ...(servername ? { servername } : {}),
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
      ...PROBE_TLS_OPTIONS,
      ...(ca ? { ca } : {}),
    });
    const settle = settleOnce<TlsProbe>(socket, timeoutMs, signal, resolve, reject, () => ({
      ok: false,
      timedOut: true,
      errno: 'ETIMEDOUT',
      message: `no TLS answer in ${timeoutMs} ms`,
    }));
    if (!settle) return;
    socket.once('secureConnect', () => {
      const hs: TlsHandshake = {
        protocol: socket.getProtocol(),
        cipher: socket.getCipher()?.name ?? null,
        alpn: typeof socket.alpnProtocol === 'string' ? socket.alpnProtocol : null,
        chain: peerChain(socket),
        authorizationError: authError(socket),
      };
      settle({ ok: true, hs });
    });
    socket.once('error', (e: NodeJS.ErrnoException) =>
      settle({ ok: false, timedOut: false, errno: e.code ?? 'ERROR', message: e.message }),
    );
    socket.once('close', () =>
      settle({
        ok: false,
        timedOut: false,
        errno: 'ECONNRESET',
        message: 'the server closed the connection during the TLS handshake',
      }),
    );
  });
}

/**
 * OpenSSL's chain verdict. Node gives authorizationError as a string (the code) in Node 20, as an Error in
 * some versions; a host name mismatch is reported there too, but only once the chain verified, so it
 * counts as "chain trusted" here: names are judged on their own.
 */
function authError(socket: tls.TLSSocket): { code: string; message: string } | null {
  if (socket.authorized) return null;
  const e = socket.authorizationError as unknown;
  const code =
    typeof e === 'string'
      ? e
      : String((e as NodeJS.ErrnoException | null)?.code ?? (e as Error | null)?.message ?? '');
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return null;
  const message = typeof e === 'string' ? e : String((e as Error | null)?.message ?? code);
  return { code, message };
}

function peerChain(socket: tls.TLSSocket): X509Certificate[] {
  const out: X509Certificate[] = [];
  let c: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (c && c.raw && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    out.push(new X509Certificate(c.raw));
    c = c.issuerCertificate;
  }
  return out;
}

// ---- trust anchors ------------------------------------------------------------------------------------

let systemAnchors: X509Certificate[] | undefined;

/** Split a PEM bundle into X509Certificates, skipping blocks that do not parse. */
export function parsePemBundle(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const out: X509Certificate[] = [];
  for (const b of blocks) {
    try {
      out.push(new X509Certificate(b));
    } catch {
      // A bad block in a system bundle must not stop the diagnosis; it simply anchors nothing.
    }
  }
  return out;
}

/**
 * The "system bundle" as a Node or curl client on this machine sees it: Node's built-in roots, the file in
 * NODE_EXTRA_CA_CERTS, and the distribution's bundle (what curl, wget, Python use on Debian/Fedora/macOS).
 */
export function loadSystemAnchors(env: NodeJS.ProcessEnv = process.env): X509Certificate[] {
  if (systemAnchors) return systemAnchors;
  const pems = [...tls.rootCertificates];
  const files = [
    env.NODE_EXTRA_CA_CERTS,
    '/etc/ssl/certs/ca-certificates.crt',
    '/etc/pki/tls/certs/ca-bundle.crt',
    '/etc/ssl/cert.pem',
  ];
  for (const f of new Set(files)) {
    if (!f) continue;
    try {
      pems.push(readFileSync(f, 'utf8'));
    } catch {
      // Missing bundle files are normal (each distribution has one of them).
    }
  }
  const seen = new Set<string>();
  systemAnchors = parsePemBundle(pems.join('\n')).filter((c) => {
    if (seen.has(c.fingerprint256)) return false;
    seen.add(c.fingerprint256);
    return true;
  });
  return systemAnchors;
}

/** Does the chain lead to one of the anchors (contains it, or its top is signed by it)? */
export function findAnchor(
  chain: X509Certificate[],
  anchors: X509Certificate[],
): X509Certificate | null {
  const byFp = new Map(anchors.map((a) => [a.fingerprint256, a]));
  for (const cert of chain) {
    const same = byFp.get(cert.fingerprint256);
    if (same) return same;
    for (const a of anchors) {
      if (cert.checkIssued(a) && safeVerify(cert, a)) return a;
    }
  }
  return null;
}

function safeVerify(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

// ---- the certificate verdict ----------------------------------------------------------------------------

export interface CertProblem {
  code: DoctorCode;
  explanation: string;
  fix: string;
}

export interface CertVerdict {
  problems: CertProblem[];
  detail: string[];
  names: string[];
  trustedBySystem: boolean;
  trustedByOurCa: boolean | null;
  issuedByOurCa: boolean | null;
}

export interface CertInputs {
  host: string;
  hs: TlsHandshake;
  ourCa: X509Certificate | null;
  systemAnchors: X509Certificate[];
  /** OpenSSL's verification of the chain against one CA set: a fresh handshake with `ca` set. */
  verifyWith: (ca: string[]) => Promise<{ code: string; message: string } | null>;
  now?: Date;
  /** Fixes name the app's screens instead of CLI commands. */
  forApp?: boolean;
}

function say(inp: Pick<CertInputs, 'forApp'>, cli: string, app: string): string {
  return inp.forApp ? app : cli;
}

export async function judgeCertificate(inp: CertInputs): Promise<CertVerdict> {
  const { hs, host } = inp;
  const now = inp.now ?? new Date();
  const problems: CertProblem[] = [];
  const detail: string[] = [];
  const leaf = hs.chain[0];
  if (!leaf) {
    return {
      problems: [
        {
          code: 'CERT_UNTRUSTED',
          explanation: 'The server sent no certificate.',
          fix: 'Configure the server with a certificate and key.',
        },
      ],
      detail,
      names: [],
      trustedBySystem: false,
      trustedByOurCa: null,
      issuedByOurCa: null,
    };
  }
  const names = sanList(leaf);
  detail.push(`protocol ${hs.protocol ?? '?'}, cipher ${hs.cipher ?? '?'}`);
  detail.push(`chain: ${hs.chain.map((c) => cnOf(c.subject)).join(' <- ')}`);
  detail.push(`names (SAN): ${names.length ? names.join(', ') : 'none'}`);
  detail.push(`valid ${iso(leaf.validFrom)} to ${iso(leaf.validTo)}`);

  // Dates: every certificate in the chain, leaf first.
  for (const [i, c] of hs.chain.entries()) {
    const what =
      i === 0 ? 'The certificate' : `The chain certificate ${JSON.stringify(cnOf(c.subject))}`;
    const from = new Date(c.validFrom);
    const to = new Date(c.validTo);
    if (to.getTime() < now.getTime()) {
      problems.push({
        code: 'CERT_EXPIRED',
        explanation: `${what} expired on ${iso(c.validTo)} (now is ${now.toISOString()}).`,
        fix: `Issue a new certificate (${say(inp, 'wss-studio cert issue NAME', 'Certificates screen')}) and restart the server with it.`,
      });
    } else if (from.getTime() > now.getTime()) {
      problems.push({
        code: 'CERT_NOT_YET_VALID',
        explanation: `${what} is valid only from ${iso(c.validFrom)} (now is ${now.toISOString()}): its start date is in the future or this clock is behind.`,
        fix: 'Check the clocks of both machines, or issue a new certificate.',
      });
    }
  }

  // Trust, said separately for the system bundle and for our CA.
  const sysAnchor = findAnchor(hs.chain, inp.systemAnchors);
  const ourAnchor = inp.ourCa ? findAnchor(hs.chain, [inp.ourCa]) : null;
  const issuedByOurCa = inp.ourCa ? ourAnchor !== null : null;
  let trustedBySystem = false;
  let trustedByOurCa: boolean | null = inp.ourCa ? false : null;
  const dateCodes = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
  const judge = async (anchor: X509Certificate, label: string): Promise<boolean> => {
    const err = await inp.verifyWith([anchor.toString()]);
    // Constraints first: OpenSSL reports only its last error, so an expired certificate would hide them.
    const permitted = constraintsOf(anchor, hs.chain);
    const outside = permitted ? outsideConstraints(names, permitted) : [];
    const ncError = !!err && /subtree|name constraint/i.test(`${err.code} ${err.message}`);
    if (!outside.length && !ncError && (!err || dateCodes.has(err.code))) {
      return true; // dates are reported on their own above
    }
    if (outside.length || ncError) {
      const listed = outside.map((n) => JSON.stringify(n)).join(', ');
      problems.push({
        code: 'NAME_CONSTRAINT_VIOLATION',
        explanation:
          `${cap(label)} is name-constrained${permitted ? ` to ${permitted.join(', ')}` : ''} and the certificate ` +
          `carries ${listed || 'a name'} outside it, so OpenSSL and browsers reject the whole chain.`,
        fix:
          `Issue the certificate without ${listed || 'the offending name'}, or use a CA whose constraints ` +
          `include it (${say(inp, 'wss-studio ca init --force --permit NAME ...', 'a new CA with the name permitted')}).`,
      });
    } else {
      problems.push({
        code: 'CERT_INVALID',
        explanation: `The chain leads to ${label} but verification fails: ${err?.code || 'error'} (${err?.message}).`,
        fix: `Re-issue the certificate from the WSS Studio CA (${say(inp, 'wss-studio cert issue NAME', 'Certificates screen')}).`,
      });
    }
    return false;
  };
  if (sysAnchor)
    trustedBySystem = await judge(
      sysAnchor,
      `the system CA ${JSON.stringify(cnOf(sysAnchor.subject))}`,
    );
  if (ourAnchor) trustedByOurCa = await judge(ourAnchor, 'the WSS Studio CA');
  detail.push(
    `issued by the WSS Studio CA: ${issuedByOurCa === null ? 'unknown (no WSS Studio CA yet)' : issuedByOurCa ? 'yes' : 'no'}`,
  );
  detail.push(`chain verifies against the system bundle: ${trustedBySystem ? 'yes' : 'no'}`);
  if (trustedByOurCa !== null)
    detail.push(`chain verifies against the WSS Studio CA: ${trustedByOurCa ? 'yes' : 'no'}`);
  if (!sysAnchor && !ourAnchor) {
    const top = hs.chain[hs.chain.length - 1] as X509Certificate;
    // Not checkIssued(): OpenSSL refuses a leaf as its own issuer when its key usage lacks keyCertSign.
    const selfSigned = top.subject === top.issuer && safeVerify(top, top);
    problems.push({
      code: 'CERT_UNTRUSTED',
      explanation:
        `No trusted CA issued this certificate: the chain ends at ${JSON.stringify(cnOf(top.subject))}` +
        `${selfSigned ? ' (self-signed)' : `, issued by ${JSON.stringify(cnOf(top.issuer))}, which is not in the chain`}` +
        `; it is not signed by any CA in the system bundle${inp.ourCa ? ' nor by the WSS Studio CA' : ''}` +
        `${inp.ourCa ? '' : ' (there is no WSS Studio CA yet to check against)'}.`,
      fix: inp.ourCa
        ? `Issue the server certificate from the WSS Studio CA (${say(inp, 'wss-studio cert issue NAME', 'Certificates screen')}), or trust the CA that issued it.`
        : inp.forApp
          ? 'Create the WSS Studio CA and trust it (Overview screen), then issue the server certificate from it (Certificates screen).'
          : 'Create the WSS Studio CA (wss-studio ca init), issue the server certificate from it (wss-studio cert issue NAME) and trust it (wss-studio trust install).',
    });
  }

  // Host name vs SAN (what Node and browsers check; the CN is ignored once a SAN exists).
  const idErr = tls.checkServerIdentity(host, {
    subject: { CN: cnOf(leaf.subject) },
    subjectaltname: leaf.subjectAltName ?? '',
  } as unknown as tls.PeerCertificate);
  if (idErr) {
    problems.push({
      code: 'CERT_NAME_MISMATCH',
      explanation:
        `The certificate is for ${names.length ? names.join(', ') : JSON.stringify(cnOf(leaf.subject)) + ' (CN only, no SAN)'}, ` +
        `not ${JSON.stringify(host)}: clients match the URL host against the Subject Alternative Names only.`,
      fix: `Issue a certificate that includes ${JSON.stringify(host)} (${say(inp, `wss-studio cert issue ${isIP(host) ? host : JSON.stringify(host)}`, 'Certificates screen')}), or connect with a name it lists.`,
    });
  }
  return { problems, detail, names, trustedBySystem, trustedByOurCa, issuedByOurCa };
}

/** Permitted subtrees of the first constrained CA in anchor + chain, or null when none is constrained. */
function constraintsOf(anchor: X509Certificate, chain: X509Certificate[]): string[] | null {
  for (const c of [anchor, ...chain.slice(1)]) {
    try {
      const p = permittedSubtreesOf(c.raw);
      if (p) return p;
    } catch {
      // Unparseable extension: OpenSSL's verdict stands on its own.
    }
  }
  return null;
}

/** "DNS:localhost, IP Address:127.0.0.1" -> ["localhost", "127.0.0.1"] */
export function sanList(cert: X509Certificate): string[] {
  const raw = cert.subjectAltName;
  if (!raw) return [];
  return raw
    .split(/,\s*/)
    .map((p) => p.replace(/^(DNS|IP Address):/, '').trim())
    .filter(Boolean);
}

export function cnOf(subject: string): string {
  const m = /(?:^|\n)CN=([^\n]*)/.exec(subject);
  return m?.[1] ?? subject.replace(/\n/g, ', ');
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function iso(d: string): string {
  const t = new Date(d);
  return Number.isNaN(t.getTime()) ? d : t.toISOString();
}
