// The Electron shell without the Electron binary: window options, CSP, sender checks, navigation and
// window-open handlers, permissions, the preload's surface, the protocol handler, window bounds.
import { describe, expect, it, vi } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { IpcMainInvokeEvent, IpcRenderer, Session, WebContents } from 'electron';
import { requestNames, streamNames } from '../../shared/api';
import {
  APP_CSP,
  APP_URL,
  denyPermissions,
  hardenContents,
  isTrustedSender,
  windowOptions,
} from './security';
import { bindIpc, channelFor, EVENT_CHANNEL, forwardEvents } from './ipc';
import { buildBridge } from './bridge';
import { appResponse, resolveAppPath } from './protocol';
import { sanitizeBounds } from './window-state';
import { menuTemplate } from './menu';
import { isAllowedExternal } from '../engine/external';

describe('BrowserWindow options', () => {
  const o = windowOptions('/app/dist/app/preload.cjs', { width: 1200, height: 800 });
  const wp = o.webPreferences ?? {};
  it('follow the security checklist', () => {
    expect(wp.contextIsolation).toBe(true);
    expect(wp.sandbox).toBe(true);
    expect(wp.nodeIntegration).toBe(false);
    expect(wp.nodeIntegrationInSubFrames).toBe(false);
    expect(wp.nodeIntegrationInWorker).toBe(false);
    expect(wp.webSecurity).toBe(true);
    expect(wp.allowRunningInsecureContent).toBe(false);
    expect(wp.experimentalFeatures).toBe(false);
    expect(wp.webviewTag).toBe(false);
    expect(wp.preload).toBe('/app/dist/app/preload.cjs');
    expect(wp).not.toHaveProperty('enableBlinkFeatures');
    expect(o.minWidth).toBe(900);
    expect(o.minHeight).toBe(600);
  });
  it('load our own files through app://, never http or file', () => {
    expect(APP_URL).toBe('app://wss-studio/index.html');
  });
});

describe('CSP', () => {
  const d = Object.fromEntries(
    APP_CSP.split(';').map((s) => {
      const [k, ...v] = s.trim().split(/\s+/);
      return [k, v];
    }),
  );
  it("default-src 'self', scripts only from our files, no objects, no framing", () => {
    expect(d['default-src']).toEqual(["'self'"]);
    expect(d['script-src']).toEqual(["'self'"]);
    expect(d['object-src']).toEqual(["'none'"]);
    expect(d['base-uri']).toEqual(["'none'"]);
    expect(d['frame-ancestors']).toEqual(["'none'"]);
    expect(APP_CSP).not.toMatch(/unsafe-eval|https?:|\*/);
  });
});

function fakeEvent(sender: unknown, url: string, parent: unknown = null) {
  return { sender, senderFrame: { url, parent } } as unknown as IpcMainInvokeEvent;
}

describe('IPC sender check', () => {
  const wc = {} as WebContents;
  const main = () => wc;
  it('accepts our window showing our page', () => {
    expect(isTrustedSender(fakeEvent(wc, 'app://wss-studio/index.html'), main)).toBe(true);
  });
  it('refuses another page, another window, a subframe', () => {
    expect(isTrustedSender(fakeEvent(wc, 'https://evil.example/'), main)).toBe(false);
    expect(isTrustedSender(fakeEvent(wc, 'app://other/index.html'), main)).toBe(false);
    expect(isTrustedSender(fakeEvent(wc, 'file:///etc/passwd'), main)).toBe(false);
    expect(isTrustedSender(fakeEvent({}, 'app://wss-studio/index.html'), main)).toBe(false);
    expect(isTrustedSender(fakeEvent(wc, 'app://wss-studio/index.html', {}), main)).toBe(false);
    expect(isTrustedSender(fakeEvent(wc, 'app://wss-studio/index.html'), () => undefined)).toBe(
      false,
    );
  });
});

describe('ipcMain binding derived from the contract', () => {
  function fakeIpcMain() {
    const handlers = new Map<string, (e: IpcMainInvokeEvent, input: unknown) => Promise<unknown>>();
    return {
      handlers,
      handle: (ch: string, fn: (e: IpcMainInvokeEvent, input: unknown) => Promise<unknown>) => {
        if (handlers.has(ch)) throw new Error(`second handler for ${ch}`);
        handlers.set(ch, fn);
      },
      removeHandler: (ch: string) => handlers.delete(ch),
    };
  }
  it('registers exactly one handler per request and checks the sender on each call', async () => {
    const ipc = fakeIpcMain();
    const call = vi.fn(async (name: unknown, _input: unknown, _ctx: unknown) => ({
      ok: true as const,
      result: name,
    }));
    const trusted = fakeEvent('me', 'app://wss-studio/index.html');
    const unbind = bindIpc(ipc as never, { call }, (e) => e === trusted);
    expect([...ipc.handlers.keys()].sort()).toEqual(requestNames.map(channelFor).sort());
    for (const name of requestNames) {
      const h = ipc.handlers.get(channelFor(name));
      expect(await h?.(trusted, {})).toEqual({ ok: true, result: name });
      expect(await h?.(fakeEvent('x', 'https://evil.example/'), {})).toMatchObject({
        ok: false,
        error: { code: 'SENDER_REFUSED' },
      });
    }
    expect(call).toHaveBeenCalledTimes(requestNames.length);
    expect(call.mock.calls[0]?.[2]).toEqual({ shell: 'electron' });
    unbind();
    expect(ipc.handlers.size).toBe(0);
  });
  it('forwards every stream on one channel', () => {
    const subs = new Map<string, (d: unknown) => void>();
    const sent: unknown[] = [];
    const off = forwardEvents(
      {
        subscribe: ((s: string, cb: (d: unknown) => void) => {
          subs.set(s, cb);
          return () => subs.delete(s);
        }) as never,
      },
      (...a) => sent.push(a),
    );
    expect([...subs.keys()].sort()).toEqual([...streamNames].sort());
    subs.get('server.status')?.({ servers: [] });
    expect(sent).toEqual([[EVENT_CHANNEL, 'server.status', { servers: [] }]]);
    off();
    expect(subs.size).toBe(0);
  });
});

describe('preload surface', () => {
  function fakeIpcRenderer() {
    const listeners = new Map<string, Set<(...a: unknown[]) => void>>();
    const invoked: unknown[] = [];
    const ipc = {
      invoke: async (ch: string, input: unknown) => {
        invoked.push([ch, input]);
        return { ok: true, result: ch };
      },
      on(ch: string, fn: (...a: unknown[]) => void) {
        if (!listeners.has(ch)) listeners.set(ch, new Set());
        listeners.get(ch)?.add(fn);
        return ipc;
      },
      removeListener(ch: string, fn: (...a: unknown[]) => void) {
        listeners.get(ch)?.delete(fn);
        return ipc;
      },
      send: () => {
        throw new Error('the bridge must not use send');
      },
    };
    return { ipc, listeners, invoked };
  }

  it('exposes one function per request plus subscribe, and nothing else', async () => {
    const { ipc, invoked } = fakeIpcRenderer();
    const bridge = buildBridge(ipc as unknown as IpcRenderer);
    expect(Object.keys(bridge).sort()).toEqual(['requests', 'subscribe']);
    expect(Object.keys(bridge.requests).sort()).toEqual([...requestNames].sort());
    for (const n of requestNames) expect(typeof bridge.requests[n]).toBe('function');
    // Nothing reachable from the bridge is the ipcRenderer object or one of its methods.
    const values = [...Object.values(bridge), ...Object.values(bridge.requests)];
    for (const v of values) {
      expect(v).not.toBe(ipc);
      expect([ipc.invoke, ipc.on, ipc.removeListener, ipc.send]).not.toContain(v);
    }
    expect(Object.isFrozen(bridge)).toBe(true);
    expect(Object.isFrozen(bridge.requests)).toBe(true);
    expect(await bridge.requests['cert.get']({ id: 'x' })).toEqual({
      ok: true,
      result: 'api:cert.get',
    });
    expect(invoked).toEqual([['api:cert.get', { id: 'x' }]]);
  });

  it('subscribe hands the callback the data only, never the IPC event', () => {
    const { ipc, listeners } = fakeIpcRenderer();
    const bridge = buildBridge(ipc as unknown as IpcRenderer);
    const got: unknown[][] = [];
    const off = bridge.subscribe('log.batch', (...args: unknown[]) => got.push(args));
    const fakeIpcEvent = { sender: ipc, ports: [] };
    for (const fn of listeners.get(EVENT_CHANNEL) ?? []) {
      fn(fakeIpcEvent, 'log.batch', { events: [], missed: 0, dropped: 0 });
      fn(fakeIpcEvent, 'server.status', { servers: [] });
    }
    expect(got).toEqual([[{ events: [], missed: 0, dropped: 0 }]]);
    off();
    expect(listeners.get(EVENT_CHANNEL)?.size).toBe(0);
    // Unknown streams subscribe to nothing.
    bridge.subscribe('anything', () => {});
    expect(listeners.get(EVENT_CHANNEL)?.size).toBe(0);
  });
});

describe('navigation, new windows, permissions', () => {
  function fakeContents() {
    const on = new Map<string, (e: { preventDefault(): void }, url: string) => void>();
    let openHandler: ((d: { url: string }) => { action: string }) | undefined;
    const wc = {
      on: (ev: string, fn: (e: { preventDefault(): void }, url: string) => void) => on.set(ev, fn),
      setWindowOpenHandler: (fn: (d: { url: string }) => { action: string }) => (openHandler = fn),
    };
    return { wc: wc as unknown as WebContents, on, open: (url: string) => openHandler?.({ url }) };
  }
  // Electron passes the URL on the event (details.url); the positional url is deprecated. The positional
  // argument here always claims the opposite, so a handler reading it fails these tests.
  const nav = (
    fn: ((e: { preventDefault(): void; url?: string }, url: string) => void) | undefined,
    url: string,
  ) => {
    let prevented = false;
    const decoy = url.startsWith('app:') ? 'https://evil.example/' : 'app://wss-studio/index.html';
    fn?.({ url, preventDefault: () => (prevented = true) }, decoy);
    return prevented;
  };

  it('will-navigate away from our page is prevented; window.open is denied', () => {
    const { wc, on, open } = fakeContents();
    const opened: string[] = [];
    hardenContents(wc, { openExternal: async (u) => void opened.push(u) });
    expect(nav(on.get('will-navigate'), 'https://evil.example/')).toBe(true);
    expect(nav(on.get('will-navigate'), 'file:///etc/passwd')).toBe(true);
    expect(nav(on.get('will-navigate'), 'app://wss-studio/index.html')).toBe(false);
    expect(nav(on.get('will-redirect'), 'http://127.0.0.1:1/')).toBe(true);
    expect(nav(on.get('will-attach-webview'), '')).toBe(true);
    expect(open('https://evil.example/')).toEqual({ action: 'deny' });
    expect(open('https://developer.mozilla.org/en-US/docs/Web/API/WebSocket')).toEqual({
      action: 'deny',
    });
    expect(opened).toEqual(['https://developer.mozilla.org/en-US/docs/Web/API/WebSocket']);
  });

  it('openExternal allow-list: https docs and our running lab pages only', () => {
    expect(isAllowedExternal('https://developer.mozilla.org/x')).toBe(true);
    expect(isAllowedExternal('http://developer.mozilla.org/x')).toBe(false);
    expect(isAllowedExternal('https://developer.mozilla.org.evil.example/')).toBe(false);
    expect(isAllowedExternal('https://user:pw@github.com/')).toBe(false);
    expect(isAllowedExternal('file:///etc/passwd')).toBe(false);
    expect(isAllowedExternal('javascript:alert(1)')).toBe(false);
    expect(isAllowedExternal('https://localhost:8443/', ['https://localhost:8443/'])).toBe(true);
    expect(isAllowedExternal('https://localhost:9999/', ['https://localhost:8443/'])).toBe(false);
    // A server shown under its certificate's name: that exact origin only, never a bare remote IP.
    expect(isAllowedExternal('https://app.test:8443/', ['https://app.test:8443/'])).toBe(true);
    expect(isAllowedExternal('https://app.test:8444/', ['https://app.test:8443/'])).toBe(false);
    expect(isAllowedExternal('http://app.test:8443/', ['https://app.test:8443/'])).toBe(false);
    expect(isAllowedExternal('https://10.1.2.3:8443/', ['https://10.1.2.3:8443/'])).toBe(false);
    // Every menu link passes the same allow-list.
    const links: string[] = [];
    const collect = (items: unknown[]) => {
      for (const it of items as { click?: () => void; submenu?: unknown[] }[]) {
        it.click?.();
        if (Array.isArray(it.submenu)) collect(it.submenu);
      }
    };
    collect(menuTemplate('linux', { openLink: (u) => links.push(u), reload: () => {} }));
    expect(links.length).toBeGreaterThan(0);
    for (const l of links) expect(isAllowedExternal(l), l).toBe(true);
  });

  it('every permission request and check is denied', () => {
    let req: ((wc: unknown, p: string, cb: (ok: boolean) => void) => void) | undefined;
    let check: (() => boolean) | undefined;
    const s = {
      setPermissionRequestHandler: (fn: typeof req) => (req = fn),
      setPermissionCheckHandler: (fn: typeof check) => (check = fn),
    };
    denyPermissions(s as unknown as Session);
    const answers: boolean[] = [];
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read'])
      req?.({}, p, (ok) => answers.push(ok));
    expect(answers).toEqual([false, false, false, false]);
    expect(check?.()).toBe(false);
  });
});

describe('app:// protocol', () => {
  it('serves files from the renderer folder with the CSP, refuses traversal and other hosts', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wss-app-'));
    try {
      mkdirSync(path.join(dir, 'r'));
      writeFileSync(path.join(dir, 'r', 'index.html'), '<title>x</title>');
      writeFileSync(path.join(dir, 'secret.txt'), 'secret');
      const root = path.join(dir, 'r');
      expect(resolveAppPath('app://wss-studio/', root)).toBe(path.join(root, 'index.html'));
      // The URL parser folds "%2e%2e/" itself: what is left stays inside the folder.
      expect(resolveAppPath('app://wss-studio/%2e%2e/secret.txt', root)).toBe(
        path.join(root, 'secret.txt'),
      );
      expect(resolveAppPath('app://wss-studio/..%2fsecret.txt', root)).toBeNull();
      expect(resolveAppPath('app://other/index.html', root)).toBeNull();
      const ok = await appResponse('app://wss-studio/index.html', root);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-security-policy')).toBe(APP_CSP);
      expect(await ok.text()).toBe('<title>x</title>');
      expect((await appResponse('app://wss-studio/..%2fsecret.txt', root)).status).toBe(403);
      expect((await appResponse('app://wss-studio/missing.js', root)).status).toBe(404);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('window bounds', () => {
  const screen = [{ x: 0, y: 0, width: 1920, height: 1080 }];
  it('restores saved bounds on a visible display, clamps tiny sizes, drops off-screen positions', () => {
    expect(sanitizeBounds({ x: 100, y: 50, width: 1000, height: 700 }, screen)).toEqual({
      x: 100,
      y: 50,
      width: 1000,
      height: 700,
    });
    expect(sanitizeBounds({ x: 5000, y: 50, width: 1000, height: 700 }, screen)).toEqual({
      width: 1000,
      height: 700,
    });
    expect(sanitizeBounds({ width: 10, height: 10 }, screen)).toEqual({ width: 900, height: 600 });
    expect(sanitizeBounds('junk', screen)).toEqual({ width: 1200, height: 800 });
  });
});
