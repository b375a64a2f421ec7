// macOS `security` and Windows `certutil.exe` cannot run here. These tests pin the exact command lines,
// their quoting, and the parsing of outputs in the tools' real formats, through the injected runner:
// a small fake of each tool that keeps state, so install -> status -> uninstall is exercised end to end.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SYSTEM_KEYCHAIN,
  macInstallArgv,
  macUninstallArgv,
  macosStore,
  parseFindCertificate,
  trustSettingsTrustRoot,
} from './macos';
import { makeFixture, tempContext, type Fixture } from './testing';
import type { RunOptions, RunResult, TrustContext } from './types';
import { sha1Hex, sha256Hex, winLine, winQuote } from './util';
import {
  isNotFound,
  parseCertutilStore,
  windowsCertutil,
  windowsStore,
  winCommandLine,
  winInstallArgs,
} from './windows';

let fx: Fixture;
beforeAll(async () => {
  fx = await makeFixture();
});
afterAll(() => fx?.cleanup());

type Call = { file: string; args: string[] };

const MAC_NOT_FOUND =
  'security: SecKeychainSearchCopyNext: The specified item could not be found in the keychain.\n';

function macFindOutput(sha256: string, sha1: string, keychain: string, cn: string): string {
  return `SHA-256 hash: ${sha256}
SHA-1 hash: ${sha1}
keychain: "${keychain}"
version: 512
class: 0x80001000 
attributes:
    "alis"<blob>="${cn}"
    "cenc"<uint32>=0x00000003 
    "ctyp"<uint32>=0x00000001 
    "hpky"<blob>=0x5A1F0C3B7D0E4B8F9A2C6E1D3F5B7A9C0E2D4F6A  "Z\\037\\014;}\\016K\\217\\232,n\\035?[z\\234\\016-Of"
    "issu"<blob>=0x3042311D301B060355040A0C14575353  "0B1\\0350\\033\\006\\003U\\004\\012\\014\\024WSS"
    "labl"<blob>="${cn}"
    "skid"<blob>=0x5A1F0C3B7D0E4B8F9A2C6E1D3F5B7A9C0E2D4F6A  "Z\\037\\014;}\\016K\\217\\232,n\\035?[z\\234\\016-Of"
    "snbr"<blob>=0x00C1A2B3C4D5E6F708  "\\000\\301\\242\\263\\304\\325\\346\\367\\010"
    "subj"<blob>=0x3042311D301B060355040A0C14575353  "0B1\\0350\\033\\006\\003U\\004\\012\\014\\024WSS"
`;
}

function trustPlist(sha1: string, settings: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>trustList</key>
	<dict>
		<key>${sha1}</key>
		<dict>
			<key>issuerName</key>
			<data>
			MEIxHTAbBgNVBAoMFFdTUyBTdHVkaW8gZGV2ZWxvcG1lbnQ=
			</data>
			<key>modDate</key>
			<date>2026-11-22T02:50:00Z</date>
			<key>serialNumber</key>
			<data>
			AMGis8TV5vcI
			</data>
			<key>trustSettings</key>
			${settings}
		</dict>
	</dict>
	<key>trustVersion</key>
	<integer>1</integer>
</dict>
</plist>
`;
}

const SSL_ROOT = `<array>
				<dict>
					<key>kSecTrustSettingsPolicy</key>
					<data>
					KoZIhvdjZAED
					</data>
					<key>kSecTrustSettingsPolicyName</key>
					<string>sslServer</string>
					<key>kSecTrustSettingsResult</key>
					<integer>1</integer>
				</dict>
			</array>`;

/** A fake `security` with a login and a System keychain and per-domain trust settings. */
function fakeSecurity(home: string) {
  const calls: Call[] = [];
  const login = path.join(home, 'Library/Keychains/login.keychain-db');
  const state = {
    keychains: new Map<string, Set<string>>([
      [login, new Set()],
      [SYSTEM_KEYCHAIN, new Set()],
    ]),
    trust: { user: new Set<string>(), admin: new Set<string>() },
  };
  let pem = '';
  const run = async (file: string, args: string[], _o?: RunOptions): Promise<RunResult> => {
    calls.push({ file, args });
    expect(file).toBe('security');
    const [sub, ...rest] = args;
    if (sub === 'find-certificate') {
      const kc = rest[rest.length - 1] as string;
      const have = state.keychains.get(kc);
      if (!have || !have.size) return { code: 44, stdout: '', stderr: MAC_NOT_FOUND };
      return {
        code: 0,
        stdout: [...have]
          .map((h) => macFindOutput(sha256Hex(fx.ca), h, kc, fx.ca.commonName))
          .join(''),
        stderr: '',
      };
    }
    if (sub === 'trust-settings-export') {
      const admin = rest[0] === '-d';
      const out = rest[rest.length - 1] as string;
      const set = admin ? state.trust.admin : state.trust.user;
      if (!set.size) {
        return {
          code: 1,
          stdout: '',
          stderr: 'SecTrustSettingsCreateExternalRepresentation: No Trust Settings were found.\n',
        };
      }
      writeFileSync(out, trustPlist([...set][0] as string, SSL_ROOT));
      return { code: 0, stdout: '', stderr: '' };
    }
    if (sub === 'add-trusted-cert') {
      const admin = rest.includes('-d');
      const kc = rest[rest.indexOf('-k') + 1] as string;
      pem = rest[rest.length - 1] as string;
      state.keychains.get(kc)?.add(sha1Hex(fx.ca));
      (admin ? state.trust.admin : state.trust.user).add(sha1Hex(fx.ca));
      return { code: 0, stdout: '', stderr: '' };
    }
    if (sub === 'delete-certificate') {
      const hash = rest[rest.indexOf('-Z') + 1] as string;
      const kc = rest[rest.length - 1] as string;
      const had = state.keychains.get(kc)?.delete(hash);
      if (rest.includes('-t')) {
        state.trust.user.delete(hash);
        if (kc === SYSTEM_KEYCHAIN) state.trust.admin.delete(hash);
      }
      return had
        ? { code: 0, stdout: '', stderr: '' }
        : {
            code: 44,
            stdout: '',
            stderr: 'Unable to delete certificate matching "' + hash + '"\n',
          };
    }
    throw new Error(`unexpected security ${args.join(' ')}`);
  };
  return { run, calls, state, login, pemPath: () => pem };
}

describe('macOS keychain store', () => {
  it('builds the exact security command lines', () => {
    expect(macInstallArgv(fx.ca, 'login', '/Users/dev')).toEqual([
      'security',
      'add-trusted-cert',
      '-r',
      'trustRoot',
      '-p',
      'ssl',
      '-k',
      '/Users/dev/Library/Keychains/login.keychain-db',
      fx.ca.certPath,
    ]);
    expect(macInstallArgv(fx.ca, 'system', '/Users/dev').slice(0, 3)).toEqual([
      'security',
      'add-trusted-cert',
      '-d',
    ]);
    expect(macUninstallArgv(fx.ca, 'system', '/Users/dev')).toEqual([
      'security',
      'delete-certificate',
      '-Z',
      sha1Hex(fx.ca),
      '-t',
      SYSTEM_KEYCHAIN,
    ]);
    expect(sha1Hex(fx.ca)).toMatch(/^[0-9A-F]{40}$/);
  });

  it('parses find-certificate -Z output (SHA-256 + SHA-1, and SHA-1 only on old macOS)', () => {
    const two =
      macFindOutput('AA'.repeat(32), 'BB'.repeat(20), '/k', 'x') +
      macFindOutput('CC'.repeat(32), 'DD'.repeat(20), '/k', 'y');
    expect(parseFindCertificate(two)).toEqual([
      { sha256: 'AA'.repeat(32), sha1: 'BB'.repeat(20) },
      { sha256: 'CC'.repeat(32), sha1: 'DD'.repeat(20) },
    ]);
    expect(parseFindCertificate('SHA-1 hash: ' + 'EE'.repeat(20) + '\nkeychain: "/k"\n')).toEqual([
      { sha1: 'EE'.repeat(20) },
    ]);
  });

  it('reads trust settings by SHA-1: SSL TrustRoot or an empty array trusts, Deny does not', () => {
    const h = sha1Hex(fx.ca);
    expect(trustSettingsTrustRoot(trustPlist(h, SSL_ROOT), h)).toBe(true);
    expect(trustSettingsTrustRoot(trustPlist(h, '<array/>'), h)).toBe(true);
    expect(
      trustSettingsTrustRoot(trustPlist(h, SSL_ROOT.replace('<integer>1<', '<integer>3<')), h),
    ).toBe(false);
    expect(trustSettingsTrustRoot(trustPlist(h, SSL_ROOT.replace('sslServer', 'SMIME')), h)).toBe(
      false,
    );
    expect(trustSettingsTrustRoot(trustPlist('0'.repeat(40), SSL_ROOT), h)).toBe(false);
  });

  it('install -> trusted -> uninstall -> not trusted through the runner (login keychain)', async () => {
    const home = '/Users/dev';
    const sec = fakeSecurity(home);
    const ctx: TrustContext = {
      ...tempContext(fx.tmp),
      platform: 'darwin',
      home,
      uid: 501,
      run: sec.run,
    };
    expect(await macosStore.detect(ctx)).toBe(true);
    expect((await macosStore.status(fx.ca, ctx)).state).toBe('not-trusted');
    const r = await macosStore.install(fx.ca, ctx);
    expect(r).toMatchObject({ state: 'trusted', changed: true });
    const add = sec.calls.find((c) => c.args[0] === 'add-trusted-cert');
    expect(add?.args).toEqual(macInstallArgv(fx.ca, 'login', home).slice(1));
    expect(await macosStore.install(fx.ca, ctx)).toMatchObject({
      state: 'trusted',
      changed: false,
    });
    const u = await macosStore.uninstall(fx.ca, ctx);
    expect(u).toMatchObject({ state: 'not-trusted', changed: true });
    const del = sec.calls.find((c) => c.args[0] === 'delete-certificate');
    expect(del?.args).toEqual(macUninstallArgv(fx.ca, 'login', home).slice(1));
  });

  it('the System keychain needs an administrator: prints the exact sudo line', async () => {
    const sec = fakeSecurity('/Users/dev');
    const base = tempContext(fx.tmp);
    const ctx: TrustContext = {
      ...base,
      env: { ...base.env, WSS_STUDIO_MACOS_KEYCHAIN: 'system' },
      platform: 'darwin',
      home: '/Users/dev',
      uid: 501,
      run: sec.run,
    };
    const r = await macosStore.install(fx.ca, ctx);
    expect(r.state).toBe('needs-permission');
    expect(r.fix).toBe(
      `sudo security add-trusted-cert -d -r trustRoot -p ssl -k /Library/Keychains/System.keychain ${fx.ca.certPath}`,
    );
    expect(sec.calls.some((c) => c.args[0] === 'add-trusted-cert')).toBe(false);
  });

  it('is not present on Linux and never runs security there', async () => {
    const sec = fakeSecurity('/x');
    const ctx = { ...tempContext(fx.tmp), run: sec.run };
    expect((await macosStore.status(fx.ca, ctx)).state).toBe('not-present');
    expect(sec.calls).toEqual([]);
  });
});

// certutil.exe output, format as printed by Windows 10/11 (CRLF line ends).
function winStoreFound(sha1: string, spaced: boolean): string {
  const hash = spaced ? (sha1.toLowerCase().match(/../g) ?? []).join(' ') : sha1.toLowerCase();
  return [
    'Root "Trusted Root Certification Authorities"',
    '================ Certificate 0 ================',
    'Serial Number: 00c1a2b3c4d5e6f708',
    'Issuer: CN=WSS Studio dev@PC, OU=dev@PC, O=WSS Studio development CA',
    ' NotBefore: 11/22/2026 2:50 AM',
    ' NotAfter: 11/22/2036 2:50 AM',
    'Subject: CN=WSS Studio dev@PC, OU=dev@PC, O=WSS Studio development CA',
    'Signature matches Public Key',
    'Root Certificate: Subject matches Issuer',
    `Cert Hash(sha1): ${hash}`,
    'No key provider information',
    'Cannot find the certificate and private key for decryption.',
    'CertUtil: -store command completed successfully.',
    '',
  ].join('\r\n');
}
const WIN_NOT_FOUND = [
  'Root "Trusted Root Certification Authorities"',
  'CertUtil: -store command FAILED: 0x80092004 (-2146885628 CRYPT_E_NOT_FOUND)',
  'CertUtil: Cannot find object or property.',
  '',
].join('\r\n');

function fakeCertutilExe(spaced = false) {
  const calls: Call[] = [];
  const root = new Set<string>();
  const run = async (file: string, args: string[]): Promise<RunResult> => {
    calls.push({ file, args });
    const [, op, store, arg] = args;
    expect(args[0]).toBe('-user');
    expect(store).toBe('Root');
    if (op === '-store') {
      return root.has(arg as string)
        ? { code: 0, stdout: winStoreFound(arg as string, spaced), stderr: '' }
        : { code: -2146885628, stdout: WIN_NOT_FOUND, stderr: '' };
    }
    if (op === '-addstore') {
      root.add(sha1Hex(fx.ca));
      return {
        code: 0,
        stdout: `Root "Trusted Root Certification Authorities"\r\nSignature matches Public Key\r\nCertificate "WSS Studio dev@PC" added to store.\r\nCertUtil: -addstore command completed successfully.\r\n`,
        stderr: '',
      };
    }
    if (op === '-delstore') {
      const had = root.delete(arg as string);
      return had
        ? {
            code: 0,
            stdout: `Root "Trusted Root Certification Authorities"\r\nDeleting Certificate 0\r\nCertUtil: -delstore command completed successfully.\r\n`,
            stderr: '',
          }
        : { code: -2146885628, stdout: WIN_NOT_FOUND.replace('-store', '-delstore'), stderr: '' };
    }
    throw new Error(`unexpected certutil ${args.join(' ')}`);
  };
  return { run, calls, root };
}

describe('Windows user Root store', () => {
  const env = { SystemRoot: 'C:\\WINDOWS', PATH: '' };

  it('calls System32 certutil.exe by full path (NSS also ships a "certutil")', () => {
    expect(windowsCertutil({ env })).toBe('C:\\WINDOWS\\System32\\certutil.exe');
    expect(winInstallArgs(fx.ca)).toEqual(['-user', '-addstore', 'Root', fx.ca.certPath]);
  });

  it('quotes printed command lines the way CommandLineToArgvW reads them', () => {
    expect(winQuote('C:\\Users\\Ann Lee\\AppData\\ca.pem')).toBe(
      '"C:\\Users\\Ann Lee\\AppData\\ca.pem"',
    );
    expect(winQuote('C:\\plain\\ca.pem')).toBe('C:\\plain\\ca.pem');
    expect(winQuote('C:\\dir with space\\')).toBe('"C:\\dir with space\\\\"');
    expect(winQuote('say "hi"')).toBe('"say \\"hi\\""');
    expect(winQuote('')).toBe('""');
    expect(winLine(['a b', 'c'])).toBe('"a b" c');
    expect(
      winCommandLine(
        { env: { SystemRoot: 'C:\\WINDOWS' } },
        winInstallArgs({ ...fx.ca, certPath: 'C:\\Users\\Ann Lee\\ca.pem' }),
      ),
    ).toBe('C:\\WINDOWS\\System32\\certutil.exe -user -addstore Root "C:\\Users\\Ann Lee\\ca.pem"');
  });

  it('parses thumbprints in both certutil formats and recognises CRYPT_E_NOT_FOUND', () => {
    const h = sha1Hex(fx.ca);
    expect(parseCertutilStore(winStoreFound(h, false))).toEqual([h]);
    expect(parseCertutilStore(winStoreFound(h, true))).toEqual([h]);
    expect(parseCertutilStore(WIN_NOT_FOUND)).toEqual([]);
    expect(isNotFound(WIN_NOT_FOUND)).toBe(true);
    expect(isNotFound(winStoreFound(h, false))).toBe(false);
  });

  for (const spaced of [false, true]) {
    it(`install -> trusted -> uninstall -> not trusted through the runner (${spaced ? 'spaced' : 'plain'} hash)`, async () => {
      const exe = fakeCertutilExe(spaced);
      const ctx: TrustContext = {
        ...tempContext(fx.tmp),
        platform: 'win32',
        uid: null,
        env,
        run: exe.run,
      };
      expect(await windowsStore.detect(ctx)).toBe(true);
      expect((await windowsStore.status(fx.ca, ctx)).state).toBe('not-trusted');
      const r = await windowsStore.install(fx.ca, ctx);
      expect(r).toMatchObject({ state: 'trusted', changed: true });
      expect(exe.calls.map((c) => c.file)).toEqual(
        exe.calls.map(() => 'C:\\WINDOWS\\System32\\certutil.exe'),
      );
      expect(exe.calls.find((c) => c.args[1] === '-addstore')?.args).toEqual(winInstallArgs(fx.ca));
      expect(await windowsStore.install(fx.ca, ctx)).toMatchObject({ changed: false });
      const u = await windowsStore.uninstall(fx.ca, ctx);
      expect(u).toMatchObject({ state: 'not-trusted', changed: true });
      expect(exe.calls.find((c) => c.args[1] === '-delstore')?.args).toEqual([
        '-user',
        '-delstore',
        'Root',
        sha1Hex(fx.ca),
      ]);
      expect(await windowsStore.uninstall(fx.ca, ctx)).toMatchObject({
        state: 'not-trusted',
        changed: false,
      });
    });
  }

  it('another certificate in Root is never deleted: delstore only ever gets our thumbprint', async () => {
    const exe = fakeCertutilExe();
    exe.root.add('11'.repeat(20));
    const ctx: TrustContext = {
      ...tempContext(fx.tmp),
      platform: 'win32',
      uid: null,
      env,
      run: exe.run,
    };
    await windowsStore.install(fx.ca, ctx);
    await windowsStore.uninstall(fx.ca, ctx);
    expect([...exe.root]).toEqual(['11'.repeat(20)]);
  });

  it('an unexpected certutil failure is an error state with its message', async () => {
    const ctx: TrustContext = {
      ...tempContext(fx.tmp),
      platform: 'win32',
      uid: null,
      env,
      run: async () => ({
        code: -2147024891,
        stdout: 'CertUtil: -store command FAILED: 0x80070005 (WIN32: 5 ERROR_ACCESS_DENIED)\r\n',
        stderr: '',
      }),
    };
    const s = await windowsStore.status(fx.ca, ctx);
    expect(s.state).toBe('error');
    expect(s.detail).toContain('ERROR_ACCESS_DENIED');
  });
});
