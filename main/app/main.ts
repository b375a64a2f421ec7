// Electron main process, bundled by scripts/build.mjs into dist/app/main.cjs (package.json "main").
// Thin on purpose: every decision lives in the tested modules beside it (security, ipc, bridge, protocol,
// hooks, menu, window-state); this file only wires them to the real electron module.
import * as electron from 'electron';
import path from 'node:path';
import { createEngine, type Engine } from '../engine';
import { isAllowedExternal } from '../engine/external';
import { findRendererDir } from '../web/paths';
import { bindIpc, forwardEvents } from './ipc';
import { electronHooks } from './hooks';
import { menuTemplate } from './menu';
import { registerAppProtocol, schemePrivileges } from './protocol';
import {
  APP_URL,
  denyPermissions,
  hardenContents,
  isTrustedSender,
  windowOptions,
} from './security';
import { chromiumDataDir, failureHandler, PRODUCT_NAME, type FailureEvent } from './startup';
import { loadBounds, saveBounds } from './window-state';

const { app, BrowserWindow, Menu, clipboard, dialog, ipcMain, protocol, screen, session, shell } =
  electron;

// Before 'ready' (Electron reads both then): the name every OS surface shows, and Chromium's profile kept
// out of the state folder (see chromiumDataDir). Before the lock too: the lock file lives in userData.
app.setName(PRODUCT_NAME);
app.setPath('userData', chromiumDataDir(app.getPath('appData')));

// One instance only: a second launch focuses the first window.
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  // Once, before 'ready' (Electron throws otherwise).
  protocol.registerSchemesAsPrivileged([schemePrivileges]);
  let win: electron.BrowserWindow | undefined;
  let engine: Engine | undefined;
  let quitting = false;

  app.on('second-instance', () => {
    if (!win) return;
    if (win.isMinimized()) win.restore();
    win.focus();
  });

  // Any web contents created later (devtools excepted) gets the same navigation rules.
  // window.open of a running server's lab page opens it in the real browser (the lab's whole point).
  app.on('web-contents-created', (_e, contents) =>
    hardenContents(contents, shell, () => engine?.labUrls() ?? []),
  );

  const openLink = (url: string) => {
    if (isAllowedExternal(url)) void shell.openExternal(url);
  };

  /** Start-up failed before there was a window to explain it in: say so, with the fix, then quit. */
  const fatal = (e: unknown) => {
    const hint = (e as { hint?: string }).hint;
    dialog.showErrorBox(
      'WSS Studio cannot start',
      `${e instanceof Error ? e.message : String(e)}${hint ? `\n\n${hint}` : ''}`,
    );
    app.quit();
  };

  const start = async () => {
    // State lives where the CLI and web mode keep it (resolveHome): a CA made in the app is the one
    // `wss-studio cert issue` uses. Electron's userData keeps only Chromium's own caches.
    const renderer = findRendererDir();
    registerAppProtocol(protocol, renderer.dir);
    denyPermissions(session.defaultSession);

    try {
      engine = createEngine({
        shell: 'electron',
        hooks: electronHooks({
          dialog,
          clipboard,
          shell,
          window: () => win,
          downloadsDir: () => app.getPath('downloads'),
        }),
      });
    } catch (e) {
      // E.g. a state folder written by a newer version: say so (with its fix) instead of dying silently.
      fatal(e);
      return;
    }
    const eng = engine;
    bindIpc(ipcMain, eng, (event) => isTrustedSender(event, () => win?.webContents));
    Menu.setApplicationMenu(
      Menu.buildFromTemplate(
        menuTemplate(process.platform, { openLink, reload: () => win?.webContents.reload() }),
      ),
    );

    const bounds = loadBounds(
      eng.store,
      screen.getAllDisplays().map((d) => d.workArea),
    );
    const w = new BrowserWindow(windowOptions(path.join(__dirname, 'preload.cjs'), bounds));
    win = w;
    const stopEvents = forwardEvents(eng, (ch, stream, data) => {
      if (!w.isDestroyed()) w.webContents.send(ch, stream, data);
    });
    w.once('ready-to-show', () => w.show());
    w.on('close', () => saveBounds(eng.store, w.getNormalBounds()));
    w.on('closed', () => {
      stopEvents();
      win = undefined;
    });

    // A page that fails to load or a renderer that dies gets the window shown (it starts hidden) with what
    // happened, the fix and Reload / Quit, instead of an invisible window or Electron's error box.
    const onFailure = failureHandler({
      async ask(f) {
        if (w.isDestroyed()) return false;
        w.show();
        const r = await dialog.showMessageBox(w, {
          type: 'error',
          title: 'WSS Studio',
          message: f.message,
          detail: f.fix,
          buttons: ['Reload', 'Quit'],
          defaultId: 0,
          cancelId: 1,
        });
        return r.response === 0;
      },
      reload: () => void load(),
      quit: () => app.quit(),
    });
    const report = (e: FailureEvent) => void onFailure(e).catch(fatal);
    const load = () =>
      w.loadURL(APP_URL).catch((error: unknown) => {
        const again = findRendererDir();
        report({ kind: 'load', error, rendererBuilt: again.built, rendererDir: again.dir });
      });
    w.webContents.on('did-fail-load', (_e, errorCode, errorDescription, url, isMainFrame) => {
      if (isMainFrame) report({ kind: 'did-fail-load', errorCode, errorDescription, url });
    });
    w.webContents.on('render-process-gone', (_e, details) =>
      report({ kind: 'render-process-gone', reason: details.reason, exitCode: details.exitCode }),
    );
    await load();
    try {
      await eng.startEnabledServers();
    } catch {
      // Each server reports its own start error on its card (server.status).
    }
  };

  app.whenReady().then(start).catch(fatal);

  // Quit cleanly: stop every echo server before the process goes.
  app.on('before-quit', (event) => {
    if (quitting || !engine) return;
    event.preventDefault();
    quitting = true;
    void engine.close().finally(() => app.quit());
  });
  app.on('window-all-closed', () => app.quit());
}
