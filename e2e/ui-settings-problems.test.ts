// Servers screen in Chromium: a settings.json entry the engine skipped is named with the file, index, field
// and value, the good server is listed as usual, and the file is left as written.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shoot, startUi, type UiRig } from './helpers/ui';

const text = JSON.stringify({
  schema: 1,
  servers: [
    { id: 'good', name: 'good echo' },
    { id: 'bad', name: 'bad echo', port: 70000 },
  ],
});
let rig: UiRig;

beforeAll(async () => {
  rig = await startUi({ route: '#/servers', settings: text });
}, 180_000);

afterAll(async () => {
  await rig?.close();
});

describe('Servers screen: settings.json problems', () => {
  it('names the skipped entry and lists the good server', async () => {
    const { page } = rig;
    const file = path.join(rig.home, 'settings.json');
    await page.getByRole('heading', { level: 1, name: 'Servers' }).waitFor();
    const notice = page.getByTestId('settings-problems');
    await notice.waitFor({ timeout: 30_000 });
    expect(await notice.innerText()).toContain(
      `${JSON.stringify(file)} servers[1]: "port" must be from 0 to 65535 (got 70000)`,
    );
    await expect
      .poll(() => page.getByText('good echo').count(), { timeout: 15_000 })
      .toBeGreaterThan(0);
    expect(await page.getByText('bad echo').count()).toBe(0);
    await shoot(page, 'servers-settings-problems');
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  }, 120_000);
});
