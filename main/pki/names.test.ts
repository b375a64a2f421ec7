import { describe, expect, it } from 'vitest';
import {
  checkName,
  parseConstraint,
  permittedBy,
  DEFAULT_PERMITTED,
  type Constraint,
} from './names';
import { checkNames } from './leaf';
import type { CaInfo } from './ca';

describe('checkName', () => {
  it.each([
    ['localhost', 'dns', 'localhost'],
    ['App.Test', 'dns', 'app.test'],
    ['app.test.', 'dns', 'app.test'],
    ['*.app.test', 'wildcard', '*.app.test'],
    ['127.0.0.1', 'ip', '127.0.0.1'],
    ['::1', 'ip', '::1'],
    ['[::1]', 'ip', '::1'],
    ['FD00:0:0::10', 'ip', 'fd00::10'],
    ['café.test', 'dns', 'xn--caf-dma.test'],
    ['dev@app.test', 'email', 'dev@app.test'],
    ['uri:spiffe://app.test/web', 'uri', 'spiffe://app.test/web'],
  ])('accepts %s as %s', (input, kind, normalized) => {
    const c = checkName(input);
    expect(c.error).toBeUndefined();
    expect(c.kind).toBe(kind);
    expect(c.normalized).toBe(normalized);
  });

  it.each([
    ['exa mple.com', /white space/, /example\.com/],
    ['localhost:8080', /carries a port/, /"localhost"/],
    ['[::1]:8443', /carries a port/, /"::1"/],
    ['https://x', /is a URL/, /"x"/],
    ['999.1.1.1', /not a valid IPv4/, /0 to 255/],
    ['', /empty/, /localhost/],
    ['*.*.test', /wildcard in the wrong place/, /leftmost/],
    ['a.*.test', /wildcard in the wrong place/, /leftmost/],
    ['*.com', /public suffix/, /one level lower/],
    ['*.co.uk', /public suffix/, /one level lower/],
    ['-bad.test', /starts or ends with "-"/, /letters, digits/],
    ['under_score.test', /not allowed/, /letters, digits/],
  ])('refuses %j naming the value and the fix', (input, error, hint) => {
    const c = checkName(input);
    expect(c.error).toMatch(error);
    if (input) expect(c.error).toContain(JSON.stringify(input.trim()));
    expect(c.hint).toMatch(hint);
  });

  it('warns (does not refuse) a wildcard directly under a local TLD', () => {
    const c = checkName('*.test');
    expect(c.error).toBeUndefined();
    expect(c.warning).toMatch(/browsers may reject "\*\.test"/);
  });
});

describe('name constraints', () => {
  const defaults = DEFAULT_PERMITTED.map((p) => parseConstraint(p).constraint as Constraint);

  it.each([
    ['localhost', true],
    ['a.localhost', true],
    ['app.test', true],
    ['*.app.test', true],
    ['printer.local', true],
    ['nas.home.arpa', true],
    ['127.0.0.1', true],
    ['127.9.9.9', true],
    ['::1', true],
    ['10.1.2.3', true],
    ['172.31.255.255', true],
    ['172.32.0.1', false],
    ['192.168.1.20', true],
    ['fd12::1', true],
    ['example.com', false],
    ['8.8.8.8', false],
    ['2001:db8::1', false],
    ['test', false],
    ['localhost.com', false],
  ])('%s permitted by the defaults: %s', (name, ok) => {
    expect(permittedBy(checkName(name), defaults)).toBe(ok);
  });

  it('parses and rejects permitted entries', () => {
    expect(parseConstraint('10.0.0.0/8').constraint?.kind).toBe('ip');
    expect(parseConstraint('.example.test').constraint).toMatchObject({
      kind: 'dns',
      value: '.example.test',
    });
    expect(parseConstraint('10.0.0.0/33').error).toMatch(/not a valid address range/);
    expect(parseConstraint('bad name').error).toMatch(/"bad name"/);
  });
});

describe('verdict codes (callers branch on the code, never on the sentence)', () => {
  it('a refused name carries INVALID_NAME; an accepted one carries no code', () => {
    expect(checkName('bad name!')).toMatchObject({ code: 'INVALID_NAME' });
    expect(checkName('http://app.test/')).toMatchObject({ code: 'INVALID_NAME' });
    expect(checkName('app.test').code).toBeUndefined();
    expect(checkName('*.test').code).toBeUndefined(); // a warning is not a refusal
  });

  it('checkNames marks a name outside the CA constraints NAME_NOT_PERMITTED, whatever its sentence says', () => {
    const ca = { constrained: true, permitted: [...DEFAULT_PERMITTED] } as CaInfo;
    const [outside, ok, bad] = checkNames(['example.com', 'app.test', 'name constraints'], ca);
    expect(outside).toMatchObject({ code: 'NAME_NOT_PERMITTED', normalized: 'example.com' });
    expect(ok!.code).toBeUndefined();
    // This sentence mentions "name constraints", but the name is simply malformed.
    expect(bad!.error).toContain('name constraints');
    expect(bad).toMatchObject({ code: 'INVALID_NAME' });
    // An unconstrained CA permits any valid name.
    expect(checkNames(['example.com'], { ...ca, constrained: false })[0]!.code).toBeUndefined();
  });
});
