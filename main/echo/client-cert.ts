// mTLS on an echo server: whether a client's certificate lets it in (and the reason in words when not), and
// the verified certificate as shown in the connection's open event.
import type { TLSSocket } from 'node:tls';
import { q } from '../../shared/errors';
import type { ClientCertInfo } from './types';
import type { SniffedError } from './tls-sniff';

/**
 * null when the client presented a certificate the server's client CAs verify (for clientAuth), else the
 * code and reason, which is also the body of the 403.
 */
export function clientCertRefusal(s: TLSSocket): SniffedError | null {
  const peer = s.getPeerX509Certificate?.();
  if (!peer) {
    return {
      code: 'CLIENT_CERT_MISSING',
      message:
        'this server requires a client certificate and the client sent none: present one issued with "wss-studio cert issue --client NAME" (curl --cert/--key, openssl s_client -cert/-key)',
    };
  }
  if (s.authorized) return null;
  const why = String(s.authorizationError ?? 'not verified');
  // Any client may send any certificate: its subject goes into the log and a terminal bounded and
  // without control characters.
  const subject = peer.subject
    .replace(/\n/g, ', ')
    .replace(/\p{Cc}/gu, '?')
    .slice(0, 200);
  return {
    code: 'CLIENT_CERT_REFUSED',
    message: `the client certificate ${q(subject)} was refused (${why})${
      /purpose/i.test(why)
        ? ': it is not for client authentication; issue one with "wss-studio cert issue --client NAME"'
        : /expired/i.test(why)
          ? ': renew it'
          : ': it was not issued by the CA this server trusts for client certificates'
    }`,
  };
}

/** The verified client certificate of an mTLS connection, for the open event. */
export function clientCertInfo(s: TLSSocket): ClientCertInfo | undefined {
  const x = s.authorized ? s.getPeerX509Certificate?.() : undefined;
  if (!x) return undefined;
  return {
    subject: x.subject.replace(/\n/g, ', '),
    issuer: x.issuer.replace(/\n/g, ', '),
    sans: x.subjectAltName ? x.subjectAltName.split(', ') : [],
    fingerprint256: x.fingerprint256,
    notAfter: new Date(x.validTo).toISOString(),
  };
}
