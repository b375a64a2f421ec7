// Proxy definitions: the public URL and the target are parsed once; ws/wss forms map to http/https;
// every rejection names the field and the fix.
import { describe, expect, it } from 'vitest';
import { isWssError } from '../../shared/errors';
import { normalizeProxy, parsePublic, parseTarget } from './validation';

describe('proxy definitions', () => {
  it('maps the ws/wss forms and fills bounded defaults', () => {
    const d = normalizeProxy({ publicUrl: 'wss://LOCALHOST:9443', target: 'ws://localhost:3000/' });
    expect(d).toMatchObject({
      publicUrl: 'https://localhost:9443',
      target: 'ws://localhost:3000',
      bindHost: '127.0.0.1',
      preserveHost: true,
      rewriteRedirects: true,
      targetVerify: true,
      enabled: false,
    });
    expect(d.id).toMatch(/^proxy-[0-9a-f]{6}$/);
    expect(parsePublic('https://app.test')).toEqual({
      scheme: 'https',
      host: 'app.test',
      port: 443,
    });
    expect(parsePublic('http://[::1]:8080')).toEqual({ scheme: 'http', host: '::1', port: 8080 });
    expect(parseTarget('https://localhost:5173/base/')).toMatchObject({
      scheme: 'https',
      port: 5173,
      basePath: '/base',
      origin: 'https://localhost:5173',
    });
  });

  it.each([
    [
      { publicUrl: 'ftp://app.test', target: 'http://localhost:1' },
      'publicUrl',
      /http:\/\/, https:\/\/, ws:\/\/ or wss:\/\//,
    ],
    [
      { publicUrl: 'https://u:p@app.test', target: 'http://localhost:1' },
      'publicUrl',
      /credentials/,
    ],
    [
      { publicUrl: 'https://app.test/x', target: 'http://localhost:1' },
      'publicUrl',
      /whole origin/,
    ],
    [{ publicUrl: 'https://app.test', target: 'http://localhost:0' }, 'target', /port/],
    [{ publicUrl: 'https://app.test', target: 'http://localhost:1/?q=1' }, 'target', /origin/],
    [
      { publicUrl: 'https://app.test', target: 'http://localhost:1', bindHost: 'not an address!' },
      'bindHost',
      /127\.0\.0\.1/,
    ],
    [
      { publicUrl: 'https://app.test', target: 'http://localhost:1', id: 'Bad Id' },
      'id',
      /lower-case/,
    ],
    [{ target: 'http://localhost:1' }, 'publicUrl', /https:\/\/app\.test:8443/],
  ])('rejects %j naming %s', (input, field, hint) => {
    try {
      normalizeProxy(input);
      throw new Error('accepted');
    } catch (e) {
      expect(isWssError(e)).toBe(true);
      if (!isWssError(e)) return;
      expect(e.code).toBe('INVALID_PROXY');
      expect(e.field).toBe(field);
      expect(e.message).toMatch(/^failed to define proxy: /);
      expect(e.hint).toMatch(hint);
    }
  });
});
