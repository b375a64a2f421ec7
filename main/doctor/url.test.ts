import { describe, expect, it } from 'vitest';
import { checkUrl } from './url';

describe('checkUrl', () => {
  it('accepts ws and wss URLs and fills in default ports and the path', () => {
    const a = checkUrl('ws://localhost:8080/echo?x=1');
    expect(a).toEqual({
      ok: true,
      target: {
        url: 'ws://localhost:8080/echo?x=1',
        scheme: 'ws',
        host: 'localhost',
        port: 8080,
        path: '/echo?x=1',
      },
    });
    const b = checkUrl('wss://[::1]/');
    expect(b.ok && b.target).toMatchObject({
      scheme: 'wss',
      host: '::1',
      port: 443,
      url: 'wss://[::1]/',
    });
    const c = checkUrl('WS://App.Test');
    expect(c.ok && c.target).toMatchObject({ host: 'app.test', port: 80, path: '/' });
  });

  it('maps http:// and https:// to ws:// and wss:// with the HTTP_SCHEME warning', () => {
    const r = checkUrl('https://localhost:8443/ws');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.target).toMatchObject({ scheme: 'wss', port: 8443, url: 'wss://localhost:8443/ws' });
    expect(r.warning?.code).toBe('HTTP_SCHEME');
    expect(r.warning?.fix).toContain('"wss://localhost:8443/ws"');
  });

  it('explains a missing scheme, another scheme, a bad port and a fragment', () => {
    const noScheme = checkUrl('localhost:8080/echo');
    expect(noScheme).toMatchObject({ ok: false, code: 'BAD_URL' });
    expect(!noScheme.ok && noScheme.fix).toContain('"ws://localhost:8080/echo"');
    expect(checkUrl('ftp://localhost/')).toMatchObject({ ok: false, code: 'BAD_SCHEME' });
    const bigPort = checkUrl('ws://localhost:99999/');
    expect(bigPort).toMatchObject({ ok: false, code: 'BAD_URL' });
    expect(!bigPort.ok && bigPort.fix).toContain('65535');
    expect(checkUrl('ws://localhost:0/')).toMatchObject({ ok: false, code: 'BAD_URL' });
    const frag = checkUrl('ws://localhost:8080/#top');
    expect(frag).toMatchObject({ ok: false, code: 'BAD_URL' });
    expect(!frag.ok && frag.explanation).toContain('fragment');
    expect(checkUrl('not a url')).toMatchObject({ ok: false, code: 'BAD_URL' });
  });
});
