import { describe, expect, it } from 'vitest';
import { allowedHosts, checkHttp, checkRpc, isLoopbackHost, sameToken } from './security';
import { openCommand } from './open';

describe('web mode request checks', () => {
  it('knows loopback names', () => {
    for (const h of ['127.0.0.1', '127.8.9.10', 'localhost', 'LOCALHOST', '::1', '[::1]']) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
    for (const h of ['0.0.0.0', '192.168.1.2', '::', 'localhost.evil.example', '128.0.0.1']) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
  });

  it('allows the loopback names and the bound address on our port only', () => {
    expect([...allowedHosts('127.0.0.1', 5000)].sort()).toEqual([
      '127.0.0.1:5000',
      '[::1]:5000',
      'localhost:5000',
    ]);
    expect(allowedHosts('192.168.1.20', 5000).has('192.168.1.20:5000')).toBe(true);
    expect(allowedHosts('fe80::1', 5000).has('[fe80::1]:5000')).toBe(true);
    // A wildcard bind does not make every Host header acceptable.
    expect(allowedHosts('0.0.0.0', 5000).has('0.0.0.0:5000')).toBe(false);
  });

  it('checks Host, then Origin, then the token, and never reflects the token', () => {
    const opts = { hosts: allowedHosts('127.0.0.1', 5000), token: 'secret-token' };
    const own = 'http://localhost:5000';
    const ok = checkRpc(
      { url: '/rpc?token=secret-token', headers: { host: 'localhost:5000', origin: own } },
      opts,
    );
    expect(ok).toEqual({ ok: true });
    // No cookie path any more: a cookie (the old wss_studio_<port>) is not a credential.
    expect(
      checkRpc(
        {
          url: '/rpc',
          headers: { host: 'localhost:5000', origin: own, cookie: 'wss_studio_5000=secret-token' },
        },
        opts,
      ),
    ).toMatchObject({ ok: false, status: 401 });
    // The handshake must carry our Origin, as every browser sends one.
    expect(
      checkRpc({ url: '/rpc?token=secret-token', headers: { host: 'localhost:5000' } }, opts),
    ).toMatchObject({ ok: false, status: 403 });
    const host = checkRpc(
      { url: '/rpc?token=secret-token', headers: { host: 'evil.example:5000', origin: own } },
      opts,
    );
    expect(host).toMatchObject({ ok: false, status: 421 });
    const origin = checkRpc(
      {
        url: '/rpc?token=secret-token',
        headers: { host: 'localhost:5000', origin: 'http://127.0.0.1:5000' },
      },
      opts,
    );
    // Same machine, different origin string: still another origin.
    expect(origin).toMatchObject({ ok: false, status: 403 });
    const wrong = checkRpc(
      { url: '/rpc?token=secret-tokem', headers: { host: 'localhost:5000', origin: own } },
      opts,
    );
    expect(wrong).toMatchObject({ ok: false, status: 401, reason: 'wrong token' });
    expect(JSON.stringify([host, origin, wrong])).not.toContain('secret-token');
    // Plain HTTP (the public UI files): Host always, Origin when present, no token.
    expect(checkHttp({ url: '/', headers: { host: '127.0.0.1:5000' } }, opts)).toEqual({
      ok: true,
    });
    expect(
      checkHttp({ url: '/', headers: { host: '127.0.0.1:5000', origin: 'http://x.test' } }, opts),
    ).toMatchObject({ ok: false, status: 403 });
    expect(checkHttp({ url: '/', headers: { host: 'x.test:5000' } }, opts)).toMatchObject({
      ok: false,
      status: 421,
    });
  });

  it('compares tokens in constant time and rejects empty ones', () => {
    expect(sameToken('abc', 'abc')).toBe(true);
    expect(sameToken('abd', 'abc')).toBe(false);
    expect(sameToken('ab', 'abc')).toBe(false);
    expect(sameToken('', 'abc')).toBe(false);
    expect(sameToken(null, 'abc')).toBe(false);
  });

  it('opens the browser with the platform opener, without a shell', () => {
    expect(openCommand('http://127.0.0.1:1/?token=a&b', 'linux')).toEqual([
      'xdg-open',
      ['http://127.0.0.1:1/?token=a&b'],
    ]);
    expect(openCommand('http://x/', 'darwin')).toEqual(['open', ['http://x/']]);
    expect(openCommand('http://x/?a=1&b=2', 'win32')[1]).toContain('http://x/?a=1^&b=2');
  });
});
