// main/app/main.ts (the Electron entry) run against a fake electron module: single instance, hardened
// window loaded from app://, every contract request bound, menu, window bounds remembered, servers stopped
// before quit.
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { requestNames } from '../../shared/api';

type Fn = (...a: unknown[]) => unknown;
const tmp = mkdtempSync(path.join(tmpdir(), 'wss-app-main-'));
mkdirSync(path.join(tmp, 'user'));

function makeFake(lock: boolean) {
  const appHandlers = new Map<string, Fn>();
  const ipcHandlers = new Map<string, Fn>();
  const windows: FakeWindow[] = [];
  let ready: () => void = () => {};
  const readyP = new Promise<void>((r) => (ready = r));

  class FakeWindow {
    handlers = new Map<string, Fn>();
    loaded: string[] = [];
    calls: string[] = [];
    webContents = {
      send: vi.fn(),
      reload: vi.fn(),
      on: vi.fn(),
      setWindowOpenHandler: vi.fn(),
    };
    constructor(readonly options: Record<string, unknown>) {
      windows.push(this);
    }
    once(ev: string, fn: Fn) {
      this.handlers.set(ev, fn);
    }
    on(ev: string, fn: Fn) {
      this.handlers.set(ev, fn);
    }
    async loadURL(u: string) {
      this.loaded.push(u);
    }
    isDestroyed() {
      return false;
    }
    isMinimized() {
      return true;
    }
    restore() {
      this.calls.push('restore');
    }
    focus() {
      this.calls.push('focus');
    }
    show() {
      this.calls.push('show');
    }
    getNormalBounds() {
      return { x: 40, y: 30, width: 1111, height: 777 };
    }
  }

  const fake = {
    app: {
      requestSingleInstanceLock: () => lock,
      quit: vi.fn(),
      on: (ev: string, fn: Fn) => void appHandlers.set(ev, fn),
      whenReady: () => readyP,
      getPath: (n: string) => path.join(tmp, n),
      setName: vi.fn(),
      setPath: vi.fn(),
    },
    BrowserWindow: FakeWindow,
    Menu: { setApplicationMenu: vi.fn(), buildFromTemplate: (t: unknown) => t },
    clipboard: { writeText: vi.fn() },
    dialog: { showSaveDialog: vi.fn(), showMessageBox: vi.fn(), showErrorBox: vi.fn() },
    ipcMain: {
      handle: (ch: string, fn: Fn) => void ipcHandlers.set(ch, fn),
      removeHandler: (ch: string) => void ipcHandlers.delete(ch),
    },
    protocol: { registerSchemesAsPrivileged: vi.fn(), handle: vi.fn() },
    screen: { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }] },
    session: {
      defaultSession: {
        setPermissionRequestHandler: vi.fn(),
        setPermissionCheckHandler: vi.fn(),
        setDevicePermissionHandler: vi.fn(),
      },
    },
    shell: { openExternal: vi.fn() },
  };
  return { fake, appHandlers, ipcHandlers, windows, ready };
}

let current: ReturnType<typeof makeFake>;
// The module is mocked once; each test's fake is looked up when main.ts destructures it at import time.
vi.mock('electron', () => {
  const keys = [
    'app',
    'BrowserWindow',
    'Menu',
    'clipboard',
    'dialog',
    'ipcMain',
    'protocol',
    'screen',
    'session',
    'shell',
  ];
  const mod: Record<string, unknown> = {};
  for (const k of keys) {
    Object.defineProperty(mod, k, {
      enumerable: true,
      get: () => (current.fake as Record<string, unknown>)[k],
    });
  }
  return mod;
});

beforeEach(() => {
  vi.resetModules();
  process.env.WSS_STUDIO_HOME = path.join(tmp, 'home');
  process.env.WSS_STUDIO_RENDERER_DIR = path.join(tmp, 'renderer');
});
afterAll(() => {
  delete process.env.WSS_STUDIO_HOME;
  delete process.env.WSS_STUDIO_RENDERER_DIR;
  rmSync(tmp, { recursive: true, force: true });
});

describe('Electron main', () => {
  it('quits at once when another instance holds the lock', async () => {
    current = makeFake(false);
    await import('./main');
    expect(current.fake.app.quit).toHaveBeenCalled();
    expect(current.appHandlers.size).toBe(0);
    expect(current.fake.protocol.registerSchemesAsPrivileged).not.toHaveBeenCalled();
  });

  it('explains a state folder it cannot open, then quits', async () => {
    current = makeFake(true);
    const home = path.join(tmp, 'future-home');
    mkdirSync(home);
    writeFileSync(path.join(home, 'store.json'), JSON.stringify({ schema: 99 }));
    process.env.WSS_STUDIO_HOME = home;
    await import('./main');
    current.ready();
    await vi.waitFor(() => expect(current.fake.dialog.showErrorBox).toHaveBeenCalled());
    const [title, text] = current.fake.dialog.showErrorBox.mock.calls[0] as [string, string];
    expect(title).toBe('WSS Studio cannot start');
    expect(text).toContain('layout version is 99');
    expect(text).toContain('WSS_STUDIO_HOME');
    expect(current.fake.app.quit).toHaveBeenCalled();
    expect(current.windows).toHaveLength(0);
  });

  it('starts one hardened window, binds every request, remembers bounds and stops servers before quit', async () => {
    current = makeFake(true);
    await import('./main');
    // The product name everywhere, and Chromium's profile kept out of the state folder.
    expect(current.fake.app.setName).toHaveBeenCalledWith('WSS Studio');
    expect(current.fake.app.setPath).toHaveBeenCalledWith(
      'userData',
      path.join(tmp, 'appData', 'wss-studio'),
    );
    expect(current.fake.protocol.registerSchemesAsPrivileged).toHaveBeenCalledWith([
      expect.objectContaining({
        scheme: 'app',
        privileges: expect.objectContaining({ standard: true, secure: true }),
      }),
    ]);
    current.ready();
    await vi.waitFor(() => expect(current.windows).toHaveLength(1));
    const win = current.windows[0]!;
    await vi.waitFor(() => expect(win.loaded).toEqual(['app://wss-studio/index.html']));
    const wp = win.options.webPreferences as Record<string, unknown>;
    expect(wp).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
    expect(String(wp.preload)).toMatch(/preload\.cjs$/);
    expect(current.fake.protocol.handle).toHaveBeenCalledWith('app', expect.any(Function));
    expect(current.fake.session.defaultSession.setPermissionRequestHandler).toHaveBeenCalled();
    expect(current.fake.Menu.setApplicationMenu).toHaveBeenCalled();
    expect([...current.ipcHandlers.keys()].sort()).toEqual(
      requestNames.map((n) => `api:${n}`).sort(),
    );

    // A request from the window's own page is answered by the engine, as the desktop shell.
    const event = {
      sender: win.webContents,
      senderFrame: { url: 'app://wss-studio/index.html', parent: null },
    };
    const info = (await current.ipcHandlers.get('api:app.info')?.(event, {})) as {
      ok: boolean;
      result: { shell: string; home: string };
    };
    expect(info).toMatchObject({
      ok: true,
      result: { shell: 'electron', home: path.join(tmp, 'home') },
    });
    const evil = {
      sender: win.webContents,
      senderFrame: { url: 'https://evil.example/', parent: null },
    };
    expect(await current.ipcHandlers.get('api:cert.list')?.(evil, {})).toMatchObject({ ok: false });

    // A second launch focuses the existing window.
    current.appHandlers.get('second-instance')?.();
    expect(win.calls).toEqual(expect.arrayContaining(['restore', 'focus']));

    // Closing the window saves its bounds into settings.json.
    win.handlers.get('close')?.();
    const settings = JSON.parse(readFileSync(path.join(tmp, 'home', 'settings.json'), 'utf8')) as {
      window: unknown;
    };
    expect(settings.window).toEqual({ x: 40, y: 30, width: 1111, height: 777 });

    // before-quit is held until the engine (servers) closed, then quit goes ahead.
    const preventDefault = vi.fn();
    current.appHandlers.get('before-quit')?.({ preventDefault });
    expect(preventDefault).toHaveBeenCalled();
    await vi.waitFor(() => expect(current.fake.app.quit).toHaveBeenCalled());
    const again = vi.fn();
    current.appHandlers.get('before-quit')?.({ preventDefault: again });
    expect(again).not.toHaveBeenCalled();
  });
});
