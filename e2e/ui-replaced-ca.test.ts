// The Overview offers to remove a replaced CA that a trust store still trusts: set up from the CLI
// (ca init, trust install, ca init --force, trust install) against the same state folder and a temp NSS
// database, seen and acted on in Chromium against web mode, checked with certutil.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { nssFingerprints as nssFingerprintsOf, runCli, runTool } from './helpers/tools';
import { shoot, startUi, type UiRig } from './helpers/ui';

let rig: UiRig;
let nssdb: string;

const nssFingerprints = () => nssFingerprintsOf(nssdb);

beforeAll(async () => {
  rig = await startUi();
  nssdb = path.join(rig.userHome, '.pki', 'nssdb');
  fs.mkdirSync(nssdb, { recursive: true });
  expect(runTool('certutil', ['-N', '-d', `sql:${nssdb}`, '--empty-password']).status).toBe(0);
}, 180_000);
afterAll(async () => {
  await rig?.close();
});

describe('Overview: replaced CA still trusted', () => {
  it('shows it and removes only the replaced CA', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      WSS_STUDIO_HOME: rig.home,
      HOME: rig.userHome,
    };
    delete env.NODE_EXTRA_CA_CERTS;
    const go = async (argv: string[]) => {
      const r = await runCli(argv, { env, cwd: rig.root });
      expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
      return r;
    };
    const a = JSON.parse((await go(['ca', 'init', '--json'])).stdout);
    await go(['trust', 'install', '--stores', 'nss']);
    const b = JSON.parse((await go(['ca', 'init', '--force', '--json'])).stdout);
    await go(['trust', 'install', '--stores', 'nss']);
    expect(nssFingerprints().sort()).toEqual([a.fingerprint256, b.fingerprint256].sort());

    const page = rig.page;
    await page.goto(rig.url);
    const notice = page.getByTestId('replaced-cas');
    await notice.waitFor({ timeout: 30_000 });
    await expect
      .poll(() => notice.innerText())
      .toMatch(/A replaced WSS Studio CA is still trusted by nss/);
    expect(await notice.innerText()).toContain(a.fingerprint256.slice(0, 23));
    await notice.scrollIntoViewIfNeeded();
    await shoot(page, 'overview-replaced-ca');

    await notice.getByRole('button', { name: 'Remove old CAs' }).click();
    await expect.poll(() => notice.innerText()).toMatch(/The current CA stays/);
    await notice.getByRole('button', { name: 'Remove', exact: true }).click();
    await expect.poll(() => page.getByTestId('replaced-cas').count(), { timeout: 30_000 }).toBe(0);
    expect(nssFingerprints()).toEqual([b.fingerprint256]);
    expect(rig.output()).not.toMatch(/TypeError/);
  }, 180_000);
});
