// app.*: what only a shell can do (clipboard, save dialog, opening links). The Electron shell passes
// hooks backed by native APIs; web mode passes none, and the page does these itself (answer: false).
import type { AppInfo } from '../../shared/api';
import { failure, inputError, q } from '../../shared/errors';
import { VERSION } from '../../shared/version';
import type { Handlers } from './dispatch';
import type { CoreDeps } from './deps';
import { EXTERNAL_LINK_PREFIXES, isAllowedExternal } from './external';
import { setupStores } from './setup-rules';

export function appHandlers(
  d: CoreDeps,
): Pick<Handlers, 'app.info' | 'app.openExternal' | 'app.copy' | 'app.saveFile'> {
  return {
    'app.info': (): AppInfo => ({
      version: VERSION,
      setupStores: setupStores(process.platform),
      home: d.store.root,
      shell: d.shell === 'electron' ? 'electron' : 'web',
      platform: process.platform,
      native: d.shell === 'electron',
      externalLinks: [...EXTERNAL_LINK_PREFIXES],
    }),
    'app.openExternal': async ({ url }) => {
      if (!isAllowedExternal(url, d.labUrls())) {
        throw inputError(
          'LINK_NOT_ALLOWED',
          `open ${q(url)}`,
          'the link is not on the allow-list',
          {
            field: 'url',
            hint: `only https documentation links (${EXTERNAL_LINK_PREFIXES.join(', ')}) and running lab pages open`,
          },
        );
      }
      if (!d.hooks.openExternal) return { opened: false };
      return { opened: await d.hooks.openExternal(url) };
    },
    'app.copy': async ({ text }) => ({ copied: d.hooks.copy ? await d.hooks.copy(text) : false }),
    'app.saveFile': async ({ suggestedName, dataBase64 }) => {
      if (/[/\\]/.test(suggestedName) || suggestedName.startsWith('.')) {
        throw inputError(
          'INVALID_INPUT',
          'save file',
          `name ${q(suggestedName)} is not a plain file name`,
          {
            field: 'suggestedName',
            hint: 'pass a file name without folders, e.g. "localhost.pem"',
          },
        );
      }
      if (!d.hooks.saveFile) return { saved: false };
      try {
        return await d.hooks.saveFile(suggestedName, Buffer.from(dataBase64, 'base64'));
      } catch (e) {
        throw failure(
          'SAVE_FAILED',
          `save ${q(suggestedName)}`,
          e instanceof Error ? e.message : String(e),
        );
      }
    },
  };
}
