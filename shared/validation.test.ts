import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { validateInput } from './api';
import {
  isAbsolutePath,
  isHost,
  isId,
  isIPv6,
  isOrigin,
  isPath,
  isToken,
  SERVER_LIMITS,
} from './validation';

const hostile: unknown[] = [
  undefined,
  null,
  0,
  NaN,
  {},
  [],
  { toString: 1 },
  Symbol('x'),
  () => '/',
  'x'.repeat(1_000_000),
  '\0',
];

describe('shared input predicates', () => {
  it('never throw and refuse anything that is not a string of the right form', () => {
    for (const p of [isId, isIPv6, isHost, isPath, isToken, isOrigin, isAbsolutePath])
      for (const x of hostile) expect(p(x), `${p.name}(${String(typeof x)})`).toBe(false);
  });

  it('isHost takes IPv4, IPv6 (zone included, as net.isIP does) and DNS names', () => {
    for (const h of [
      '127.0.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fe80::1%eth0',
      '::ffff:127.0.0.1',
      'app.test',
      'localhost',
    ])
      expect(isHost(h), h).toBe(true);
    for (const h of [
      '',
      'not a host',
      'a..b',
      '-x.test',
      '[::1]',
      ':::1',
      '1::2::3',
      'x'.repeat(254),
    ])
      expect(isHost(h), h).toBe(false);
    // The IPv6 check agrees with Node's (the renderer has no node:net).
    for (const h of [
      '::1',
      '2001:db8::1',
      '1:2:3:4:5:6:7:8',
      '1:2:3:4:5:6:7:8:9',
      '12345::1',
      '::g',
    ])
      expect(isIPv6(h), h).toBe(isIP(h) === 6);
  });

  it('isPath, isToken and isOrigin hold the bounds of SERVER_LIMITS', () => {
    expect(isPath('/echo')).toBe(true);
    expect(isPath('/' + 'a'.repeat(SERVER_LIMITS.path - 1))).toBe(true);
    expect(isPath('/' + 'a'.repeat(SERVER_LIMITS.path))).toBe(false);
    expect(isPath('echo')).toBe(false);
    expect(isPath('/a b')).toBe(false);
    expect(isToken('chat.v1')).toBe(true);
    expect(isToken('has space')).toBe(false);
    expect(isToken('a,b')).toBe(false);
    expect(isToken('t'.repeat(SERVER_LIMITS.protocol + 1))).toBe(false);
    expect(isOrigin('https://app.test:8443')).toBe(true);
    expect(isOrigin('null')).toBe(true);
    expect(isOrigin('https://app.test/')).toBe(false);
    expect(isOrigin('https://' + 'a'.repeat(SERVER_LIMITS.origin))).toBe(false);
    expect(isId('ws-main')).toBe(true);
    expect(isId('WS')).toBe(false);
    expect(isAbsolutePath('/home/me/ca.pem')).toBe(true);
    expect(isAbsolutePath('C:\\certs\\ca.pem')).toBe(true);
    expect(isAbsolutePath('ca.pem')).toBe(false);
  });

  it('the server schema is built from them: the reason names the field path, never the value', () => {
    const long = '/' + 'p'.repeat(300);
    const r = validateInput('server.update', { id: 's1', patch: { path: long } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.field).toBe('patch.path');
    expect(r.error.cause).toBe('"patch.path" must be at most 200 characters');
    expect(JSON.stringify(r.error)).not.toContain('p'.repeat(50));
    const tok = validateInput('server.add', { protocols: ['ok', 'not ok'] });
    expect(!tok.ok && tok.error.field).toBe('protocols[1]');
    expect(validateInput('server.add', { host: '::1', path: '/x', protocols: ['a'] }).ok).toBe(
      true,
    );
  });
});
