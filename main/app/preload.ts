// The preload, bundled by scripts/build.mjs into dist/app/preload.cjs. Sandbox-compatible: it uses only
// contextBridge and ipcRenderer from electron, and exposes the contract's functions, nothing raw.
import { contextBridge, ipcRenderer } from 'electron';
import { BRIDGE_GLOBAL } from '../../shared/client';
import { buildBridge } from './bridge';

contextBridge.exposeInMainWorld(BRIDGE_GLOBAL, buildBridge(ipcRenderer));
