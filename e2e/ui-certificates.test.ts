// Certificates screen in Chromium: live validation names the bad value and nothing is created;
// a PKCS#12 export from the UI opens with `openssl pkcs12` and the password typed into the dialog.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../shared/client';
import { shoot, startUi, type UiRig } from './helpers/ui';
import { requireTool, runTool, snapshotTree } from './helpers/tools';

let rig: UiRig;
let api: Client;

beforeAll(async () => {
  requireTool('openssl');
  rig = await startUi({ route: '#/certificates' });
  api = await rig.api();
  await api.call('ca.create', { keyType: 'ecdsa' });
  await rig.page.reload();
  await rig.page.getByRole('heading', { level: 1, name: 'Certificates' }).waitFor();
}, 180_000);

afterAll(async () => {
  await rig?.close();
});

describe('Certificates screen', () => {
  it('shows the engine verdict inline, naming the bad value, and creates nothing', async () => {
    const { page } = rig;
    // The page's first trust.status (at load) refreshes the trust-state cache: let it land first, so that
    // the snapshot below compares only what the bad input could have written.
    await expect
      .poll(() => fs.existsSync(path.join(rig.home, 'trust-cache.json')), { timeout: 15_000 })
      .toBe(true);
    const before = snapshotTree(rig.home);
    await page.getByRole('button', { name: 'Issue certificate' }).click();
    const input = page.locator('input[name="names"]');
    await input.fill('localhost https://app.test');
    const bad = page.locator('#name-verdicts li[data-name="https://app.test"]');
    await expect.poll(() => bad.innerText(), { timeout: 10_000 }).toContain('"https://app.test"');
    expect(await bad.innerText()).toMatch(/URL, not a host name/);
    // The good name is accepted with its kind.
    await expect
      .poll(() => page.locator('#name-verdicts li[data-name="localhost"]').innerText(), {
        timeout: 10_000,
      })
      .toContain('dns');
    expect(await input.getAttribute('aria-invalid')).toBe('true');
    const issue = page.getByRole('button', { name: 'Issue', exact: true });
    expect(await issue.isDisabled()).toBe(true);
    // Enter in the field does not get past the disabled submit either.
    await input.press('Enter');
    await shoot(page, 'certificates-issue-invalid');
    expect(await api.call('cert.list')).toEqual([]);
    expect(snapshotTree(rig.home)).toEqual(before);

    // Fixing the value enables Issue, and issuing works.
    await input.fill('localhost 127.0.0.1 ::1');
    await expect.poll(() => issue.isDisabled(), { timeout: 10_000 }).toBe(false);
    await issue.click();
    await page.locator('tr[data-cert]').first().waitFor();
    expect((await api.call('cert.list')).map((l) => l.names)).toEqual([
      ['localhost', '127.0.0.1', '::1'],
    ]);
  });

  it('exports PKCS#12 with the typed password; openssl opens it with that password only', async () => {
    const { page } = rig;
    const [leaf] = await api.call('cert.list');
    expect(leaf).toBeDefined();
    await page.locator(`tr[data-cert="${leaf!.id}"] button.link`).click();
    await page.getByRole('region', { name: 'Certificate details' }).waitFor();
    await shoot(page, 'certificates-details');

    await page.getByRole('button', { name: 'PKCS#12 bundle' }).click();
    const dialog = page.getByRole('dialog', { name: 'PKCS#12 password' });
    await dialog.waitFor();
    const exportBtn = dialog.getByRole('button', { name: 'Export .p12' });
    // No password, or two different ones: the export stays disabled.
    expect(await exportBtn.isDisabled()).toBe(true);
    const password = 's3cret-pw';
    await dialog.locator('input[name="p12-password"]').fill(password);
    await dialog.locator('input[name="p12-confirm"]').fill(password + 'x');
    expect(await exportBtn.isDisabled()).toBe(true);
    await dialog.locator('input[name="p12-confirm"]').fill(password);
    await shoot(page, 'certificates-p12-dialog');
    // Enter in the password field submits, like the button.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      dialog.locator('input[name="p12-confirm"]').press('Enter'),
    ]);
    const file = path.join(rig.root, download.suggestedFilename());
    await download.saveAs(file);
    expect(file).toMatch(/\.p12$/);
    expect(fs.statSync(file).size).toBeGreaterThan(200);

    const ok = runTool('openssl', ['pkcs12', '-in', file, '-passin', `pass:${password}`, '-nodes']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('BEGIN CERTIFICATE');
    expect(ok.stdout).toContain('PRIVATE KEY');
    expect(ok.stdout).toContain(leaf!.commonName);
    const wrong = runTool('openssl', ['pkcs12', '-in', file, '-passin', 'pass:wrong', '-nodes']);
    expect(wrong.status).not.toBe(0);

    // The export ends with copy-ready commands.
    const usage = page.locator('.usage .cmd code');
    await usage.first().waitFor();
    expect((await usage.allInnerTexts()).join('\n')).toMatch(/openssl|curl|wscat|node/);
    await shoot(page, 'certificates-exported');
  });
});

describe('renew and delete', () => {
  it('asks before renewing and deleting; cancel changes nothing, confirm does', async () => {
    const { page } = rig;
    const [leaf] = await api.call('cert.list');
    // A running server uses it: after the renewal the screen offers to restart it with the new one.
    const srv = await api.call('server.add', { name: 'uses it', scheme: 'wss', certId: leaf!.id });
    await api.call('server.start', { id: srv.id });
    await page.reload();
    await page.locator(`tr[data-cert="${leaf!.id}"] button.link`).click();
    const details = page.getByRole('region', { name: 'Certificate details' });

    await details.getByRole('button', { name: 'Renew' }).click();
    const renew = page.getByRole('dialog', { name: 'Renew certificate?' });
    await renew.getByRole('button', { name: 'Renew' }).click();
    await renew.waitFor({ state: 'hidden' });
    const renewed = await api.call('cert.list');
    expect(renewed).toHaveLength(1);
    expect(renewed[0]!.names).toEqual(leaf!.names);
    expect(renewed[0]!.serialHex).not.toBe(leaf!.serialHex);
    const notice = details.locator('[data-renewal]');
    await notice.waitFor();
    // The .p12 exported above is named as stale.
    expect(await notice.innerText()).toMatch(
      /exported before this renewal are stale[\s\S]*\.p12 \(p12,/,
    );
    const startedBefore = (await api.call('server.list')).find((x) => x.id === srv.id)!.startedAt;
    await shoot(page, 'certificates-renewed');
    await notice.getByRole('button', { name: 'Restart uses it' }).click();
    await notice.getByText('restarted with the new certificate').waitFor();
    const after = (await api.call('server.list')).find((x) => x.id === srv.id)!;
    expect(after.state).toBe('running');
    expect(after.startedAt).not.toBe(startedBefore);
    await api.call('server.remove', { id: srv.id });

    await details.getByRole('button', { name: 'Delete' }).click();
    const del = page.getByRole('dialog', { name: 'Delete certificate?' });
    expect(await del.innerText()).toContain('private key');
    await shoot(page, 'certificates-delete-confirm');
    await del.getByRole('button', { name: 'Cancel' }).click();
    await del.waitFor({ state: 'hidden' });
    expect(await api.call('cert.list')).toHaveLength(1);

    await details.getByRole('button', { name: 'Delete' }).click();
    await del.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No certificates yet.').waitFor();
    expect(await api.call('cert.list')).toEqual([]);
    expect(fs.existsSync(renewed[0]!.certPath)).toBe(false);
  });
});
