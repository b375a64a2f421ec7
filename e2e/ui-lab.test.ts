// Lab results come back into the app: the lab page (opened in Chromium, as a user would) posts what the
// browser allowed to the server that served it, the Lab screen shows each attempt, and the "why" of a
// failed one opens the Doctor screen on that URL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../shared/client';
import { axe, axeReport, goTo, shoot, startUi, type UiRig } from './helpers/ui';

let rig: UiRig;
let api: Client;
let lab: string;

beforeAll(async () => {
  rig = await startUi({ route: '#/lab', viewport: { width: 1280, height: 800 } });
  api = await rig.api();
  const s = await api.call('server.add', { name: 'lab echo', scheme: 'ws', port: 0 });
  lab = (await api.call('server.start', { id: s.id })).labUrl!;
  await rig.page.reload();
  await rig.page.getByRole('heading', { level: 1, name: 'Lab' }).waitFor();
}, 180_000);

afterAll(async () => {
  await rig?.close();
});

describe('Lab screen', () => {
  it('shows the results the lab page posted back, and links a failure to the Doctor', async () => {
    const { page } = rig;
    expect(await api.call('lab.results')).toBeNull();
    // ".invalid" never resolves (RFC 6761): a real failure, without leaving the machine.
    const tab = await rig.context.newPage();
    await tab.goto(`${lab}?alt=nowhere.invalid`);
    await expect
      .poll(() => tab.evaluate('window.__lab && window.__lab.posted'), { timeout: 30_000 })
      .toBe(204)
      .catch(async (e: unknown) => {
        throw new Error(
          `${String(e)}\n${JSON.stringify(await tab.evaluate('window.__lab'))}\n${rig.output()}`,
        );
      });
    await tab.close();

    const rows = page.locator('table.results tbody tr');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    const ok = page.locator('tr[data-status="echoed"]').first();
    expect(await ok.locator('code').innerText()).toMatch(/^ws:\/\/(localhost|127\.0\.0\.1):\d+\/$/);
    const failed = page.locator('tr[data-status="failed"]').first();
    const url = await failed.getAttribute('data-url');
    expect(url).toMatch(/^ws:\/\/nowhere\.invalid:\d+\/$/);
    expect(await failed.innerText()).toContain('Doctor screen');
    const violations = await axe(page);
    expect(violations, axeReport(violations)).toEqual([]);
    await shoot(page, 'lab-results');

    await failed.getByRole('button', { name: /Why\? Run the Doctor/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Doctor' }).waitFor();
    expect(await page.locator('input[name="doctor-url"]').inputValue()).toBe(url);
    await goTo(page, 'Lab');
  });
});
