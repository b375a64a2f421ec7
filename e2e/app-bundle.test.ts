// The BUILT desktop bundles, as Electron loads them, against a stricter stand-in than main/app/main.test.ts:
// dist/app/main.cjs runs in a child process whose `electron` (e2e/helpers/strict-electron.cjs) throws where
// real Electron throws (schemes registered after ready or twice, session/screen/windows before ready, a
// second handler per channel), rejects loadURL, kills the renderer and sends IPC with a null senderFrame.
// dist/app/preload.cjs runs in a vm context with only what a sandboxed preload gets.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { requestNames } from '../shared/api';

const ROOT = path.resolve(__dirname, '..');
const MAIN = path.join(ROOT, 'dist', 'app', 'main.cjs');
const PRELOAD = path.join(ROOT, 'dist', 'app', 'preload.cjs');
const STRICT = path.join(__dirname, 'helpers', 'strict-electron.cjs');

interface Run {
  calls: string[];
  errors: string[];
  unhandled: string[];
  dialogs: { message?: string; detail?: string; buttons?: string[]; errorBox?: string }[];
  windows: {
    loads: string[];
    shown: boolean;
    options?: { webPreferences: Record<string, unknown> };
  }[];
  clipboard: string[];
  clipboardPermission?: boolean;
  nullFrame?: { ok: boolean; error?: { code: string } };
  appInfo?: { ok: boolean; result?: { shell: string; native: boolean } };
  copy?: { ok: boolean; result?: { copied: boolean } };
  channels?: number;
}

function run(scenario: string, bundle = MAIN, allowFailure = false): Run {
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run "npm run build"`);
  const tmp = mkdtempSync(path.join(tmpdir(), 'wss-bundle-'));
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      WSS_STUDIO_HOME: path.join(tmp, 'home'),
      HOME: tmp,
      WSS_STUDIO_TRUST_ROOT: path.join(tmp, 'trust'),
    };
    delete env.NODE_EXTRA_CA_CERTS;
    delete env.WSS_STUDIO_RENDERER_DIR;
    const r = spawnSync(process.execPath, [STRICT, bundle, scenario], {
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const line = r.stdout.trim().split('\n').at(-1) ?? '';
    if (!line.startsWith('{')) throw new Error(`no result (exit ${r.status}): ${r.stderr}`);
    const out = JSON.parse(line) as Run;
    if (!allowFailure) expect(r.status, `${r.stderr}\n${JSON.stringify(out.errors)}`).toBe(0);
    return out;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

describe('dist/app/main.cjs against a strict electron', () => {
  it('starts in the order Electron demands, answers IPC, refuses a null senderFrame, copies natively', () => {
    const r = run('ipc');
    expect(r.errors).toEqual([]);
    expect(r.unhandled).toEqual([]);
    const i = (s: string) => r.calls.indexOf(s);
    expect(i('app.setName:WSS Studio')).toBeGreaterThan(-1);
    expect(r.calls).toContain('app.setPath:userData=/strict/appData/wss-studio');
    expect(i('protocol.registerSchemesAsPrivileged:app')).toBeLessThan(i('bundle loaded'));
    expect(r.calls.filter((c) => c.startsWith('protocol.registerSchemes'))).toHaveLength(1);
    expect(r.windows).toHaveLength(1);
    expect(r.windows[0]!.loads).toEqual(['app://wss-studio/index.html']);
    expect(r.windows[0]!.shown).toBe(true);
    expect(r.windows[0]!.options?.webPreferences).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
    });
    expect(r.channels).toBe(requestNames.length);
    // A frame that navigated away or was destroyed arrives as senderFrame null: refused, not a crash.
    expect(r.nullFrame).toMatchObject({ ok: false, error: { code: 'SENDER_REFUSED' } });
    expect(r.appInfo).toMatchObject({ ok: true, result: { shell: 'electron', native: true } });
    // The page's own clipboard permission is denied like every permission, so copying goes through
    // app.copy (renderer/src/lib/clipboard.ts) to Electron's clipboard.
    expect(r.clipboardPermission).toBe(false);
    expect(r.copy).toMatchObject({ ok: true, result: { copied: true } });
    expect(r.clipboard).toEqual(['wss://localhost:8443/']);
    expect(r.calls).toContain('app.quit.done');
  });

  it('a rejected loadURL shows the window with the error and the fix; Reload loads again', () => {
    const r = run('load-rejects');
    expect(r.unhandled).toEqual([]);
    expect(r.errors).toEqual([]);
    expect(r.windows[0]!.loads).toEqual([
      'app://wss-studio/index.html',
      'app://wss-studio/index.html',
    ]);
    expect(r.windows[0]!.shown).toBe(true);
    expect(r.dialogs).toHaveLength(1);
    expect(r.dialogs[0]).toMatchObject({
      message: expect.stringMatching(/^failed to load the WSS Studio window: ERR_FILE_NOT_FOUND/),
      buttons: ['Reload', 'Quit'],
    });
    expect(r.dialogs.some((d) => d.errorBox)).toBe(false);
  });

  it('a crashed renderer is reported with Reload / Quit; Quit stops the servers and quits', () => {
    const r = run('renderer-gone');
    expect(r.unhandled).toEqual([]);
    expect(r.errors).toEqual([]);
    expect(r.dialogs[0]?.message).toContain('crashed, exit code 139');
    expect(r.calls).toContain('app.quit');
    expect(r.calls).toContain('app.quit.done');
  });
});

describe('the strict stand-in bites', () => {
  // Bundles that make the mistakes real Electron punishes: each must be caught, or a green run above
  // would mean nothing.
  const cases: [string, string, RegExp][] = [
    [
      'schemes registered twice',
      "const e = require('electron'); const s = [{ scheme: 'app', privileges: {} }]; e.protocol.registerSchemesAsPrivileged(s); e.protocol.registerSchemesAsPrivileged(s);",
      /registerSchemesAsPrivileged called twice/,
    ],
    [
      'schemes registered after ready',
      "const e = require('electron'); e.app.whenReady().then(() => e.protocol.registerSchemesAsPrivileged([{ scheme: 'app', privileges: {} }]));",
      /registerSchemesAsPrivileged after ready/,
    ],
    [
      'session and screen before ready',
      "const e = require('electron'); try { e.session.defaultSession; } catch {} try { e.screen.getAllDisplays(); } catch {}",
      /session\.defaultSession used before the app is ready/,
    ],
    [
      'a loadURL rejection nobody handles',
      "const e = require('electron'); e.app.whenReady().then(async () => { const w = new e.BrowserWindow({}); w.show(); await w.loadURL('app://wss-studio/index.html'); });",
      /ERR_FILE_NOT_FOUND/,
    ],
  ];
  for (const [name, code, expected] of cases) {
    it(name, () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'wss-bad-bundle-'));
      try {
        const file = path.join(dir, 'main.cjs');
        writeFileSync(file, code);
        const r = run('bite', file, true);
        expect([...r.errors, ...r.unhandled].join('\n')).toMatch(expected);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('dist/app/preload.cjs in a sandboxed-preload context', () => {
  // What Electron gives a sandboxed preload: require() for a handful of modules only (electron's renderer
  // APIs, events, timers, url) and a few globals. Anything else (fs, path, the bundle's own chunks)
  // throws, exactly like "module not found" in the real sandbox.
  const SANDBOX_MODULES = new Set(['electron', 'events', 'timers', 'url']);

  it('needs nothing else, and exposes one function per request plus subscribe', async () => {
    const src = readFileSync(PRELOAD, 'utf8');
    const exposed: Record<string, unknown> = {};
    const invoked: [string, unknown][] = [];
    const required: string[] = [];
    const electron = {
      contextBridge: {
        exposeInMainWorld: (key: string, api: unknown) => {
          if (key in exposed) throw new Error(`exposeInMainWorld("${key}") twice`);
          exposed[key] = api;
        },
      },
      ipcRenderer: {
        invoke: async (ch: string, input: unknown) => {
          invoked.push([ch, input]);
          return { ok: true, result: { copied: true } };
        },
        on: () => {},
        removeListener: () => {},
      },
    };
    const sandboxRequire = (id: string) => {
      required.push(id);
      if (!SANDBOX_MODULES.has(id)) throw new Error(`module not found: ${id}`);
      if (id === 'electron') return electron;
      throw new Error(`unexpected module in this test: ${id}`);
    };
    const module = { exports: {} };
    const context = vm.createContext({ module, exports: module.exports, require: sandboxRequire });
    vm.runInContext(`(function(){${src}\n})()`, context, { filename: PRELOAD });
    expect(required).toEqual(['electron']);
    expect(Object.keys(exposed)).toEqual(['wssStudio']);
    const bridge = exposed.wssStudio as {
      requests: Record<string, (i: unknown) => Promise<unknown>>;
      subscribe: unknown;
    };
    expect(Object.keys(bridge.requests).sort()).toEqual([...requestNames].sort());
    expect(typeof bridge.subscribe).toBe('function');
    expect(Object.isFrozen(bridge)).toBe(true);
    await bridge.requests['app.copy']!({ text: 'x' });
    expect(invoked).toEqual([['api:app.copy', { text: 'x' }]]);
  });
});
