// A request on an HTTP/2 stream of the https:// front as a PublicExchange (h1-server.ts), through Node's
// core HTTP/2 API (the stream and its header list) rather than its compatibility request and response
// objects: a page over HTTP/2 asks for its modules all at once, and the proxy's CPU per request is on the
// load's critical path (bench/proxy.mjs, page load).
import http2 from 'node:http2';
import { headerObject } from './http-headers';
import type { PublicExchange } from './h1-server';

export function h2Exchange(
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  rawHeaders: string[],
): PublicExchange & { malformed?: string } {
  let ended = false;
  // A stream the client reset: its error is the close below (without a listener it would end the process).
  stream.on('error', () => {});
  const host = headers.host;
  const authority = headers[':authority'];
  // RFC 9113 8.3.1: a Host that names another entity than :authority makes the request malformed. The
  // target was told the Host (X-Forwarded-Host, or Host with preserveHost) while HTTP/2 routes by :authority.
  const malformed =
    typeof host === 'string' &&
    typeof authority === 'string' &&
    host.toLowerCase() !== authority.toLowerCase()
      ? `its Host ${JSON.stringify(host.slice(0, 200))} differs from its :authority ${JSON.stringify(authority.slice(0, 200))}`
      : undefined;
  return {
    ...(malformed !== undefined ? { malformed } : {}),
    method: String(headers[':method'] ?? 'GET'),
    path: String(headers[':path'] ?? '/'),
    rawHeaders,
    remoteAddress: stream.session?.socket?.remoteAddress ?? '',
    http10: false,
    // HTTP/2 frames a body without Content-Length: the HEADERS frame says whether one follows.
    bodyless: stream.endAfterHeaders,
    get headersSent() {
      return stream.headersSent;
    },
    readBody(data, end) {
      stream.on('data', (chunk: Buffer) => {
        if (!data(chunk)) stream.pause();
      });
      stream.on('end', end);
    },
    resumeBody() {
      stream.resume();
    },
    hints(links) {
      try {
        stream.additionalHeaders({ ':status': 103, link: links });
      } catch {
        // the stream is gone, or a value nghttp2 will not send: a hint is not worth failing the request for
      }
    },
    head(status, _message, lines) {
      // No reason phrase in HTTP/2, and one value for some headers: Node's rules for an incoming message's
      // header object (the first of a repeated single-value header is kept).
      const h: http2.OutgoingHttpHeaders = headerObject(lines);
      // RFC 9110 8.6: no Content-Length on a 204. HTTP/1.1 clients shrug one off; nghttp2 (Node's client,
      // Chromium) reset the stream with PROTOCOL_ERROR, so the client got no answer and the log said 204.
      if (status === 204) delete h['content-length'];
      h[':status'] = status;
      stream.respond(h);
    },
    write(chunk) {
      return stream.write(chunk);
    },
    end(chunk) {
      ended = true;
      if (chunk) stream.end(chunk);
      else stream.end();
    },
    destroy() {
      // A stream destroyed without an error is reset with NO_ERROR, and close(code) first ends it (END_STREAM):
      // Node's client and Chromium took either as the end of the answer, so a body the target cut short
      // reached them as whole. Destroyed with an error, it is reset with INTERNAL_ERROR and nothing else is
      // sent: it failed, as a cut HTTP/1.1 connection does.
      stream.destroy(new Error('the answer was cut short'));
    },
    onDrain(cb) {
      stream.on('drain', cb);
    },
    onDone(cb) {
      // Not 'finish': Node ends the writable side of a stream the client (or nghttp2, for a body longer than
      // its Content-Length) reset, so 'finish' came for those too; they were logged as answered, and the
      // target kept its socket waiting for the rest of the body. Nor writableFinished at 'close': an answer
      // sent whole while the client was still uploading closed before its shutdown completed, and was logged
      // CLIENT_GONE. The answer went out whole when it was ended and the stream closed without an error code.
      stream.once('close', () => cb(ended && stream.rstCode === http2.constants.NGHTTP2_NO_ERROR));
    },
  };
}
