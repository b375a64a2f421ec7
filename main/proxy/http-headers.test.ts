// The header lines a proxied request and its answer carry: what is dropped (hop-by-hop, pseudo-headers, the
// client's own X-Forwarded-Proto/-Host), what is set (Host, X-Forwarded-*), what passes as it came.
import { describe, expect, it } from 'vitest';
import { forwardRequestLines, framesBody, relayResponseLines, splitLinks } from './http-headers';

const keep = {
  ip: '127.0.0.1',
  proto: 'https',
  fallbackHost: 'app.test:8443',
  hostFor: (h: string) => h,
};
/** The lines as [name, value] pairs, for readable expectations. */
const pairs = (lines: string[]) =>
  Array.from({ length: lines.length / 2 }, (_, i) => [lines[2 * i], lines[2 * i + 1]]);

describe('forwardRequestLines', () => {
  it('drops hop-by-hop headers and the ones Connection lists; keeps the rest as sent, repeats included', () => {
    const out = forwardRequestLines(
      [
        'Host', 'app.test:8443',
        'Connection', 'keep-alive, X-Secret',
        'Keep-Alive', 'timeout=5',
        'X-Secret', 'no',
        'TE', 'trailers',
        'Accept', '*/*',
        'Cookie', 'a=1',
        'Cookie', 'b=2',
        'Upgrade', 'h2c',
      ], // prettier-ignore
      keep,
    );
    expect(pairs(out)).toEqual([
      ['Host', 'app.test:8443'],
      ['Accept', '*/*'],
      ['Cookie', 'a=1'],
      ['Cookie', 'b=2'],
      ['X-Forwarded-For', '127.0.0.1'],
      ['X-Forwarded-Proto', 'https'],
      ['X-Forwarded-Host', 'app.test:8443'],
    ]);
  });

  it("merges the client's X-Forwarded-For lines before its address and replaces its -Proto and -Host", () => {
    const out = forwardRequestLines(
      [
        'x-forwarded-for', '10.0.0.1',
        'Host', 'app.test',
        'X-Forwarded-For', '10.0.0.2',
        'X-Forwarded-Proto', 'gopher',
        'X-Forwarded-Host', 'evil.test',
      ], // prettier-ignore
      keep,
    );
    expect(pairs(out)).toEqual([
      ['Host', 'app.test'],
      ['X-Forwarded-For', '10.0.0.1, 10.0.0.2, 127.0.0.1'],
      ['X-Forwarded-Proto', 'https'],
      ['X-Forwarded-Host', 'app.test'],
    ]);
  });

  it('HTTP/2: pseudo-headers never reach the target; :authority is the public host', () => {
    const out = forwardRequestLines(
      [
        ':method', 'GET',
        ':path', '/m.js',
        ':authority', 'localhost:9443',
        ':scheme', 'https',
        'accept', '*/*',
      ], // prettier-ignore
      { ...keep, hostFor: () => '127.0.0.1:5173' },
    );
    expect(pairs(out)).toEqual([
      ['Host', '127.0.0.1:5173'],
      ['accept', '*/*'],
      ['X-Forwarded-For', '127.0.0.1'],
      ['X-Forwarded-Proto', 'https'],
      ['X-Forwarded-Host', 'localhost:9443'],
    ]);
  });

  it('HTTP/2: cookie crumbs become one Cookie line joined with "; " (RFC 9113 8.2.3); HTTP/1.1 lines stay', () => {
    const h2 = forwardRequestLines(
      [
        ':method', 'GET',
        ':path', '/',
        ':authority', 'app.test',
        'cookie', 'a=1',
        'accept', '*/*',
        'cookie', 'b=2',
        'cookie', 'c=3',
      ], // prettier-ignore
      keep,
    );
    expect(pairs(h2).filter(([k]) => k?.toLowerCase() === 'cookie')).toEqual([
      ['cookie', 'a=1; b=2; c=3'],
    ]);
    expect(pairs(h2)[2]).toEqual(['accept', '*/*']);
    const h1 = forwardRequestLines(['Host', 'app.test', 'Cookie', 'a=1', 'Cookie', 'b=2'], keep);
    expect(pairs(h1).filter(([k]) => k === 'Cookie')).toEqual([
      ['Cookie', 'a=1'],
      ['Cookie', 'b=2'],
    ]);
  });

  it('a request without Host or :authority names the public side', () => {
    expect(pairs(forwardRequestLines([], keep))[0]).toEqual(['Host', 'app.test:8443']);
  });
});

describe('relayResponseLines', () => {
  it('drops hop-by-hop headers and the ones Connection lists, keeps repeated Set-Cookie, rewrites Location', () => {
    const out = relayResponseLines(
      [
        'Content-Type', 'text/html',
        'Set-Cookie', 'a=1',
        'Connection', 'keep-alive, X-Hop',
        'Set-Cookie', 'b=2',
        'Keep-Alive', 'timeout=5',
        'Transfer-Encoding', 'chunked',
        'X-Hop', '1',
        'Location', 'http://127.0.0.1:5173/landed',
      ], // prettier-ignore
      (v) => v.replace('http://127.0.0.1:5173', 'https://app.test'),
    );
    expect(pairs(out)).toEqual([
      ['Content-Type', 'text/html'],
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
      ['Location', 'https://app.test/landed'],
    ]);
  });
});

describe('framesBody', () => {
  it('is true with Content-Length or Transfer-Encoding in any case, false otherwise', () => {
    expect(framesBody(['content-length', '3'])).toBe(true);
    expect(framesBody(['Host', 'x', 'Transfer-Encoding', 'chunked'])).toBe(true);
    expect(framesBody(['Host', 'x', 'Content-Type', 'text/plain', 'Content-Lengthy', '1'])).toBe(
      false,
    );
    expect(framesBody([])).toBe(false);
  });
});

describe('splitLinks', () => {
  it('splits joined link-values, not at commas inside <...> or a quoted parameter', () => {
    expect(
      splitLinks([
        '</a.css>; rel=preload; as=style, </b,c.js>; rel=modulepreload',
        '</d>; title="x, y"; rel=preload,</e>',
        ' , ',
      ]),
    ).toEqual([
      '</a.css>; rel=preload; as=style',
      '</b,c.js>; rel=modulepreload',
      '</d>; title="x, y"; rel=preload',
      '</e>',
    ]);
  });
});
