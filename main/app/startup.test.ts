// Start-up decisions: names and folders, and what the window says when its page fails.
import { describe, expect, it, vi } from 'vitest';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { resolveHome } from '../store';
import { chromiumDataDir, describeFailure, failureHandler, PRODUCT_NAME } from './startup';

describe('names and folders', () => {
  it('the product name matches package.json productName and the Linux desktop entry', () => {
    const root = path.resolve(__dirname, '..', '..');
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      productName: string;
    };
    expect(pkg.productName).toBe(PRODUCT_NAME);
    const yml = readFileSync(path.join(root, 'electron-builder.yml'), 'utf8');
    expect(yml).toContain(`productName: ${PRODUCT_NAME}`);
    expect(yml).toContain(`StartupWMClass: ${PRODUCT_NAME}`);
  });

  it("Chromium's profile never lands in the state folder, on any platform", () => {
    const home = '/home/u';
    const cases: [NodeJS.Platform, string, NodeJS.ProcessEnv][] = [
      ['darwin', '/Users/u/Library/Application Support', { HOME: '/Users/u' }],
      ['win32', 'C:\\Users\\u\\AppData\\Roaming', { APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }],
      ['linux', `${home}/.config`, { HOME: home }],
    ];
    const real = process.platform;
    for (const [platform, appData, env] of cases) {
      Object.defineProperty(process, 'platform', { value: platform });
      try {
        const state = resolveHome(env);
        // What Electron would pick from productName alone:
        const byName = path.join(appData, PRODUCT_NAME);
        expect(chromiumDataDir(appData)).not.toBe(state);
        expect(chromiumDataDir(appData)).toBe(path.join(appData, 'wss-studio'));
        if (platform !== 'linux') expect(byName).toBe(state); // the collision this avoids
      } finally {
        Object.defineProperty(process, 'platform', { value: real });
      }
    }
  });
});

describe('page failures', () => {
  it('a load that fails because the UI is not built names the folder and the build command', () => {
    const f = describeFailure({
      kind: 'load',
      error: new Error("ERR_FILE_NOT_FOUND (-6) loading 'app://wss-studio/index.html'"),
      rendererBuilt: false,
      rendererDir: '/opt/x/dist/renderer',
    });
    expect(f?.message).toBe(
      `failed to load the WSS Studio window: the UI files are missing from "/opt/x/dist/renderer" (ERR_FILE_NOT_FOUND (-6) loading 'app://wss-studio/index.html')`,
    );
    expect(f?.fix).toContain('npm run build');
  });

  it('did-fail-load names URL and error; an aborted load (-3) and a clean renderer exit are not failures', () => {
    expect(
      describeFailure({
        kind: 'did-fail-load',
        errorCode: -6,
        errorDescription: 'ERR_FILE_NOT_FOUND',
        url: 'app://wss-studio/index.html',
      })?.message,
    ).toBe('failed to load "app://wss-studio/index.html": ERR_FILE_NOT_FOUND (-6)');
    expect(
      describeFailure({
        kind: 'did-fail-load',
        errorCode: -3,
        errorDescription: 'ERR_ABORTED',
        url: 'x',
      }),
    ).toBeNull();
    expect(
      describeFailure({ kind: 'render-process-gone', reason: 'clean-exit', exitCode: 0 }),
    ).toBeNull();
    const gone = describeFailure({ kind: 'render-process-gone', reason: 'crashed', exitCode: 139 });
    expect(gone?.message).toContain('crashed, exit code 139');
    expect(gone?.fix).toMatch(/^Reload the window/);
  });

  it('asks once at a time; Reload reloads, Quit quits', async () => {
    let answer!: (v: boolean) => void;
    const ui = {
      ask: vi.fn(() => new Promise<boolean>((r) => (answer = r))),
      reload: vi.fn(),
      quit: vi.fn(),
    };
    const handle = failureHandler(ui);
    const gone = { kind: 'render-process-gone', reason: 'oom', exitCode: 1 } as const;
    const first = handle(gone);
    await handle(gone); // while the first question is open: no second dialog
    expect(ui.ask).toHaveBeenCalledTimes(1);
    answer(true);
    await first;
    expect(ui.reload).toHaveBeenCalledTimes(1);
    const second = handle(gone);
    answer(false);
    await second;
    expect(ui.quit).toHaveBeenCalledTimes(1);
    expect(ui.ask).toHaveBeenCalledTimes(2);
  });
});

describe('low port advice', () => {
  it('never tells the desktop app to setcap the Electron binary or an AppImage mount', async () => {
    const { lowPortGrant } = await import('../echo/listen');
    const electron = lowPortGrant(
      { node: '24.11.1', electron: '45.5.0' },
      '/tmp/.mount_WSS-StXyZ/wss-studio',
      'linux',
    );
    expect(electron).not.toContain('setcap');
    expect(electron).toContain('net.ipv4.ip_unprivileged_port_start=443');
    expect(lowPortGrant({ node: '20.20.2' }, '/usr/bin/node', 'linux')).toBe(
      'allow Node to bind low ports: sudo setcap cap_net_bind_service=+ep "/usr/bin/node"',
    );
  });
});
