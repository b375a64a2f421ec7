// Opening a lab page: in the desktop app the window never navigates away, so the engine opens the URL in
// the user's browser (app.openExternal); in web mode the link's own target="_blank" does it.
import type { Studio } from './studio.svelte';
import { errorText } from './format';

/** Click handler for a lab link. Resolves to an error sentence, or '' when it opened (or web mode). */
export async function openExternal(studio: Studio, e: MouseEvent, url: string): Promise<string> {
  if (!studio.info?.native) return '';
  e.preventDefault();
  try {
    const r = await studio.api.call('app.openExternal', { url });
    return r.opened ? '' : `could not open ${url}: copy it into your browser`;
  } catch (err) {
    return errorText(err).message;
  }
}
