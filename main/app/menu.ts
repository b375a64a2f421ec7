// The application menu: standard roles plus links that go through the same openExternal allow-list.
import type { MenuItemConstructorOptions } from 'electron';

export const HELP_LINKS = {
  docs: 'https://github.com/wss-studio/wss-studio#readme',
  issues: 'https://github.com/wss-studio/wss-studio/issues',
  security: 'https://www.electronjs.org/docs/latest/tutorial/security',
} as const;

export function menuTemplate(
  platform: NodeJS.Platform,
  actions: { openLink(url: string): void; reload(): void },
): MenuItemConstructorOptions[] {
  const mac = platform === 'darwin';
  return [
    ...(mac ? [{ role: 'appMenu' as const }] : []),
    { label: 'File', submenu: [mac ? { role: 'close' as const } : { role: 'quit' as const }] },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        { label: 'Reload', accelerator: 'CmdOrCtrl+R', click: () => actions.reload() },
        { role: 'toggleDevTools' },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [
        { label: 'Documentation', click: () => actions.openLink(HELP_LINKS.docs) },
        { label: 'Report an issue', click: () => actions.openLink(HELP_LINKS.issues) },
        {
          label: 'Electron security checklist',
          click: () => actions.openLink(HELP_LINKS.security),
        },
      ],
    },
  ];
}
