// A request to the https:// front (HTTP/2, or HTTP/1.1 over TLS) as a PublicExchange: Node's compatibility
// request and response behind the interface the http:// side (h1-server.ts) implements on the socket.
import http from 'node:http';
import http2 from 'node:http2';
import { framesBody, headerObject } from './http-headers';
import type { PublicExchange } from './h1-server';

const { NGHTTP2_INTERNAL_ERROR } = http2.constants;

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

export function nodeExchange(req: Req, res: Res): PublicExchange {
  const h1 = req instanceof http.IncomingMessage;
  // HTTP/2 frames a body without Content-Length or Transfer-Encoding: its HEADERS frame says whether one follows.
  const bodyless = h1
    ? !framesBody(req.rawHeaders)
    : (req as http2.Http2ServerRequest).stream.endAfterHeaders;
  req.on('error', () => res.destroy());
  return {
    method: req.method ?? 'GET',
    path: req.url ?? '/',
    rawHeaders: req.rawHeaders,
    remoteAddress: req.socket.remoteAddress ?? '',
    http10: req.httpVersion === '1.0',
    bodyless,
    get headersSent() {
      return res.headersSent;
    },
    readBody(data, end) {
      req.on('data', (chunk: Buffer) => {
        if (!data(chunk)) req.pause();
      });
      req.on('end', end);
    },
    resumeBody() {
      req.resume();
    },
    hints(links) {
      try {
        res.writeEarlyHints({ link: links });
      } catch {
        // an invalid Link value (ERR_INVALID_ARG_VALUE)
      }
    },
    head(status, message, lines) {
      try {
        if (res instanceof http.ServerResponse) res.writeHead(status, message, lines);
        // HTTP/2 has no reason phrase, and one value for some headers: Node's header object rules (the first
        // of a repeated single-value header is kept) are what it can carry.
        else res.writeHead(status, headerObject(lines));
      } catch (err) {
        // Nothing of a head that failed half-way goes out with the error page.
        for (const h of res.getHeaderNames()) res.removeHeader(h);
        throw err;
      }
    },
    write(chunk) {
      return (res as NodeJS.WritableStream).write(chunk);
    },
    end(chunk) {
      if (chunk) res.end(chunk);
      else res.end();
    },
    destroy() {
      // An HTTP/2 stream destroyed without an error is reset with NO_ERROR, which Node's client and Chromium
      // take as the end of the answer: a body the target cut short reached them as whole. INTERNAL_ERROR
      // says it failed (as a cut HTTP/1.1 connection does).
      if (h1) res.destroy();
      else (res as http2.Http2ServerResponse).stream.close(NGHTTP2_INTERNAL_ERROR);
    },
    onDrain(cb) {
      res.on('drain', cb);
    },
    onDone(cb) {
      let called = false;
      const once = (finished: boolean) => {
        if (called) return;
        called = true;
        cb(finished);
      };
      res.on('finish', () => once(true));
      res.on('close', () => once(res.writableFinished));
    },
  };
}
