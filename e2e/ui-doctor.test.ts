// Doctor screen in Chromium: wss:// aimed at a plain ws:// port shows, step by step, that the port speaks
// plain HTTP, with the ERR_SSL_PROTOCOL_ERROR explanation and the fix; the right scheme passes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../shared/client';
import { shoot, startUi, type UiRig } from './helpers/ui';

let rig: UiRig;
let api: Client;
let port: number;

beforeAll(async () => {
  rig = await startUi({ route: '#/doctor' });
  api = await rig.api();
  const s = await api.call('server.add', { name: 'plain', scheme: 'ws', port: 0 });
  port = (await api.call('server.start', { id: s.id })).port!;
  await rig.page.reload();
  await rig.page.getByRole('heading', { level: 1, name: 'Doctor' }).waitFor();
}, 180_000);

afterAll(async () => {
  await rig?.close();
});

describe('Doctor screen', () => {
  it('explains wss:// on a plain port as ERR_SSL_PROTOCOL_ERROR, and passes ws://', async () => {
    const { page } = rig;
    await page.locator('input[name="doctor-url"]').fill(`wss://127.0.0.1:${port}/`);
    await page.getByRole('button', { name: 'Diagnose' }).click();
    const verdict = page.locator('[data-verdict]');
    await verdict.waitFor({ timeout: 30_000 });
    expect(await verdict.getAttribute('data-verdict')).toBe('fail');
    const failing = page.locator('li.step[data-status="fail"]');
    expect(await failing.count()).toBe(1);
    expect(await failing.getAttribute('data-code')).toBe('TLS_ON_PLAIN_PORT');
    const text = await failing.innerText();
    expect(text).toContain('ERR_SSL_PROTOCOL_ERROR');
    expect(text).toMatch(/Fix:.*ws:\/\//s);
    // Steps before it passed and are shown too (URL, name, TCP).
    expect(await page.locator('li.step[data-status="pass"]').count()).toBeGreaterThanOrEqual(2);
    await shoot(page, 'doctor-tls-on-plain-port');

    await page.locator('input[name="doctor-url"]').fill(`ws://127.0.0.1:${port}/`);
    await page.getByRole('button', { name: 'Diagnose' }).click();
    await expect.poll(() => verdict.getAttribute('data-verdict'), { timeout: 30_000 }).toBe('ok');
    expect(await page.locator('li.step[data-status="fail"]').count()).toBe(0);
  });
});
