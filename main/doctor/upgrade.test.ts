import { describe, expect, it } from 'vitest';
import { expectedAccept, judgeUpgrade, type RawResponse } from './upgrade';

const key = 'dGhlIHNhbXBsZSBub25jZQ==';
const ctx = { url: 'ws://localhost:8080/chat', key, protocols: [] as string[], timeoutMs: 1000 };
const ok101 = (headers: Record<string, string> = {}): RawResponse => ({
  kind: 'response',
  status: 101,
  statusText: 'Switching Protocols',
  headers: {
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-accept': expectedAccept(key),
    ...headers,
  },
  body: '',
});
const status = (
  s: number,
  text: string,
  headers: Record<string, string> = {},
  body = 'nope',
): RawResponse => ({
  kind: 'response',
  status: s,
  statusText: text,
  headers,
  body,
});

describe('judgeUpgrade', () => {
  it('computes Sec-WebSocket-Accept as in RFC 6455 section 1.3', () => {
    expect(expectedAccept(key)).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });
  it('passes a correct 101 and reports the agreed subprotocol and extensions', () => {
    const r = judgeUpgrade(
      ok101({ 'sec-websocket-protocol': 'chat', 'sec-websocket-extensions': 'permessage-deflate' }),
      {
        ...ctx,
        protocols: ['chat'],
      },
    );
    expect(r.ok).toBe(true);
    expect(r.facts).toMatchObject({
      status: 101,
      protocol: 'chat',
      extensions: 'permessage-deflate',
    });
  });
  it('maps each refusal to its code', () => {
    const cases: [RawResponse, string][] = [
      [status(404, 'Not Found'), 'UPGRADE_NOT_FOUND'],
      [status(403, 'Forbidden'), 'UPGRADE_FORBIDDEN'],
      [status(401, 'Unauthorized'), 'UPGRADE_FORBIDDEN'],
      [status(301, 'Moved', { location: 'wss://x/' }), 'UPGRADE_REDIRECT'],
      [status(200, 'OK'), 'UPGRADE_NOT_WEBSOCKET'],
      [status(400, 'Bad Request'), 'UPGRADE_REFUSED'],
      [status(426, 'Upgrade Required'), 'UPGRADE_REFUSED'],
      [status(500, 'Server Error'), 'UPGRADE_REFUSED'],
      [{ kind: 'closed', errno: 'ECONNRESET' }, 'UPGRADE_NO_RESPONSE'],
      [{ kind: 'not-http', preview: 'SSH-2.0' }, 'UPGRADE_NO_RESPONSE'],
      [{ kind: 'timeout' }, 'TIMEOUT'],
      [ok101({ 'sec-websocket-accept': 'wrong=' }), 'BAD_ACCEPT'],
      [ok101({ upgrade: 'h2c' }), 'BAD_ACCEPT'],
      [ok101({ 'sec-websocket-protocol': 'chat' }), 'SUBPROTOCOL_MISMATCH'],
      [ok101({ 'sec-websocket-extensions': 'x-webkit-deflate-frame' }), 'EXTENSION_MISMATCH'],
      // mTLS: our echo's 403 body, nginx's ssl_verify_client 400 page, the TLS 1.3 alert after the handshake.
      [
        status(403, 'Forbidden', {}, 'this server requires a client certificate and ...'),
        'CLIENT_CERT_REQUIRED',
      ],
      [
        status(
          400,
          'Bad Request',
          {},
          '<html>\n<center>No required SSL certificate was sent</center>',
        ),
        'CLIENT_CERT_REQUIRED',
      ],
      [
        { kind: 'closed', errno: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' },
        'CLIENT_CERT_REQUIRED',
      ],
      [status(500, 'Server Error', {}, 'client certificate store broken'), 'UPGRADE_REFUSED'],
    ];
    for (const [res, code] of cases) {
      const r = judgeUpgrade(res, ctx);
      expect(r.ok, code).toBe(false);
      expect(!r.ok && r.code, JSON.stringify(res)).toBe(code);
    }
    const missing = judgeUpgrade(ok101(), { ...ctx, protocols: ['chat'] });
    expect(!missing.ok && missing.code).toBe('SUBPROTOCOL_MISMATCH');
  });
  it('names the path on 404 and the origin on 403', () => {
    const nf = judgeUpgrade(status(404, 'Not Found'), ctx);
    expect(nf.ok === false && nf.explanation).toContain('"/chat"');
    const fb = judgeUpgrade(status(403, 'Forbidden'), { ...ctx, origin: 'https://app.test' });
    expect(fb.ok === false && fb.fix).toContain('"https://app.test"');
  });
});
