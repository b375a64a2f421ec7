// Node's HTTP/1.1 parser for h1-server.ts and h1-client.ts, from the built-in `_http_common` (declared in
// http-common.d.ts): the parser http.Server and http.request use. It is not a documented API, so what the
// proxy relies on is checked once, when the engine loads it: a Node or Electron whose parser differs fails
// here with its version named, not later as a garbled request.
import * as common from '_http_common';

/** What of `_http_common` the proxy uses is there, or the error naming this Node and what to run instead. */
export function checkParser(m: Partial<typeof common>, version = process.version): void {
  const P = m.HTTPParser;
  const missing = [
    typeof P !== 'function' && 'HTTPParser',
    typeof P === 'function' &&
      ['REQUEST', 'RESPONSE', 'kOnHeaders', 'kOnHeadersComplete', 'kOnBody', 'kOnMessageComplete']
        .filter((k) => typeof (P as unknown as Record<string, unknown>)[k] !== 'number')
        .join(', '),
    typeof m.prepareError !== 'function' && 'prepareError',
    !Array.isArray(m.methods) && 'methods',
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new Error(
      `the proxy needs Node's HTTP parser (_http_common: ${missing.join('; ')} missing in Node ${version}): run WSS Studio on Node 20, 22 or 24`,
    );
  }
}

checkParser(common);

export { HTTPParser, prepareError, methods, type OnHeadersComplete } from '_http_common';
