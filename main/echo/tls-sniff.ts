// What went wrong before a request could be read: a TLS ClientHello on a plain port, plain HTTP on a TLS
// port, a TLS alert from a client that refused our certificate. Pure functions from an error (and the first
// bytes the client sent) to a frame-log error event in words; shared by the echo servers and the proxy.

export interface SniffedError {
  code: string;
  message: string;
}

/** The first byte of a TLS record carrying a handshake (ClientHello): content type 22. */
const TLS_HANDSHAKE_RECORD = 0x16;

/**
 * A plain http server's clientError as a log event: a TLS ClientHello (wss:// or https:// aimed at ws://)
 * or any other request Node could not parse.
 */
export function plainPortError(err: Error & { code?: string; rawPacket?: Buffer }): SniffedError {
  if (err.rawPacket?.[0] === TLS_HANDSHAKE_RECORD) {
    return {
      code: 'TLS_ON_PLAIN_PORT',
      message:
        'a client started a TLS handshake (wss:// or https://) on this plain ws:// port: use ws:// or a wss server',
    };
  }
  return { code: 'BAD_HTTP_REQUEST', message: `bad HTTP request: ${err.code ?? err.message}` };
}

/** A TLS handshake failure as a log event, in words; null for a client that simply went away. */
export function tlsErrorEvent(err: Error & { code?: string }): SniffedError | null {
  const m = err.message;
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return null;
  if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') {
    return {
      code: 'HANDSHAKE_TIMEOUT',
      message: 'client did not complete its TLS handshake in time; connection dropped',
    };
  }
  if (/http request|wrong version number|unknown protocol/i.test(m)) {
    return {
      code: 'PLAIN_ON_TLS_PORT',
      message:
        'a client spoke plain HTTP (ws:// or http://) to this TLS port: use wss:// or https://',
    };
  }
  if (
    /alert (unknown ca|bad certificate|certificate unknown|certificate expired)|alert number 4[2568]\b/i.test(
      m,
    )
  ) {
    const why = /unknown ca|number 48\b/i.test(m)
      ? 'TLS alert unknown_ca: it does not trust the WSS Studio CA; trust it with "wss-studio trust install"'
      : /expired|number 45\b/i.test(m)
        ? 'TLS alert certificate_expired: renew it with "wss-studio cert renew ID"'
        : 'TLS alert bad_certificate/certificate_unknown: the certificate may not cover the name the client used, or the client does not trust the WSS Studio CA';
    return {
      code: 'CLIENT_REJECTED_CERT',
      message: `the client rejected our certificate (${why})`,
    };
  }
  return { code: 'TLS_HANDSHAKE_FAILED', message: `TLS handshake failed: ${m}` };
}
