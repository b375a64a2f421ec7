// Copying text from the page. In the desktop app the native `app.copy` request does it: the window's
// session denies every permission check (main/app/security.ts), `clipboard-sanitized-write` included, so
// navigator.clipboard.writeText always rejects there. In web mode the page copies itself: the Clipboard
// API, else a selected hidden textarea (execCommand) when the API is missing or refuses (no focus, http).
import {
  BRIDGE_GLOBAL,
  createClient,
  ipcTransport,
  type PreloadBridge,
} from '../../../shared/client';

export async function copyText(text: string, g: object = globalThis): Promise<boolean> {
  const bridge = (g as Record<string, unknown>)[BRIDGE_GLOBAL] as PreloadBridge | undefined;
  if (bridge && typeof bridge.requests?.['app.copy'] === 'function') {
    try {
      const r = await createClient(ipcTransport(bridge)).call('app.copy', { text });
      if (r.copied) return true;
    } catch {
      // fall through to the page's own ways
    }
  }
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.className = 'visually-hidden';
    document.body.appendChild(ta);
    ta.select();
    const ok = document.execCommand('copy');
    ta.remove();
    return ok;
  }
}
