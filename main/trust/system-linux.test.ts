// Linux system store against a temp root with Debian's real update-ca-certificates, then proven with
// real clients: `openssl verify -CAfile <bundle>` and `curl --cacert <bundle>` against an HTTPS server
// that serves an issued leaf. Never touches the real /etc.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foreignCa, makeFixture, requireTool, tempContext, type Fixture } from './testing';
import {
  anchorFileName,
  detectFlavour,
  systemLinuxStore,
  systemPrivilegedCommand,
  updateArgv,
  LINUX_FLAVOURS,
} from './system-linux';
import type { TrustCa, TrustContext } from './types';
import { pemContains } from './util';

let fx: Fixture;
let ctx: TrustContext;
let root: string;
let bundle: string;
let leafFile: string;
let server: https.Server;
let port: number;
let distroCa: TrustCa;
let corpCa: TrustCa;

beforeAll(async () => {
  requireTool('update-ca-certificates', ['--help'], 'apt install ca-certificates');
  requireTool('openssl', ['version'], 'apt install openssl');
  requireTool('curl', ['--version'], 'apt install curl');
  fx = await makeFixture();
  ctx = tempContext(fx.tmp);
  root = ctx.root;
  // A Debian-shaped root: one distro CA listed in ca-certificates.conf, one admin CA in the local
  // anchors folder. Both must survive our install and uninstall.
  for (const d of [
    'usr/local/share/ca-certificates',
    'usr/share/ca-certificates/mozilla',
    'etc/ssl/certs',
  ]) {
    mkdirSync(path.join(root, d), { recursive: true });
  }
  distroCa = foreignCa(fx.tmp, 'Distro Root CA');
  writeFileSync(
    path.join(root, 'usr/share/ca-certificates/mozilla/Distro_Root_CA.crt'),
    distroCa.certPem,
  );
  writeFileSync(path.join(root, 'etc/ca-certificates.conf'), 'mozilla/Distro_Root_CA.crt\n');
  mkdirSync(path.join(fx.tmp, 'corp'));
  corpCa = foreignCa(path.join(fx.tmp, 'corp'), 'Corp Admin CA');
  writeFileSync(path.join(root, 'usr/local/share/ca-certificates/corp.crt'), corpCa.certPem);
  execFileSync('update-ca-certificates', updateArgv(LINUX_FLAVOURS[1]!, ctx, true)!.slice(1), {
    stdio: 'pipe',
  });
  bundle = path.join(root, 'etc/ssl/certs/ca-certificates.crt');
  leafFile = path.join(fx.tmp, 'leaf.pem');
  writeFileSync(leafFile, fx.leaf.certPem);
  server = https.createServer({ cert: fx.leaf.certPem, key: fx.leafKeyPem }, (_req, res) =>
    res.end('ok'),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  fx?.cleanup();
});

function opensslVerify(): { ok: boolean; out: string } {
  const r = spawnSync('openssl', ['verify', '-CAfile', bundle, leafFile], { encoding: 'utf8' });
  return { ok: r.status === 0, out: r.stdout + r.stderr };
}

// Async: the HTTPS server lives in this process, a blocking spawn would starve it.
function curl(): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    execFile(
      'curl',
      [
        '-sS',
        '--noproxy',
        '*',
        '--max-time',
        '20',
        '--cacert',
        bundle,
        `https://localhost:${port}/`,
      ],
      { encoding: 'utf8', env: { PATH: process.env.PATH } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, out: stdout + stderr });
      },
    );
  });
}

describe('system store (Debian flavour, temp root)', () => {
  it('detects the flavour from the anchors folder under the injected root', () => {
    expect(detectFlavour(ctx)?.id).toBe('debian');
    expect(detectFlavour({ ...ctx, platform: 'darwin' })).toBeNull();
  });

  it('install makes openssl and curl accept the leaf; uninstall makes them refuse it again', async () => {
    expect((await systemLinuxStore.status(fx.ca, ctx)).state).toBe('not-trusted');
    expect(opensslVerify().ok).toBe(false);
    const c0 = await curl();
    expect(c0.code, c0.out).toBe(60); // CURLE_PEER_FAILED_VERIFICATION

    const inst = await systemLinuxStore.install(fx.ca, ctx);
    expect(inst.state, inst.detail).toBe('trusted');
    expect(inst.changed).toBe(true);
    const anchor = path.join(root, 'usr/local/share/ca-certificates', anchorFileName(fx.ca));
    expect(readFileSync(anchor, 'utf8')).toContain(fx.ca.certPem.trim());
    expect(anchorFileName(fx.ca)).toContain(fx.ca.serialHex.toLowerCase());
    expect(opensslVerify()).toMatchObject({ ok: true });
    const c1 = await curl();
    expect(c1.code, c1.out).toBe(0);
    expect(c1.out).toBe('ok');
    expect((await systemLinuxStore.status(fx.ca, ctx)).state).toBe('trusted');

    const again = await systemLinuxStore.install(fx.ca, ctx);
    expect(again).toMatchObject({ state: 'trusted', changed: false });

    const un = await systemLinuxStore.uninstall(fx.ca, ctx);
    expect(un.state, un.detail).toBe('not-trusted');
    expect(un.changed).toBe(true);
    expect(existsSync(anchor)).toBe(false);
    expect(opensslVerify().ok).toBe(false);
    expect((await curl()).code).toBe(60);
    expect((await systemLinuxStore.status(fx.ca, ctx)).state).toBe('not-trusted');
    expect(await systemLinuxStore.uninstall(fx.ca, ctx)).toMatchObject({
      state: 'not-trusted',
      changed: false,
    });

    // The other certificates are still there: the distro CA and the admin's own anchor.
    const text = readFileSync(bundle, 'utf8');
    expect(pemContains(text, distroCa)).toBe(true);
    expect(pemContains(text, corpCa)).toBe(true);
    expect(readdirSync(path.join(root, 'usr/local/share/ca-certificates'))).toEqual(['corp.crt']);
  });

  it('reports an anchor whose bundle was not regenerated as not trusted, with the reason', async () => {
    const anchor = path.join(root, 'usr/local/share/ca-certificates', anchorFileName(fx.ca));
    writeFileSync(anchor, fx.ca.certPem);
    try {
      const s = await systemLinuxStore.status(fx.ca, ctx);
      expect(s.state).toBe('not-trusted');
      expect(s.detail).toContain('not regenerated');
    } finally {
      await systemLinuxStore.uninstall(fx.ca, ctx);
    }
    expect(existsSync(anchor)).toBe(false);
  });

  it('builds the exact sudo and pkexec commands for a non-root user', () => {
    const real = { ...ctx, root: '/', uid: 1000 };
    // Only meaningful where the Debian anchors folder exists; build it against our temp root instead.
    const cmd = systemPrivilegedCommand(fx.ca, 'install', { ...ctx, uid: 1000 });
    const anchor = path.join(root, 'usr/local/share/ca-certificates', anchorFileName(fx.ca));
    expect(cmd?.steps[0]).toEqual(['install', '-m', '0644', fx.ca.certPath, anchor]);
    expect(cmd?.steps[1]?.[0]).toBe('update-ca-certificates');
    expect(cmd?.argv.slice(0, 3)).toEqual(['pkexec', '/bin/sh', '-c']);
    expect(
      cmd?.sudo.startsWith(
        `sudo install -m 0644 ${fx.ca.certPath} ${anchor} && sudo update-ca-certificates`,
      ),
    ).toBe(true);
    // Real root: the plain tool without redirection flags, --fresh after removal.
    const f = LINUX_FLAVOURS.find((x) => x.id === 'debian')!;
    expect(updateArgv(f, real, false)).toEqual(['update-ca-certificates']);
    expect(updateArgv(f, real, true)).toEqual(['update-ca-certificates', '--fresh']);
    // Tools that cannot be redirected to a temp root are refused there rather than touching /etc.
    expect(updateArgv(LINUX_FLAVOURS[0]!, ctx, false)).toBeNull();
    const un = systemPrivilegedCommand(fx.ca, 'uninstall', { ...ctx, uid: 1000 });
    expect(un?.steps[0]).toEqual(['rm', '-f', anchor]);
  });

  it('quotes paths with spaces and quotes in the pkexec script', () => {
    const odd = { ...fx.ca, certPath: "/home/o'neil/my certs/ca.pem" };
    const cmd = systemPrivilegedCommand(odd, 'install', ctx)!;
    expect(cmd.argv[3]).toContain(`'/home/o'\\''neil/my certs/ca.pem'`);
    const r = spawnSync(
      '/bin/sh',
      ['-c', `set -- ${cmd.argv[3]!.split(' && ')[0]}; printf '%s\\n' "$4"`],
      {
        encoding: 'utf8',
      },
    );
    expect(r.stdout.trim()).toBe("/home/o'neil/my certs/ca.pem");
  });

  it('under WSL warns that Windows browsers need the Windows store, with the exact command', async () => {
    const wsl = { ...ctx, env: { ...ctx.env, WSL_DISTRO_NAME: 'Ubuntu-24.04' } };
    const s = await systemLinuxStore.status(
      { ...fx.ca, certPath: '/home/me/.local/share/wss-studio/ca/ca.pem' },
      wsl,
    );
    expect(s.warnings).toEqual([
      "WSL: Windows browsers do not read this store; to trust the CA there too, run: wss-studio trust install --stores windows (or: certutil.exe -user -addstore Root '\\\\wsl.localhost\\Ubuntu-24.04\\home\\me\\.local\\share\\wss-studio\\ca\\ca.pem')",
    ]);
    expect((await systemLinuxStore.status(fx.ca, ctx)).warnings).toBeUndefined();
  });

  it('is not present without any anchors folder', async () => {
    const s = await systemLinuxStore.status(fx.ca, {
      ...ctx,
      root: path.join(fx.tmp, 'empty-root'),
    });
    expect(s.state).toBe('not-present');
    expect(await systemLinuxStore.detect({ ...ctx, root: path.join(fx.tmp, 'empty-root') })).toBe(
      false,
    );
  });
});
