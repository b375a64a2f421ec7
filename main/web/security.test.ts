import { describe, expect, it } from 'vitest';
import { allowedHosts, checkRequest, isLoopbackHost, sameToken } from './security';
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
    const opts = { hosts: allowedHosts('127.0.0.1', 5000), token: 'secret-token', port: 5000 };
    const ok = checkRequest(
      { url: '/?token=secret-token', headers: { host: 'localhost:5000' } },
      opts,
    );
    expect(ok).toEqual({ ok: true, fromQuery: true });
    const cookie = checkRequest(
      {
        url: '/',
        headers: { host: '127.0.0.1:5000', cookie: 'a=b; wss_studio_5000=secret-token' },
      },
      opts,
    );
    expect(cookie).toEqual({ ok: true, fromQuery: false });
    // A cookie for another port's instance is not ours.
    expect(
      checkRequest(
        { url: '/', headers: { host: '127.0.0.1:5000', cookie: 'wss_studio_5001=secret-token' } },
        opts,
      ),
    ).toMatchObject({ ok: false, status: 401 });
    const host = checkRequest(
      { url: '/?token=secret-token', headers: { host: 'evil.example:5000' } },
      opts,
    );
    expect(host).toMatchObject({ ok: false, status: 421 });
    const origin = checkRequest(
      {
        url: '/?token=secret-token',
        headers: { host: 'localhost:5000', origin: 'http://127.0.0.1:5000' },
      },
      opts,
    );
    // Same machine, different origin string: still another origin.
    expect(origin).toMatchObject({ ok: false, status: 403 });
    const wrong = checkRequest(
      { url: '/?token=secret-tokem', headers: { host: 'localhost:5000' } },
      opts,
    );
    expect(wrong).toMatchObject({ ok: false, status: 401, reason: 'wrong token' });
    expect(JSON.stringify([host, origin, wrong])).not.toContain('secret-token');
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
