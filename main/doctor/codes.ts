// Every code the connection doctor can report, in one place: the plain-language sentence a developer reads
// and the fix. Codes are stable (scripts and the UI branch on them); the sentences may improve.
// A step's own `explanation` and `fix` name the actual host, port and values; these are the general forms,
// used for the README table, for `wss-studio doctor --help`, and as a fallback.
import type { DoctorCode, StepId } from '../../shared/doctor';

export type { DoctorCode, StepId };

export interface CodeDoc {
  /** Which step reports it. */
  step: StepId;
  /** fail: the connection will not work. warn: it works here but will break somewhere else. */
  severity: 'fail' | 'warn';
  /** What happened, in one sentence a developer understands. */
  meaning: string;
  /** What to do about it. */
  fix: string;
}

export const STEP_TITLES: Record<StepId, string> = {
  url: 'URL is well formed',
  'mixed-content': 'Page origin allows this URL (mixed content)',
  dns: 'Host name resolves',
  tcp: 'TCP connects',
  tls: 'Port speaks the scheme in the URL (TLS or plain)',
  certificate: 'Certificate is valid for this host and trusted',
  upgrade: 'WebSocket upgrade succeeds',
};

export const CODES: Record<DoctorCode, CodeDoc> = {
  BAD_URL: {
    step: 'url',
    severity: 'fail',
    meaning:
      'The text is not a URL a WebSocket client can open (no scheme, bad port, or bad characters).',
    fix: 'Write it as ws://HOST:PORT/PATH (or wss:// for TLS), e.g. ws://localhost:8080/.',
  },
  BAD_SCHEME: {
    step: 'url',
    severity: 'fail',
    meaning: 'WebSocket URLs start with ws:// or wss://; this scheme cannot carry a WebSocket.',
    fix: 'Use ws:// for a plain server or wss:// for a TLS server.',
  },
  HTTP_SCHEME: {
    step: 'url',
    severity: 'warn',
    meaning:
      'An http:// or https:// URL was given. Current browsers and the Node ws library map it to ws:// or wss://, but older browsers, Python websockets and many other clients reject it.',
    fix: 'Write ws:// instead of http:// and wss:// instead of https://.',
  },
  MIXED_CONTENT_BLOCKED: {
    step: 'mixed-content',
    severity: 'fail',
    meaning:
      'A page loaded over https:// may not open a ws:// (unencrypted) WebSocket to a non-loopback host: the browser throws SecurityError before any network traffic.',
    fix: 'Serve the WebSocket over TLS and use wss://, or load the page over http://.',
  },
  MIXED_CONTENT_LOOPBACK: {
    step: 'mixed-content',
    severity: 'warn',
    meaning:
      'An https:// page opening ws:// to localhost, 127.0.0.0/8 or [::1] works in Chromium, which treats loopback as potentially trustworthy; it breaks as soon as the page or the server moves off loopback (LAN address, .test name, staging).',
    fix: 'Use wss:// now so the code keeps working when it leaves loopback.',
  },
  DNS_FAILED: {
    step: 'dns',
    severity: 'fail',
    meaning: 'The host name does not resolve to an address on this machine.',
    fix: 'Check the spelling, or map the name in /etc/hosts (e.g. "127.0.0.1 app.test").',
  },
  CONNECTION_REFUSED: {
    step: 'tcp',
    severity: 'fail',
    meaning: 'Nothing is listening on that address and port (the connection was refused).',
    fix: 'Start the server, or fix the port in the URL; check the address the server binds (127.0.0.1 vs ::1 vs 0.0.0.0).',
  },
  HOST_UNREACHABLE: {
    step: 'tcp',
    severity: 'fail',
    meaning: 'The network has no route to that address.',
    fix: 'Check the address and that this machine is on the same network as the server.',
  },
  CONNECT_FAILED: {
    step: 'tcp',
    severity: 'fail',
    meaning: 'The TCP connection failed for another reason (see the detail).',
    fix: 'Read the error in the detail; check the host, port and any firewall in between.',
  },
  TIMEOUT: {
    step: 'tcp',
    severity: 'fail',
    meaning:
      'The peer did not answer in time (a firewall dropping packets, a wrong address, or a server that accepted the connection and then said nothing).',
    fix: 'Check the host and port, any firewall, and that the server is not stuck.',
  },
  TLS_ON_PLAIN_PORT: {
    step: 'tls',
    severity: 'fail',
    meaning:
      'The URL says wss:// (TLS) but the port speaks plain HTTP. Chromium reports this as ERR_SSL_PROTOCOL_ERROR (a page in Firefox: SSL_ERROR_RX_RECORD_TOO_LONG), Node as "wrong version number".',
    fix: "Use ws:// for this port, or point wss:// at the server's TLS port (wss-studio serve --wss PORT).",
  },
  PLAIN_ON_TLS_PORT: {
    step: 'tls',
    severity: 'fail',
    meaning:
      'The URL says ws:// (plain) but the port speaks TLS: the server drops the unencrypted request with no HTTP answer. Chromium reports "Connection closed before receiving a handshake response"; other clients see the connection closed or reset.',
    fix: "Use wss:// for this port, or point ws:// at the server's plain port.",
  },
  TLS_HANDSHAKE_FAILED: {
    step: 'tls',
    severity: 'fail',
    meaning: 'The TLS handshake failed (the server sent an alert or closed the connection).',
    fix: "Read the TLS error in the detail; check the server's certificate and key are loaded and match.",
  },
  TLS_OLD_VERSION: {
    step: 'tls',
    severity: 'fail',
    meaning: 'The server negotiated TLS 1.0 or 1.1, which browsers and Node refuse.',
    fix: 'Enable TLS 1.2 or 1.3 on the server.',
  },
  CERT_UNTRUSTED: {
    step: 'certificate',
    severity: 'fail',
    meaning:
      'The certificate chain does not lead to a CA the client trusts (each client reads its own store: NSS databases, the system bundle, Node, Java). Chromium reports ERR_CERT_AUTHORITY_INVALID, Firefox SEC_ERROR_UNKNOWN_ISSUER.',
    fix: 'Issue the server certificate from the WSS Studio CA (wss-studio cert issue NAME) and install the CA (wss-studio trust install).',
  },
  CERT_UNTRUSTED_BY_SOME: {
    step: 'certificate',
    severity: 'warn',
    meaning:
      'Some clients on this machine trust the CA that issued the certificate and others do not (each reads its own trust store: NSS databases, the system bundle, Node, Java).',
    fix: 'Install the CA into the stores of the clients that fail (wss-studio trust install --stores ...), or for Node set NODE_EXTRA_CA_CERTS.',
  },
  CERT_NAME_MISMATCH: {
    step: 'certificate',
    severity: 'fail',
    meaning:
      'The certificate does not cover the host name in the URL: browsers match the URL host against the Subject Alternative Names only (the Common Name is ignored). Chromium reports ERR_CERT_COMMON_NAME_INVALID, Firefox SSL_ERROR_BAD_CERT_DOMAIN.',
    fix: 'Issue a certificate that lists this host (wss-studio cert issue HOST), or use a host it lists.',
  },
  CERT_EXPIRED: {
    step: 'certificate',
    severity: 'fail',
    meaning: 'The certificate has expired.',
    fix: 'Issue a new certificate (wss-studio cert issue NAME) and restart the server with it.',
  },
  CERT_NOT_YET_VALID: {
    step: 'certificate',
    severity: 'fail',
    meaning:
      "The certificate is not valid yet (its start date is in the future, or this machine's clock is behind).",
    fix: 'Check the clock on both machines, or issue a new certificate.',
  },
  NAME_CONSTRAINT_VIOLATION: {
    step: 'certificate',
    severity: 'fail',
    meaning:
      "The CA is name-constrained and the certificate carries a name outside the CA's permitted names, so browsers and OpenSSL reject the whole chain.",
    fix: 'Issue the certificate only for names the CA permits (localhost, *.test, private IPs ...), or create a CA whose constraints include the name.',
  },
  CERT_INVALID: {
    step: 'certificate',
    severity: 'fail',
    meaning:
      'The chain leads to a trusted CA but fails verification for another reason (see the detail).',
    fix: 'Read the verification error in the detail; re-issue the certificate from the WSS Studio CA.',
  },
  UPGRADE_NOT_FOUND: {
    step: 'upgrade',
    severity: 'fail',
    meaning: 'The server answered 404 Not Found: nothing handles WebSockets at this path.',
    fix: 'Fix the path in the URL to the one the server listens on (e.g. / or /ws).',
  },
  UPGRADE_FORBIDDEN: {
    step: 'upgrade',
    severity: 'fail',
    meaning:
      'The server refused the upgrade with 401 or 403: usually its Origin allow-list does not include the page origin, or it wants credentials.',
    fix: "Add the page origin to the server's allowed origins, or send the credentials it expects.",
  },
  CLIENT_CERT_REQUIRED: {
    step: 'upgrade',
    severity: 'fail',
    meaning:
      'The server requires a client certificate (mutual TLS) and refused the connection without one; the doctor presents none.',
    fix: "Present a certificate issued for client authentication by the CA the server trusts: wss-studio cert issue --client NAME, then curl --cert/--key, or the Client screen's client certificate picker.",
  },
  UPGRADE_REDIRECT: {
    step: 'upgrade',
    severity: 'fail',
    meaning: 'The server answered with a redirect; WebSocket clients do not follow redirects.',
    fix: 'Use the URL the redirect points to directly.',
  },
  UPGRADE_NOT_WEBSOCKET: {
    step: 'upgrade',
    severity: 'fail',
    meaning:
      'The server answered the upgrade request as a normal web page (2xx): it is an HTTP server without a WebSocket handler at this address.',
    fix: "Point the URL at the WebSocket server's port and path.",
  },
  UPGRADE_REFUSED: {
    step: 'upgrade',
    severity: 'fail',
    meaning:
      'The server answered with an HTTP error instead of 101 Switching Protocols (400: request it did not accept, 426: wants another WebSocket version, 5xx: server error).',
    fix: "Read the status and body in the detail and check the server's log.",
  },
  UPGRADE_NO_RESPONSE: {
    step: 'upgrade',
    severity: 'fail',
    meaning: 'The server closed the connection without an HTTP answer to the upgrade request.',
    fix: 'Check that the port runs a WebSocket server and look at its log for the rejection.',
  },
  BAD_ACCEPT: {
    step: 'upgrade',
    severity: 'fail',
    meaning:
      'The server switched protocols but its Sec-WebSocket-Accept header is missing or wrong, so every client aborts the connection.',
    fix: 'Fix the server: Sec-WebSocket-Accept must be base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).',
  },
  SUBPROTOCOL_MISMATCH: {
    step: 'upgrade',
    severity: 'fail',
    meaning:
      'Client and server did not agree on a subprotocol: the server picked one that was not offered, or none of the offered ones.',
    fix: "Offer a subprotocol the server accepts, or add the client's subprotocol to the server's list.",
  },
  EXTENSION_MISMATCH: {
    step: 'upgrade',
    severity: 'fail',
    meaning:
      'The server enabled a WebSocket extension the client did not offer, so the client aborts.',
    fix: 'Fix the server to answer only with extensions the client offered.',
  },
};

/** Documentation rows for the README and help text, in step order. */
export function codeTable(): { code: DoctorCode; doc: CodeDoc }[] {
  const order = Object.keys(STEP_TITLES) as StepId[];
  return (Object.entries(CODES) as [DoctorCode, CodeDoc][])
    .map(([code, doc]) => ({ code, doc }))
    .sort((a, b) => order.indexOf(a.doc.step) - order.indexOf(b.doc.step));
}
