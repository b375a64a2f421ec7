// `npm start`'s fallback, with stand-in processes for Electron and web mode: a launch that dies in its first
// seconds is explained (the real messages Chromium prints) and web mode starts; a launch that lived, or
// quit cleanly (a second instance handing over to the first), is left alone.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { classifyEarlyExit, explainEarlyExit, runWithFallback } from './launch.mjs';

// Captured from Electron on Ubuntu 24.04 with kernel.apparmor_restrict_unprivileged_userns=1.
const SUID_ABORT =
  "[5323:1201/101112.123456:FATAL:setuid_sandbox_host.cc(158)] The SUID sandbox helper binary was found, but is not configured correctly. Rather than run without sandboxing I'm aborting now. You need to make sure that /home/u/wss-studio/node_modules/electron/dist/chrome-sandbox is owned by root and has mode 4755.\n";
const NO_SANDBOX =
  '[1:1201/101112.1:FATAL:zygote_host_impl_linux.cc(127)] No usable sandbox! If you are running on Ubuntu 23.10+ or another Linux distro that has disabled unprivileged user namespaces with AppArmor, see https://chromium.googlesource.com/chromium/src/+/main/docs/security/apparmor-userns-restrictions.md.\n';
const BIN = '/home/u/wss-studio/node_modules/electron/dist/electron';

function sink() {
  let text = '';
  const w = new Writable({
    write(c: Buffer, _e, cb) {
      text += c.toString();
      cb();
    },
  });
  return { w, text: () => text };
}
const node = (code: string): [string, string[]] => [process.execPath, ['-e', code]];
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

describe('classify and explain', () => {
  it('names the AppArmor user-namespace restriction and the fixes that keep the sandbox', () => {
    expect(classifyEarlyExit(SUID_ABORT)).toBe('sandbox');
    expect(classifyEarlyExit(NO_SANDBOX)).toBe('sandbox');
    expect(classifyEarlyExit('Missing X server or $DISPLAY\n')).toBe('display');
    expect(classifyEarlyExit('Segmentation fault')).toBe('other');
    const text = explainEarlyExit('sandbox', BIN, 'exit code 1').join('\n');
    expect(text).toContain('AppArmor');
    expect(text).toContain(`profile wss-studio-dev "${BIN}" flags=(unconfined)`);
    expect(text).toContain('userns,');
    expect(text).toContain('sudo apparmor_parser -r /etc/apparmor.d/wss-studio-dev');
    expect(text).toContain(
      'sudo chown root:root "/home/u/wss-studio/node_modules/electron/dist/chrome-sandbox"',
    );
    // --no-sandbox appears once, as the thing not to do.
    expect(text.split('--no-sandbox')).toHaveLength(2);
    expect(text).toContain('do not use --no-sandbox');
  });
});

describe('runWithFallback', () => {
  it('a sandbox abort in the first seconds: explained, then web mode runs', async () => {
    const out = sink();
    const err = sink();
    const code = await runWithFallback({
      desktop: node(`process.stderr.write(${JSON.stringify(SUID_ABORT)}); process.exit(1)`),
      web: node('console.log("WEB MODE"); process.exit(0)'),
      electronBinary: BIN,
      out: out.w,
      err: err.w,
      env,
    });
    expect(code).toBe(0);
    expect(err.text()).toBe(SUID_ABORT); // Electron's own words still reach the terminal
    expect(out.text()).toContain("Chromium's sandbox needs unprivileged user namespaces");
    expect(out.text()).toContain('Starting web mode instead');
  });

  it('a launch killed by a signal early also falls back', async () => {
    const out = sink();
    const code = await runWithFallback({
      desktop: node('process.kill(process.pid, "SIGABRT")'),
      web: node('process.exit(0)'),
      electronBinary: BIN,
      out: out.w,
      err: sink().w,
      env,
    });
    expect(code).toBe(0);
    expect(out.text()).toContain('exited during start-up (signal SIGABRT)');
  });

  it('a clean quick exit (second instance) and a late failure are passed through, no web mode', async () => {
    const out = sink();
    expect(
      await runWithFallback({
        desktop: node('process.exit(0)'),
        web: node('process.exit(9)'),
        electronBinary: BIN,
        out: out.w,
        err: sink().w,
        env,
      }),
    ).toBe(0);
    expect(
      await runWithFallback({
        desktop: node('setTimeout(() => process.exit(3), 400)'),
        web: node('process.exit(9)'),
        electronBinary: BIN,
        earlyMs: 150,
        out: out.w,
        err: sink().w,
        env,
      }),
    ).toBe(3);
    expect(out.text()).toBe('');
  });
});

describe('npm run test:electron without the binary', () => {
  it('fails at once, naming the missing binary and how to get it (before building anything)', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'wss-no-electron-'));
    try {
      const r = spawnSync(process.execPath, [path.join(__dirname, 'test-electron.mjs')], {
        env: { ...env, ELECTRON_OVERRIDE_DIST_PATH: empty },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(
        `error: failed to run test:electron: the Electron binary ${path.join(empty, 'electron')} is missing`,
      );
      expect(r.stderr).toContain('node scripts/fetch-electron.mjs');
      expect(r.stdout).toBe('');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
