// The Electron IPC channel names, in one dependency-free module (only a type import) that both ends use:
// main/app/ipc.ts (ipcMain.handle, webContents.send) and main/app/bridge.ts (the sandboxed preload).
// The same idea as GitHub Desktop's ipc-shared.ts: a channel name written twice is a channel that can drift.
import type { RequestName } from './api';

/** IPC channel of one request: "api:cert.issue". */
export const channelFor = (name: RequestName): string => `api:${name}`;

/** The one channel that carries every event stream to the window: (stream name, data). */
export const EVENT_CHANNEL = 'api:event';
