// Lab results posted back by the lab page (POST /lab-results on the echo server that served it), so the
// app's Lab screen shows what the browser allowed without the user switching tabs.
//
// Anything can reach this endpoint, so the request is checked by shape before use: only the page's own
// origin (a browser always sends Origin on a POST; a page on another site cannot forge it), only JSON,
// at most LAB_BODY_MAX bytes, and a report whose every field is bounded. A failure is a status code and a
// one-line reason; nothing of the body is echoed back.
import type { LabReport, LabResult } from '../../shared/api';

export const LAB_RESULTS_PATH = '/lab-results';
export const LAB_BODY_MAX = 64 * 1024;
const MAX_RESULTS = 64;
const STATUSES: readonly string[] = ['echoed', 'blocked', 'failed', 'timeout', 'pending'];

export type LabCheck =
  { ok: true; report: LabReport } | { ok: false; status: number; reason: string };

/**
 * The origin the lab page has when served by this server: scheme from the server, host from the request
 * (the page may be opened as localhost, 127.0.0.1 or a mapped name).
 */
export function expectedOrigin(
  scheme: 'ws' | 'wss',
  hostHeader: string | undefined,
): string | null {
  if (!hostHeader || !/^[A-Za-z0-9.[\]:-]{1,300}$/.test(hostHeader)) return null;
  return `${scheme === 'wss' ? 'https' : 'http'}://${hostHeader.toLowerCase()}`;
}

const str = (x: unknown, max: number): x is string => typeof x === 'string' && x.length <= max;

/** Validates one posted report; `now` stamps when it arrived. */
export function checkLabReport(
  scheme: 'ws' | 'wss',
  headers: { origin?: string; host?: string; contentType?: string },
  body: string,
  now = new Date(),
): LabCheck {
  const want = expectedOrigin(scheme, headers.host);
  if (!want || headers.origin?.toLowerCase() !== want)
    return { ok: false, status: 403, reason: 'only the lab page of this server may post results' };
  if (!/^application\/json\b/i.test(headers.contentType ?? ''))
    return { ok: false, status: 415, reason: 'results must be application/json' };
  if (Buffer.byteLength(body) > LAB_BODY_MAX)
    return { ok: false, status: 413, reason: `results are limited to ${LAB_BODY_MAX} bytes` };
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return { ok: false, status: 400, reason: 'results are not valid JSON' };
  }
  const o = raw as Record<string, unknown> | null;
  if (!o || typeof o !== 'object' || typeof o.secure !== 'boolean' || !Array.isArray(o.results))
    return { ok: false, status: 400, reason: 'expected {"secure": boolean, "results": [...]}' };
  if (o.results.length > MAX_RESULTS)
    return { ok: false, status: 400, reason: `at most ${MAX_RESULTS} results` };
  const results: LabResult[] = [];
  for (const x of o.results as unknown[]) {
    const r = x as Record<string, unknown> | null;
    if (
      !r ||
      typeof r !== 'object' ||
      !str(r.url, 2048) ||
      !/^wss?:\/\//.test(r.url) ||
      (r.scheme !== 'ws' && r.scheme !== 'wss') ||
      !str(r.host, 300) ||
      typeof r.loopback !== 'boolean' ||
      typeof r.status !== 'string' ||
      !STATUSES.includes(r.status) ||
      !str(r.why, 2000)
    )
      return { ok: false, status: 400, reason: 'a result does not have the expected shape' };
    results.push({
      url: r.url,
      scheme: r.scheme,
      host: r.host,
      loopback: r.loopback,
      status: r.status as LabResult['status'],
      why: r.why,
    });
  }
  return { ok: true, report: { page: want, secure: o.secure, at: now.toISOString(), results } };
}
