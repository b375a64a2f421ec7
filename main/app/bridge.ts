// What the preload exposes as window.wssStudio: one function per request (derived from the contract) and a
// subscribe() whose callback gets only the data, never the IPC event object or ipcRenderer itself.
// Imported by the sandboxed preload: depends on nothing but the contract table and the channel names.
import type { IpcRenderer, IpcRendererEvent } from 'electron';
import { isStreamName, requestNames } from '../../shared/api';
import type { PreloadBridge } from '../../shared/client';
import { channelFor, EVENT_CHANNEL } from '../../shared/ipc-channels';

export function buildBridge(
  ipc: Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>,
): PreloadBridge {
  const requests = {} as PreloadBridge['requests'];
  for (const name of requestNames) {
    const channel = channelFor(name);
    requests[name] = (input: unknown) => ipc.invoke(channel, input);
  }
  Object.freeze(requests);
  return Object.freeze({
    requests,
    subscribe(stream: string, cb: (data: unknown) => void): () => void {
      if (!isStreamName(stream) || typeof cb !== 'function') return () => {};
      const listener = (_event: IpcRendererEvent, s: unknown, data: unknown) => {
        if (s === stream) cb(data);
      };
      ipc.on(EVENT_CHANNEL, listener);
      return () => {
        ipc.removeListener(EVENT_CHANNEL, listener);
      };
    },
  });
}
