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
import { loadBounds, saveBounds } from './window-state';

const { app, BrowserWindow, Menu, clipboard, dialog, ipcMain, protocol, screen, session, shell } =
  electron;

// Checklist #10: no insecure legacy; one instance only (a second launch focuses the first window).
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
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

  app.whenReady().then(async () => {
    // State lives where the CLI and web mode keep it (resolveHome): a CA made in the app is the one
    // `wss-studio cert issue` uses. Electron's userData keeps only Chromium's own caches.
    const rendererDir = findRendererDir().dir;
    registerAppProtocol(protocol, rendererDir);
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
      const hint = (e as { hint?: string }).hint;
      dialog.showErrorBox(
        'WSS Studio cannot start',
        `${e instanceof Error ? e.message : String(e)}${hint ? `\n\n${hint}` : ''}`,
      );
      app.quit();
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
    win = new BrowserWindow(windowOptions(path.join(__dirname, 'preload.cjs'), bounds));
    const stopEvents = forwardEvents(eng, (ch, stream, data) => {
      if (win && !win.isDestroyed()) win.webContents.send(ch, stream, data);
    });
    win.once('ready-to-show', () => win?.show());
    win.on('close', () => {
      if (win) saveBounds(eng.store, win.getNormalBounds());
    });
    win.on('closed', () => {
      stopEvents();
      win = undefined;
    });
    await win.loadURL(APP_URL);
    try {
      await eng.startEnabledServers();
    } catch {
      // Each server reports its own start error on its card (server.status).
    }
  });

  // Quit cleanly: stop every echo server before the process goes.
  app.on('before-quit', (event) => {
    if (quitting || !engine) return;
    event.preventDefault();
    quitting = true;
    void engine.close().finally(() => app.quit());
  });
  app.on('window-all-closed', () => app.quit());
}
