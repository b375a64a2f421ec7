// The plain HTTP side of an echo server: the lab page at /, the lab page's results POSTed back, a 426 on the
// WebSocket path and a 404 elsewhere; and the HTTP answer for a refused upgrade.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { LabReport } from '../../shared/api';
import { renderLabPage, type LabTarget } from './lab-page';
import { checkLabReport, LAB_BODY_MAX, LAB_RESULTS_PATH } from './lab-results';
import type { ServerDefinition } from './types';

export interface PagesOptions {
  definition: ServerDefinition;
  /** Servers the lab page should try. */
  labTargets: () => LabTarget[];
  /** A lab page served by this server posted its results (already checked by shape and origin). */
  onLabReport: ((report: LabReport) => void) | undefined;
}

const BASE_HEADERS = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };

/** Answer one HTTP request that is not a WebSocket upgrade. */
export function answerRequest(
  opts: PagesOptions,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): void {
  const def = opts.definition;
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const headers = BASE_HEADERS;
  if ((req.method === 'GET' || req.method === 'HEAD') && path === '/') {
    const page = renderLabPage(opts.labTargets());
    res.writeHead(200, {
      ...headers,
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': page.csp,
      'Referrer-Policy': 'no-referrer',
    });
    res.end(req.method === 'HEAD' ? undefined : page.html);
    return;
  }
  if (req.method === 'POST' && path === LAB_RESULTS_PATH) {
    receiveLabReport(opts, req, res);
    return;
  }
  if (path === def.path) {
    res.writeHead(426, {
      ...headers,
      'Content-Type': 'text/plain; charset=utf-8',
      Upgrade: 'websocket',
    });
    res.end(
      `This is a WebSocket endpoint: connect with ${def.scheme}:// (the lab page is at /).\n`,
    );
    return;
  }
  res.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`Not found. The WebSocket endpoint is ${def.path} and the lab page is /.\n`);
}

/** POST /lab-results: read at most LAB_BODY_MAX bytes, check, hand over; answer with a status only. */
function receiveLabReport(
  opts: PagesOptions,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): void {
  const headers = BASE_HEADERS;
  const answer = (status: number, text: string) => {
    if (res.headersSent) return;
    res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(text + '\n');
  };
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > LAB_BODY_MAX) {
      answer(413, `results are limited to ${LAB_BODY_MAX} bytes`);
      req.destroy();
      return;
    }
    chunks.push(c);
  });
  req.on('error', () => {});
  req.on('end', () => {
    if (size > LAB_BODY_MAX) return;
    const origin = req.headers.origin;
    const contentType = req.headers['content-type'];
    const check = checkLabReport(
      opts.definition.scheme,
      {
        ...(origin !== undefined ? { origin } : {}),
        ...(req.headers.host !== undefined ? { host: req.headers.host } : {}),
        ...(contentType !== undefined ? { contentType } : {}),
      },
      Buffer.concat(chunks).toString('utf8'),
    );
    if (!check.ok) return answer(check.status, check.reason);
    opts.onLabReport?.(check.report);
    res.writeHead(204, headers);
    res.end();
  });
}

/** Answer a request on a raw socket (refused upgrade, mTLS refusal) with a status and a text body, and close. */
export function refuse(socket: Duplex, status: number, text: string, message: string): void {
  const body = message + '\n';
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
