// The ipcMain binding, derived from the contract table: one `ipcMain.handle` per request name, the sender
// checked on every call, the reply as plain data ({ ok, result | error }) because errors thrown across IPC
// lose their fields. Events go to the window on one channel, already batched by the engine.
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { requestNames, streamNames } from '../../shared/api';
import type { Engine, Reply } from '../engine';

import { channelFor, EVENT_CHANNEL } from '../../shared/ipc-channels';

export { channelFor, EVENT_CHANNEL };

const REFUSED: Reply = {
  ok: false,
  error: {
    code: 'SENDER_REFUSED',
    action: 'answer IPC request',
    cause: 'the request did not come from the WSS Studio window',
    kind: 'failure',
  },
};

export function bindIpc(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>,
  engine: Pick<Engine, 'call'>,
  isTrusted: (event: IpcMainInvokeEvent) => boolean,
): () => void {
  for (const name of requestNames) {
    ipcMain.handle(channelFor(name), async (event, input: unknown) => {
      if (!isTrusted(event)) return REFUSED;
      return engine.call(name, input, { shell: 'electron' });
    });
  }
  return () => {
    for (const name of requestNames) ipcMain.removeHandler(channelFor(name));
  };
}

/** Subscribe the window to every stream; `send` is webContents.send while the window lives. */
export function forwardEvents(
  engine: Pick<Engine, 'subscribe'>,
  send: (channel: string, stream: string, data: unknown) => void,
): () => void {
  const offs = streamNames.map((s) => engine.subscribe(s, (data) => send(EVENT_CHANNEL, s, data)));
  return () => offs.forEach((off) => off());
}
