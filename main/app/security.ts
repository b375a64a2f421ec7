// Window hardening, as data and small functions so it is tested without the Electron binary.
// Review list: Electron's security checklist (https://www.electronjs.org/docs/latest/tutorial/security),
// numbered as there: 1 secure content, 2 no Node for remote content, 3 context isolation, 4 sandbox,
// 5 permission handlers, 6 webSecurity, 7 CSP, 8 no insecure content, 9 no experimental features,
// 10 no enableBlinkFeatures, 11 no allowpopups, 12 verify webview options, 13 limit navigation, 14 limit
// new windows, 15 openExternal only for trusted URLs, 16 current Electron, 17 validate IPC senders,
// 18 custom protocol instead of file://, 19 fuses (electron-builder.yml), 20 no Electron APIs exposed.
import type {
  BrowserWindowConstructorOptions,
  IpcMainInvokeEvent,
  Session,
  WebContents,
} from 'electron';
import { contentSecurityPolicy } from '../web/security';
import { isAllowedExternal } from '../engine/external';

/** The renderer is loaded from our own files through this privileged custom scheme (checklist #18). */
export const APP_SCHEME = 'app';
export const APP_HOST = 'wss-studio';
export const APP_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** Same policy as web mode: scripts only from our files, nothing remote (checklist #1, #7). */
export const APP_CSP = contentSecurityPolicy();

export function windowOptions(
  preloadPath: string,
  bounds: { width: number; height: number; x?: number; y?: number },
): BrowserWindowConstructorOptions {
  return {
    ...bounds,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'WSS Studio',
    backgroundColor: '#1e1e1e',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true, // checklist #3
      sandbox: true, // checklist #4
      nodeIntegration: false, // checklist #2
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true, // checklist #6
      allowRunningInsecureContent: false, // checklist #8
      experimentalFeatures: false, // checklist #9
      webviewTag: false, // checklist #11, #12 (no <webview> at all)
      navigateOnDragDrop: false,
      spellcheck: false,
      safeDialogs: true,
      devTools: true,
    },
  };
}

/** Is this URL one of our own pages (app://wss-studio/...)? Node's URL gives origin "null" for custom schemes. */
export function isAppUrl(raw: string | undefined): boolean {
  if (!raw) return false;
  try {
    const u = new URL(raw);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
  } catch {
    return false;
  }
}

/**
 * IPC sender check (checklist #17): the call comes from our main window's top frame showing our own page.
 * A frame that navigated elsewhere, an iframe or another window is refused.
 */
export function isTrustedSender(
  event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>,
  mainContents: () => WebContents | undefined,
): boolean {
  const frame = event.senderFrame;
  if (!frame || frame.parent) return false;
  const wc = mainContents();
  if (!wc || event.sender !== wc) return false;
  return isAppUrl(frame.url);
}

type ElectronShell = { openExternal(url: string): Promise<void> };

/**
 * Navigation, new windows and permissions (checklist #13, #14, #15, #5): every navigation away from our page
 * is prevented; window.open opens allow-listed https links in the real browser and nothing in the app.
 */
export function hardenContents(
  contents: WebContents,
  shell: ElectronShell,
  labUrls: () => string[] = () => [],
): void {
  // The event object carries the URL (details.url); the positional url argument is deprecated.
  contents.on('will-navigate', (details) => {
    if (!isAppUrl(details.url)) details.preventDefault();
  });
  contents.on('will-redirect', (details) => {
    if (!isAppUrl(details.url)) details.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternal(url, labUrls())) void shell.openExternal(url);
    return { action: 'deny' };
  });
}

/** Deny every permission request and check (camera, notifications, geolocation ...): the app needs none. */
export function denyPermissions(session: Session): void {
  session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler?.(() => false);
}
