// Certificates screen in Chromium: a certificate folder the engine cannot read is shown as a damaged row
// with its folder and what is wrong (not hidden as cert.list alone would), next to the healthy one, and
// its Delete removes that folder only.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../shared/client';
import { shoot, startUi, type UiRig } from './helpers/ui';

let rig: UiRig;
let api: Client;

beforeAll(async () => {
  rig = await startUi({ route: '#/certificates' });
  api = await rig.api();
  await api.call('ca.create', { keyType: 'ecdsa' });
}, 180_000);

afterAll(async () => {
  await rig?.close();
});

describe('Certificates screen: damaged certificates', () => {
  it('shows a damaged folder with its path and problem, and deletes only it', async () => {
    const { page } = rig;
    const good = (await api.call('cert.issue', { names: ['good.test'], keyType: 'ecdsa' })).leaf;
    const bad = (await api.call('cert.issue', { names: ['bad.test'], keyType: 'ecdsa' })).leaf;
    const badDir = path.join(rig.home, 'certs', bad.id);
    fs.writeFileSync(path.join(badDir, 'meta.json'), '{}');

    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Certificates' }).waitFor();
    const region = page.getByTestId('damaged-certs');
    await region.waitFor({ timeout: 30_000 });
    const row = region.locator(`tr[data-damaged="${bad.id}"]`);
    const text = await row.innerText();
    expect(text).toContain(badDir);
    expect(text).toMatch(/DAMAGED/);
    expect(text).toMatch(/meta\.json/);
    expect(text).toMatch(/"schema" is missing/);
    // The healthy certificate is still listed as usual.
    await page.locator(`tr[data-cert="${good.id}"]`).waitFor();
    expect(await page.locator('tr[data-cert]').count()).toBe(1);
    await region.scrollIntoViewIfNeeded();
    await shoot(page, 'certificates-damaged');

    await row.getByRole('button', { name: `Delete damaged certificate ${bad.id}` }).click();
    await row.getByRole('button', { name: 'Delete folder' }).click();
    await expect.poll(() => page.getByTestId('damaged-certs').count(), { timeout: 15_000 }).toBe(0);
    expect(fs.existsSync(badDir)).toBe(false);
    expect((await api.call('cert.list')).map((l) => l.id)).toEqual([good.id]);
    expect(await api.call('cert.damaged')).toEqual([]);
    expect(rig.output()).not.toMatch(/TypeError/);
  }, 120_000);
});
