// Web mode refuses what the issue says it must, each case isolating ONE check: the other headers are right,
// so the test fails if that one check is removed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRig, httpGet, upgradeStatus, type WebRig } from './helpers/web';

let rig: WebRig;
let host: string;
let origin: string;

beforeAll(async () => {
  rig = await startRig();
  host = `127.0.0.1:${rig.web.port}`;
  origin = `http://${host}`;
});
afterAll(async () => {
  await rig?.close();
});

describe('HTTP', () => {
  it('serves the page with a strict CSP and no-referrer, and never sets a cookie', async () => {
    for (const pathAndQuery of [`/?token=${rig.web.token}`, '/', '/assets/app.js']) {
      const r = await httpGet(rig.web.port, pathAndQuery, { Host: host });
      expect(r.status, pathAndQuery).toBe(200);
      // Cookies are not isolated by port: one carrying the token would reach every server on 127.0.0.1.
      expect(r.headers['set-cookie'], pathAndQuery).toBeUndefined();
      expect(r.body).not.toContain(rig.web.token);
      const csp = String(r.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*unsafe/);
      expect(r.headers['referrer-policy']).toBe('no-referrer');
    }
    const asset = await httpGet(rig.web.port, '/assets/app.js', { Host: host });
    expect(asset.headers['content-type']).toContain('javascript');
  });

  it('refuses a forged Host (DNS rebinding) even with the right token', async () => {
    const r = await httpGet(rig.web.port, `/?token=${rig.web.token}`, {
      Host: `evil.example:${rig.web.port}`,
    });
    expect(r.status).toBe(421);
    expect(r.body).not.toContain(rig.web.token);
    // Our address on another port is not us either.
    expect(
      (await httpGet(rig.web.port, `/?token=${rig.web.token}`, { Host: '127.0.0.1:1' })).status,
    ).toBe(421);
    // localhost and [::1] on our port are.
    expect(
      (
        await httpGet(rig.web.port, `/?token=${rig.web.token}`, {
          Host: `localhost:${rig.web.port}`,
        })
      ).status,
    ).toBe(200);
  });

  it('refuses a foreign Origin even with the right token and Host', async () => {
    const r = await httpGet(rig.web.port, `/?token=${rig.web.token}`, {
      Host: host,
      Origin: 'http://evil.example',
    });
    expect(r.status).toBe(403);
    const same = await httpGet(rig.web.port, `/?token=${rig.web.token}`, {
      Host: host,
      Origin: origin,
    });
    expect(same.status).toBe(200);
  });

  it('does not serve files outside the renderer folder', async () => {
    const r = await httpGet(rig.web.port, `/..%2f..%2fhome/settings.json?token=${rig.web.token}`, {
      Host: host,
    });
    expect([403, 404]).toContain(r.status);
    expect(r.body).not.toContain('schema');
  });
});

describe('RPC upgrade at /rpc', () => {
  it('accepts the right token, Host and Origin', async () => {
    expect(
      await upgradeStatus(rig.web.port, `/rpc?token=${rig.web.token}`, {
        Host: host,
        Origin: origin,
      }),
    ).toBe(101);
  });
  it('refuses the old session cookie: no cookie is a credential, with or without Origin', async () => {
    const cookie = `wss_studio_${rig.web.port}=${rig.web.token}`;
    expect(
      await upgradeStatus(rig.web.port, '/rpc', { Host: host, Origin: origin, Cookie: cookie }),
    ).toBe(401);
    // What a local listener the browser visited could replay: the cookie and no Origin.
    expect(await upgradeStatus(rig.web.port, '/rpc', { Host: host, Cookie: cookie })).toBe(403);
  });
  it('refuses a handshake without Origin even with the right token (browsers always send one)', async () => {
    expect(await upgradeStatus(rig.web.port, `/rpc?token=${rig.web.token}`, { Host: host })).toBe(
      403,
    );
  });
  it('refuses a handshake without the token', async () => {
    expect(await upgradeStatus(rig.web.port, '/rpc', { Host: host, Origin: origin })).toBe(401);
  });
  it('refuses a wrong token', async () => {
    expect(
      await upgradeStatus(rig.web.port, '/rpc?token=nope', { Host: host, Origin: origin }),
    ).toBe(401);
  });
  it('refuses a forged Host', async () => {
    expect(
      await upgradeStatus(rig.web.port, `/rpc?token=${rig.web.token}`, {
        Host: `rebind.example:${rig.web.port}`,
        Origin: `http://rebind.example:${rig.web.port}`,
      }),
    ).toBe(421);
  });
  it('refuses a foreign Origin (cross-site WebSocket hijacking), even with the token', async () => {
    expect(
      await upgradeStatus(rig.web.port, `/rpc?token=${rig.web.token}`, {
        Host: host,
        Origin: `http://127.0.0.1:${rig.web.port + 1}`,
      }),
    ).toBe(403);
  });
  it('refuses a WebSocket on any other path', async () => {
    expect(await upgradeStatus(rig.web.port, `/other?token=${rig.web.token}`, { Host: host })).toBe(
      403,
    );
  });
});
