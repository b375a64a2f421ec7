import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EchoServer } from './echo-server';
import { FrameLog } from './frame-log';
import { checkLabReport, LAB_BODY_MAX } from './lab-results';
import { normalizeDefinition } from './validation';
import type { LabReport } from '../../shared/api';

const good = {
  secure: false,
  results: [
    {
      url: 'ws://localhost:1234/',
      scheme: 'ws',
      host: 'localhost',
      loopback: true,
      status: 'echoed',
      why: 'ok',
    },
  ],
};
const hdr = (origin = 'http://localhost:1234') => ({
  origin,
  host: 'localhost:1234',
  contentType: 'application/json',
});

describe('lab results: checked by origin, type, size and shape', () => {
  it('accepts the lab page of this server and stamps the report', () => {
    const r = checkLabReport('ws', hdr(), JSON.stringify(good), new Date(0));
    expect(r).toEqual({
      ok: true,
      report: {
        page: 'http://localhost:1234',
        secure: false,
        at: new Date(0).toISOString(),
        results: good.results,
      },
    });
  });

  it('refuses another origin, a wrong scheme, no origin, non-JSON, oversize and bad shapes', () => {
    const body = JSON.stringify(good);
    expect(checkLabReport('ws', hdr('https://evil.example'), body)).toMatchObject({
      ok: false,
      status: 403,
    });
    expect(checkLabReport('wss', hdr(), body)).toMatchObject({ ok: false, status: 403 });
    expect(
      checkLabReport('ws', { host: 'localhost:1234', contentType: 'application/json' }, body),
    ).toMatchObject({ ok: false, status: 403 });
    expect(checkLabReport('ws', { ...hdr(), contentType: 'text/plain' }, body)).toMatchObject({
      ok: false,
      status: 415,
    });
    expect(checkLabReport('ws', hdr(), 'x'.repeat(LAB_BODY_MAX + 1))).toMatchObject({
      ok: false,
      status: 413,
    });
    expect(checkLabReport('ws', hdr(), '{nope')).toMatchObject({ ok: false, status: 400 });
    const bad = (patch: Record<string, unknown>) =>
      JSON.stringify({ ...good, results: [{ ...good.results[0], ...patch }] });
    for (const patch of [
      { status: 'pwned' },
      { url: 'javascript:alert(1)' },
      { why: 'x'.repeat(2001) },
      { loopback: 'yes' },
      { scheme: 'http' },
    ])
      expect(checkLabReport('ws', hdr(), bad(patch)), JSON.stringify(patch)).toMatchObject({
        ok: false,
        status: 400,
      });
    const many = JSON.stringify({ secure: true, results: Array(65).fill(good.results[0]) });
    expect(checkLabReport('ws', hdr(), many)).toMatchObject({ ok: false, status: 400 });
  });
});

describe('POST /lab-results on a real echo server', () => {
  let server: EchoServer;
  let port: number;
  const got: LabReport[] = [];
  beforeAll(async () => {
    server = new EchoServer({
      definition: normalizeDefinition({ id: 'lab', port: 0 }),
      log: new FrameLog(),
      onLabReport: (r) => got.push(r),
    });
    port = await server.start();
  });
  afterAll(() => server?.stop());

  const post = (body: string, origin: string) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path: '/lab-results',
          method: 'POST',
          headers: {
            Origin: origin,
            'Content-Type': 'application/json',
            Host: `localhost:${port}`,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', (e) =>
        e.message.includes('EPIPE') || e.message.includes('ECONNRESET') ? resolve(413) : reject(e),
      );
      req.end(body);
    });

  it('hands a same-origin report over and answers 204; refuses cross-origin and oversize', async () => {
    expect(await post(JSON.stringify(good), `http://localhost:${port}`)).toBe(204);
    expect(got).toHaveLength(1);
    expect(got[0]?.page).toBe(`http://localhost:${port}`);
    expect(await post(JSON.stringify(good), 'http://evil.example')).toBe(403);
    expect(await post('x'.repeat(LAB_BODY_MAX * 2), `http://localhost:${port}`)).toBe(413);
    expect(got).toHaveLength(1);
  });
});
