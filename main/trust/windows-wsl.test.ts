// The Windows user Root store managed from inside WSL. certutil.exe and powershell.exe cannot run here, so:
// - the parsers are checked on outputs published by others (fixtures/windows/README.md says where from);
// - detection reads a fake /proc/version under the context's root, and the interop binaries are small
//   shell scripts on a temp PATH that print those published formats, keep the store in a file and log
//   every command line, so install -> status -> uninstall runs through the real runner (real spawns).
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judgeClients } from '../doctor/clients';
import { X509Certificate } from 'node:crypto';
import { detectStores } from './index';
import { makeFixture, tempContext, type Fixture } from './testing';
import type { TrustContext } from './types';
import { sha1Hex } from './util';
import {
  cnOfSubject,
  isNotFound,
  isWslKernel,
  parseCertutilEntries,
  parseCertutilStore,
  parsePsCertTable,
  psListArgs,
  windowsStore,
} from './windows';

const FIX = path.join(__dirname, 'fixtures', 'windows');
const sample = (name: string) => readFileSync(path.join(FIX, name), 'utf8');
const crlf = (s: string) => s.replace(/\r?\n/g, '\r\n');

let fx: Fixture;
beforeAll(async () => {
  fx = await makeFixture('wss-trust-wsl-');
});
afterAll(() => fx?.cleanup());

describe('parsing published Windows outputs', () => {
  it('certutil -store: subject and SHA-1 of each block, spaced or not', () => {
    expect(parseCertutilEntries(crlf(sample('certutil-store-user-teststore.txt')))).toEqual([
      { thumbprint: '32C6B7330F306441F916950DD565A7309C50B9C2', subject: 'CN=FYIcenter Root CA' },
    ]);
    const my = parseCertutilEntries(crlf(sample('certutil-store-user-my.txt')));
    expect(my).toEqual([
      {
        thumbprint: 'A50337AB015D5612B7DC4C1E759D201E74CC2A93',
        subject:
          'E=winfed@deverett.info, CN=WinFed, OU=Users, OU=Corp, DC=corp, DC=deverett, DC=info',
      },
      {
        thumbprint: '37378A1B06DCEF1B4D4753F7D21E4F20B18FBFEC',
        subject: 'CN=WinFed@deverett.info',
      },
    ]);
    expect(cnOfSubject(my[0]?.subject ?? '')).toBe('WinFed');
    expect(parseCertutilStore(sample('certutil-store-user-my.txt'))).toEqual(
      my.map((e) => e.thumbprint),
    );
  });

  it('certutil in another language: keys on "(sha1):" and the last DN line, not on English labels', () => {
    expect(parseCertutilEntries(sample('certutil-dump-zh.txt'))).toEqual([
      {
        thumbprint: '3C34E356C7FC17F5ACF04824BC587C6C623951A2',
        subject: 'CN=ISRG Root X2, O=Internet Security Research Group, C=US',
      },
      {
        thumbprint: 'F37620FC4B1CDDD2A3D74B1D5E8DB42E244CA006',
        subject: 'CN=Root YE, O=ISRG, C=US',
      },
    ]);
    // Native Windows status uses the same parse: a Chinese Windows is not misread as "not trusted".
    expect(parseCertutilStore(sample('certutil-dump-zh.txt'))).toEqual([
      '3C34E356C7FC17F5ACF04824BC587C6C623951A2',
      'F37620FC4B1CDDD2A3D74B1D5E8DB42E244CA006',
    ]);
  });

  it('PowerShell Get-ChildItem Cert:\\CurrentUser\\Root table: thumbprint and subject per row', () => {
    const rows = parsePsCertTable(crlf(sample('ps-currentuser-root.txt')));
    expect(rows).toHaveLength(9);
    expect(rows[0]).toEqual({
      thumbprint: 'CDD4EEAE6000AC7F40C3802C171E30148030C072',
      subject: 'CN=Microsoft Root Certificate Authority, DC=microsoft, DC=com',
    });
    expect(rows.map((r) => cnOfSubject(r.subject))).toEqual([
      'Microsoft Root Certificate Authority',
      'Thawte Timestamping CA',
      'Microsoft Root Authority',
      'OU=Copyright (c) 1997 Microsoft Corp., OU=Microsoft Time Stamping Service Root, OU=Microsoft Corporation, O=Micr...',
      'OU="NO LIABILITY ACCEPTED, (c)97 VeriSign, Inc.", OU=VeriSign Time Stamping Service Root, OU="VeriSign, Inc.", O...',
      'ComSign Secured CA',
      '"I.CA - Quali...',
      'DigiCert Global Root G2',
      'ISRG Root X1',
    ]);
    expect(parsePsCertTable(sample('ps-import-currentuser-root.txt'))).toEqual([
      {
        thumbprint: 'ABC1234AED5977A6435778EDED7E390585840935',
        subject: 'CN=EventStoreDB CA 12345670d831e3c2ec561b1894067135, O=Event Store Ltd, C=UK',
      },
    ]);
  });

  it('tells "not found" from other failures', () => {
    expect(
      isNotFound('CertUtil: -store command FAILED: 0x80092004 (-2146885628 CRYPT_E_NOT_FOUND)'),
    ).toBe(true);
    expect(isNotFound(sample('certutil-addstore-failed.txt'))).toBe(false);
  });

  it('recognises the WSL kernel from /proc/version, and not this machine', () => {
    expect(isWslKernel(sample('proc-version-wsl2.txt'))).toBe(true);
    expect(isWslKernel('Linux version 4.4.0-19041-Microsoft (Microsoft@Microsoft.com)')).toBe(true);
    expect(isWslKernel(readFileSync('/proc/version', 'utf8'))).toBe(false);
  });

  it('lists the store with PowerShell in full width (no "..." cut subjects)', () => {
    expect(psListArgs()).toEqual([
      '-NoProfile',
      '-NonInteractive',
      '-Command',
      'Get-ChildItem Cert:\\CurrentUser\\Root | Format-Table Thumbprint,Subject -AutoSize | Out-String -Width 4096',
    ]);
  });
});

/** A temp WSL: root/proc/version, a Windows PATH with fake certutil.exe / powershell.exe / wslpath. */
function fakeWsl(opts: { powershell?: boolean; certutil?: boolean; kernel?: string } = {}) {
  const dir = path.join(fx.tmp, `wsl-${Math.random().toString(36).slice(2)}`);
  const root = path.join(dir, 'root');
  const bin = path.join(dir, 'mnt-c-Windows-System32');
  mkdirSync(path.join(root, 'proc'), { recursive: true });
  mkdirSync(bin, { recursive: true });
  writeFileSync(path.join(root, 'proc', 'version'), opts.kernel ?? sample('proc-version-wsl2.txt'));
  const state = path.join(dir, 'root-store.txt'); // "THUMBPRINT|Subject" per line
  const calls = path.join(dir, 'calls.log');
  writeFileSync(state, '');
  writeFileSync(calls, '');
  const ours = `${sha1Hex(fx.ca)}|CN=${fx.ca.commonName}, O=WSS Studio development CA`;
  const script = (name: string, body: string) => {
    const p = path.join(bin, name);
    writeFileSync(p, `#!/bin/sh\nprintf '%s\\n' "${name} $*" >> '${calls}'\n${body}\n`);
    chmodSync(p, 0o755);
  };
  if (opts.certutil !== false) {
    script(
      'certutil.exe',
      `case "$2" in
  -store)
    printf 'Root "Trusted Root Certification Authorities"\\r\\n'
    sed 's/$/\\r/' '${path.join(FIX, 'certutil-store-user-teststore.txt')}' | grep -v '^TestStore' | grep -v 'completed successfully'
    n=1
    while IFS='|' read -r t s; do
      printf '================ Certificate %s ================\\r\\nSubject: %s\\r\\nCert Hash(sha1): %s\\r\\n' "$n" "$s" "$t"
      n=$((n+1))
    done < '${state}'
    printf 'CertUtil: -store command completed successfully.\\r\\n' ;;
  -addstore)
    printf '%s\\n' '${ours}' >> '${state}'
    printf 'Root "Trusted Root Certification Authorities"\\r\\nCertificate "%s" added to store.\\r\\nCertUtil: -addstore command completed successfully.\\r\\n' '${fx.ca.commonName}' ;;
  -delstore)
    grep -v "^$4|" '${state}' > '${state}.new'; mv '${state}.new' '${state}'
    printf 'CertUtil: -delstore command completed successfully.\\r\\n' ;;
  *) exit 9 ;;
esac`,
    );
  }
  if (opts.powershell !== false) {
    script(
      'powershell.exe',
      `sed 's/$/\\r/' '${path.join(FIX, 'ps-currentuser-root.txt')}'
while IFS='|' read -r t s; do printf '%s  %s\\r\\n' "$t" "$s"; done < '${state}'`,
    );
  }
  script(
    'wslpath',
    `printf '\\\\\\\\wsl.localhost\\\\Ubuntu-24.04%s\\n' "$(printf '%s' "$2" | tr / '\\\\')"`,
  );
  const ctx: TrustContext = tempContext(fx.tmp, {
    root,
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: path.join(fx.tmp, 'home') },
    platform: 'linux',
  });
  return {
    ctx,
    bin,
    state,
    log: () => readFileSync(calls, 'utf8').trim().split('\n').filter(Boolean),
  };
}

describe('the Windows store from inside WSL (fake /proc/version, fake interop binaries)', () => {
  it('is detected only when /proc/version says WSL', async () => {
    const wsl = fakeWsl();
    expect(await windowsStore.detect(wsl.ctx)).toBe(true);
    expect(await detectStores(wsl.ctx)).toContain('windows');
    const plain = fakeWsl({
      kernel: 'Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) #1 SMP Debian',
    });
    expect(await windowsStore.detect(plain.ctx)).toBe(false);
    expect((await windowsStore.status(fx.ca, plain.ctx)).state).toBe('not-present');
  });

  it('install -> trusted -> uninstall -> not trusted, with the exact commands, by thumbprint', async () => {
    const wsl = fakeWsl();
    const s0 = await windowsStore.status(fx.ca, wsl.ctx);
    expect(s0).toMatchObject({
      state: 'not-trusted',
      fix: 'wss-studio trust install --stores windows',
      label: 'Windows user Root store (through WSL)',
    });
    expect(s0.detail).toContain(
      `not in CurrentUser\\Root (thumbprint ${sha1Hex(fx.ca)}; 1 certificate listed)`,
    );
    const inst = await windowsStore.install(fx.ca, wsl.ctx);
    expect(inst).toMatchObject({ state: 'trusted', changed: true });
    const winPath = `\\\\wsl.localhost\\Ubuntu-24.04${fx.ca.certPath.replace(/\//g, '\\')}`;
    expect(wsl.log()).toContain(`certutil.exe -user -addstore Root ${winPath}`);
    // certutil.exe lists the store (it starts much faster than powershell.exe).
    expect(wsl.log()).toContain('certutil.exe -user -store Root');
    expect(wsl.log().some((l) => l.startsWith('powershell.exe'))).toBe(false);
    expect(await windowsStore.install(fx.ca, wsl.ctx)).toMatchObject({ changed: false });

    const un = await windowsStore.uninstall(fx.ca, wsl.ctx);
    expect(un).toMatchObject({ state: 'not-trusted', changed: true });
    expect(wsl.log()).toContain(`certutil.exe -user -delstore Root ${sha1Hex(fx.ca)}`);
    expect(readFileSync(wsl.state, 'utf8')).toBe('');
  });

  it('flags a Windows copy of a different CA with the same name, and does not count it', async () => {
    const wsl = fakeWsl();
    const twin = 'AB'.repeat(20);
    writeFileSync(wsl.state, `${twin}|CN=${fx.ca.commonName}, O=WSS Studio development CA\n`);
    const s = await windowsStore.status(fx.ca, wsl.ctx);
    expect(s.state).toBe('not-trusted');
    expect(s.warnings).toEqual([
      `a different CA with the same name "${fx.ca.commonName}" is in the Windows user Root store (thumbprint ${twin}): it does not make Windows trust this CA; if it is an old WSS Studio CA, remove it with certutil.exe -user -delstore Root ${twin}`,
    ]);
    await windowsStore.uninstall(fx.ca, wsl.ctx);
    expect(wsl.log().some((l) => l.includes('-delstore'))).toBe(false); // the twin is never touched
  });

  it('without certutil.exe, lists with PowerShell, and install says what is missing', async () => {
    const wsl = fakeWsl({ certutil: false });
    const s = await windowsStore.status(fx.ca, wsl.ctx);
    expect(s.state).toBe('not-trusted');
    expect(wsl.log()).toContain(`powershell.exe ${psListArgs().join(' ')}`);
    writeFileSync(wsl.state, `${sha1Hex(fx.ca)}|CN=${fx.ca.commonName}\n`);
    expect((await windowsStore.status(fx.ca, wsl.ctx)).state).toBe('trusted');
    writeFileSync(wsl.state, '');
    const inst = await windowsStore.install(fx.ca, wsl.ctx);
    expect(inst).toMatchObject({ state: 'tool-missing', changed: false });
    expect(inst.detail).toContain('certutil.exe');
  });

  it('without interop (no certutil.exe nor powershell.exe on PATH) says so and how to turn it on', async () => {
    const wsl = fakeWsl({ certutil: false, powershell: false });
    const s = await windowsStore.status(fx.ca, wsl.ctx);
    expect(s.state).toBe('tool-missing');
    expect(s.fix).toContain('appendWindowsPath=true');
  });

  it('the doctor gives Windows browsers their own verdict from inside WSL', async () => {
    const wsl = fakeWsl();
    const chain = [new X509Certificate(fx.leaf.certPem)];
    const ca = new X509Certificate(fx.ca.certPem);
    const judge = () =>
      judgeClients({
        chain,
        ourCa: ca,
        universal: null,
        opts: { only: ['windows'], context: wsl.ctx },
      });
    expect(await judge()).toMatchObject([
      { client: 'windows', name: 'Windows browsers', verdict: 'fails', install: ['windows'] },
    ]);
    await windowsStore.install(fx.ca, wsl.ctx);
    expect(await judge()).toMatchObject([{ client: 'windows', verdict: 'works' }]);
  });
});
