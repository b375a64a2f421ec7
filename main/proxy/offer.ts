// The doctor's one-click fix for MIXED_CONTENT_BLOCKED: put a trusted wss:// front before the ws:// server
// the https:// page cannot open. Pure: builds the proxy.add input the UI calls.
import type { FixAction } from '../../shared/api';

/** A free-looking public port next to the target's: 8443, or 9443 when the target already uses 8443. */
function publicPort(targetPort: number): number {
  return targetPort === 8443 ? 9443 : 8443;
}

export function frontWithWss(t: { host: string; port: number; path: string }): FixAction {
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  const port = publicPort(t.port);
  return {
    kind: 'proxy.add',
    label: 'Front it with wss://',
    input: {
      publicUrl: `https://${host}:${port}`,
      target: `http://${host}:${t.port}`,
      start: true,
    },
    newUrl: `wss://${host}:${port}${t.path}`,
  };
}
