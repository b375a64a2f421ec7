// The proxy's HTTP/1.1 rests on Node's undocumented `_http_common` parser: this Node has what it uses, and
// one without it is refused with the Node version and the fix named.
import * as common from '_http_common';
import { describe, expect, it } from 'vitest';
import { checkParser } from './llhttp';

describe("Node's HTTP parser", () => {
  it("this Node's parser calls back as h1-server.ts and h1-client.ts expect (arguments, body as one Buffer)", () => {
    checkParser(common);
    const { HTTPParser } = common;
    const p = new HTTPParser();
    p.initialize(HTTPParser.REQUEST, {}, 0, HTTPParser.kLenientNone);
    const seen: unknown[] = [];
    p[HTTPParser.kOnHeadersComplete] = (...a: unknown[]) => {
      seen.push(['head', common.methods[a[3] as number], a[4], a[2], a[7], a[8]]);
      return 0;
    };
    p[HTTPParser.kOnBody] = (...a: unknown[]) => seen.push(['body', a.length, String(a[0])]);
    p[HTTPParser.kOnMessageComplete] = () => seen.push(['done']);
    p[HTTPParser.kOnExecute] = () => {};
    const bytes = Buffer.from('POST /a?b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc');
    expect(p.execute(bytes)).toBe(bytes.length);
    expect(seen).toEqual([
      ['head', 'POST', '/a?b', ['Host', 'x', 'Content-Length', '3'], false, true],
      ['body', 1, 'abc'],
      ['done'],
    ]);
    p.close();
  });

  it('a Node without it, or with a parser missing a callback slot, fails naming the version and the fix', () => {
    expect(() => checkParser({}, 'v99.0.0')).toThrow(
      /HTTPParser; prepareError; methods missing in Node v99\.0\.0\): run WSS Studio on Node 20, 22 or 24/,
    );
    class Parser {
      static REQUEST = 1;
      static RESPONSE = 2;
      static kOnHeadersComplete = 2;
      static kOnMessageComplete = 4;
    }
    expect(() =>
      checkParser(
        { ...common, HTTPParser: Parser as unknown as typeof common.HTTPParser },
        'v99.0.0',
      ),
    ).toThrow(/kOnHeaders, kOnBody missing in Node v99\.0\.0/);
  });
});
