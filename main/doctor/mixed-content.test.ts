import { describe, expect, it } from 'vitest';
import { isWssError } from '../../shared/errors';
import { checkMixedContent, isLoopbackHost, parseOrigin } from './mixed-content';
import { checkUrl } from './url';

function target(url: string) {
  const r = checkUrl(url);
  if (!r.ok) throw new Error(`bad test URL ${url}`);
  return r.target;
}

describe('isLoopbackHost (Chromium potentially trustworthy hosts)', () => {
  it('accepts localhost, *.localhost, 127.0.0.0/8 and ::1', () => {
    for (const h of [
      'localhost',
      'LOCALHOST',
      'localhost.',
      'app.localhost',
      '127.0.0.1',
      '127.255.3.4',
      '::1',
    ]) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
  });
  it('rejects names that merely resolve to loopback, LAN addresses and look-alikes', () => {
    for (const h of [
      'app.test',
      '192.168.1.20',
      '10.0.0.1',
      '128.0.0.1',
      'localhost.test',
      'mylocalhost',
      '::2',
      '0.0.0.0',
    ]) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
  });
});

describe('checkMixedContent', () => {
  it('blocks ws:// to a non-loopback host from an https:// page', () => {
    const r = checkMixedContent(parseOrigin('https://app.test'), target('ws://app.test:8080/'));
    expect(r.status).toBe('fail');
    expect(r.status !== 'pass' && r.code).toBe('MIXED_CONTENT_BLOCKED');
    expect(r.status !== 'pass' && r.fix).toContain('"wss://app.test:8080/"');
  });
  it('allows ws:// to loopback from an https:// page, with the MIXED_CONTENT_LOOPBACK warning', () => {
    for (const u of ['ws://localhost:8080/', 'ws://127.0.0.1:8080/', 'ws://[::1]:8080/']) {
      const r = checkMixedContent(parseOrigin('https://localhost'), target(u));
      expect(r.status, u).toBe('warn');
      expect(r.status !== 'pass' && r.code).toBe('MIXED_CONTENT_LOOPBACK');
    }
    // The page's own host does not matter: only the WebSocket's host.
    expect(
      checkMixedContent(parseOrigin('https://app.test'), target('ws://localhost:1/')).status,
    ).toBe('warn');
  });
  it('passes wss:// from https:// and anything from http://', () => {
    expect(
      checkMixedContent(parseOrigin('https://app.test'), target('wss://app.test/')).status,
    ).toBe('pass');
    expect(checkMixedContent(parseOrigin('http://app.test'), target('ws://app.test/')).status).toBe(
      'pass',
    );
  });
  it('rejects an origin that is not http(s) as bad input naming the field', () => {
    for (const bad of ['app.test', 'ws://app.test', 'file:///x', '']) {
      let err: unknown;
      try {
        parseOrigin(bad);
      } catch (e) {
        err = e;
      }
      expect(isWssError(err) && err.code, bad).toBe('BAD_ORIGIN');
      expect(isWssError(err) && err.kind).toBe('input');
      expect(isWssError(err) && err.field).toBe('origin');
    }
    expect(parseOrigin('https://LocalHost:5173/some/page').origin).toBe('https://localhost:5173');
  });
});
