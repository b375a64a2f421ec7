// The doctor's one-click fix for MIXED_CONTENT_BLOCKED: put a trusted wss:// front before the ws:// server
// the https:// page cannot open. Pure: builds the proxy.add input the UI calls.
import { isIP } from 'node:net';
import type { FixAction } from '../../shared/api';

/** A free-looking public port next to the target's: 8443, or 9443 when the target already uses 8443. */
function publicPort(targetPort: number): number {
  return targetPort === 8443 ? 9443 : 8443;
}

/**
 * The front listens on 127.0.0.1, so the page can only reach wss://NAME:PORT when NAME points at this
 * machine; the ws:// server behind a name is then this machine's too, and is reached as localhost (which
 * also finds a server bound to ::1 only, as Vite's default is). An IP address is kept as it is.
 */
export function frontWithWss(t: { host: string; port: number; path: string }): FixAction {
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  const targetHost = isIP(t.host) ? host : 'localhost';
  const port = publicPort(t.port);
  return {
    kind: 'proxy.add',
    label: 'Front it with wss://',
    input: {
      publicUrl: `https://${host}:${port}`,
      target: `http://${targetHost}:${t.port}`,
      start: true,
    },
    newUrl: `wss://${host}:${port}${t.path}`,
  };
}
