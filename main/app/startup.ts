// Start-up decisions for the Electron main process, as data and small functions tested without the binary:
// the app's names and folders, and what the window says when its page fails to load or its renderer dies.
import path from 'node:path';

/** app.name: window titles, the macOS app menu ("Quit WSS Studio"), X11 WM_CLASS (StartupWMClass). */
export const PRODUCT_NAME = 'WSS Studio';

/**
 * Electron derives userData (Chromium's profile: caches, cookies, local storage) from app.name. With
 * productName "WSS Studio" that would be "~/Library/Application Support/WSS Studio" on macOS and
 * "%APPDATA%\WSS Studio" on Windows: exactly the state folder the CLI and web mode use (main/store
 * resolveHome), so Chromium's files would land among the CA and certificates. It stays where it was before
 * productName was set, under the package name, and is set explicitly before 'ready'.
 */
export function chromiumDataDir(appData: string): string {
  return path.join(appData, 'wss-studio');
}

export interface PageFailure {
  /** One sentence: what happened, with the cause. */
  message: string;
  /** What to do. */
  fix: string;
}

export type FailureEvent =
  | { kind: 'load'; error: unknown; rendererBuilt: boolean; rendererDir: string }
  | { kind: 'did-fail-load'; errorCode: number; errorDescription: string; url: string }
  | { kind: 'render-process-gone'; reason: string; exitCode: number };

/** Chromium's net error for a navigation replaced by another (a reload while loading): not a failure. */
export const ERR_ABORTED = -3;

/** What the window says, or null for events that are not failures (aborted loads, a clean exit). */
export function describeFailure(e: FailureEvent): PageFailure | null {
  switch (e.kind) {
    case 'load': {
      const cause = e.error instanceof Error ? e.error.message : String(e.error);
      if (!e.rendererBuilt) {
        return {
          message: `failed to load the WSS Studio window: the UI files are missing from "${e.rendererDir}" (${cause})`,
          fix: 'From a checkout run "npm run build" and start again; an installed app needs reinstalling. The CLI and web mode ("wss-studio ui") work meanwhile.',
        };
      }
      return {
        message: `failed to load the WSS Studio window: ${cause}`,
        fix: 'Reload. If it keeps failing, use web mode ("wss-studio ui") and report the error.',
      };
    }
    case 'did-fail-load':
      if (e.errorCode === ERR_ABORTED) return null;
      return {
        message: `failed to load "${e.url}": ${e.errorDescription} (${e.errorCode})`,
        fix: 'Reload. If it keeps failing, use web mode ("wss-studio ui") and report the error.',
      };
    case 'render-process-gone':
      if (e.reason === 'clean-exit') return null;
      return {
        message: `the WSS Studio window stopped: its page process ${e.reason === 'oom' ? 'ran out of memory' : `ended (${e.reason}, exit code ${e.exitCode})`}`,
        fix: 'Reload the window. Running servers keep running; the frame log shows what arrived meanwhile.',
      };
  }
}

export interface FailureUi {
  /** Show the (maybe still hidden) window and ask; resolves true for Reload. */
  ask(failure: PageFailure): Promise<boolean>;
  reload(): void;
  quit(): void;
}

/**
 * One prompt at a time: a failed load often fires did-fail-load and a rejected loadURL together, and the
 * user should see one question, not a stack of them.
 */
export function failureHandler(ui: FailureUi): (e: FailureEvent) => Promise<void> {
  let asking = false;
  return async (e) => {
    const f = describeFailure(e);
    if (!f || asking) return;
    asking = true;
    try {
      if (await ui.ask(f)) ui.reload();
      else ui.quit();
    } finally {
      asking = false;
    }
  };
}
