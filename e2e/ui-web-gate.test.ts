// What the page shows for web mode's gates, in Chromium against the real `wss-studio ui` (no --allow-*
// flags): the first-run flow with an unconstrained CA fails at its CA step with the flag that unlocks it,
// and a tab opened without the token shows where to get one.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../main/engine';
import { shoot, startUi, type UiRig } from './helpers/ui';

let rig: UiRig;

beforeAll(async () => {
  rig = await startUi();
}, 180_000);

afterAll(async () => {
  await rig?.close();
});

describe('web mode gates in the page', () => {
  it('an unconstrained CA from the first-run flow fails with the flag that allows it', async () => {
    const { page } = rig;
    await page.getByRole('heading', { name: 'Make localhost trusted' }).waitFor();
    await page.getByText('Certificate authority options').click();
    await page.getByLabel('Name-constrained (recommended)').uncheck();
    await page.getByRole('button', { name: 'Make localhost trusted' }).click();
    const ca = page.getByRole('list', { name: 'First-run progress' }).locator('[data-step="ca"]');
    await ca.and(page.locator('[data-state="failed"]')).waitFor({ timeout: 30_000 });
    const text = await ca.innerText();
    expect(text, rig.output()).toContain('--allow-unconstrained');
    expect(fs.existsSync(path.join(rig.home, 'ca'))).toBe(false);
    await shoot(page, 'web-gate-unconstrained');
  });

  it('a tab without the token shows "Open the URL printed in the terminal"', async () => {
    const tab = await rig.context.newPage();
    await tab.goto(`http://127.0.0.1:${rig.port}/`);
    await tab.getByRole('heading', { name: 'Open the URL printed in the terminal' }).waitFor();
    await shoot(tab, 'web-no-token');
    await tab.close();
  });

  it('a CA whose permit list covers public sites shows the same warning as an unconstrained one', async () => {
    // Made outside the page (as the CLI would), then shown by it.
    const engine = createEngine({
      home: rig.home,
      shell: 'test',
      env: { ...process.env, HOME: rig.userHome },
    });
    const r = await engine.call('ca.create', { keyType: 'ecdsa', permitted: ['.test', 'com'] });
    await engine.close();
    expect(r.ok).toBe(true);
    const { page } = rig;
    await page.reload();
    const warning = page.getByTestId('ca-warning');
    await warning.waitFor({ timeout: 20_000 });
    expect(await warning.innerText()).toMatch(/names include "com"/);
    expect(await page.getByText('effectively global').count()).toBeGreaterThan(0);
    await shoot(page, 'web-ca-global-permit');
  });
});
