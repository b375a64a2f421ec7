// The one way every CLI command finds the state folder: from the command's own environment and working
// folder (Io), never from the process's, so in-process runs with another env see the same store.
import { openStore, resolveHome, type Store } from '../store';
import type { Io } from './command';

export function homeFor(io: Io): string {
  return resolveHome(io.env, io.cwd);
}

export function storeFor(io: Io): Store {
  const store = openStore(homeFor(io));
  for (const r of store.recovered) io.err(`note: after an interrupted change, ${r}`);
  return store;
}
