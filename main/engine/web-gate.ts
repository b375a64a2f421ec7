// Web mode's guard: the operations that widen what a leaked token could do run only when `wss-studio ui`
// was started with the flag that allows them. The page alone cannot unlock them; the user at the terminal
// can. The desktop app confirms the same operations in native dialogs instead (handlers-*.ts), and the CLI
// is the user at the terminal.
//   --allow-unconstrained  create a CA without name constraints or with an effectively global permit list,
//                          import an mkcert CA (mkcert CAs are never name-constrained), trust such a CA
//   --allow-lan            add or change a server to listen on an address other machines can reach
import type { RequestName, ParsedInput } from '../../shared/api';
import { inputError } from '../../shared/errors';
import { globalPermits, isLoopbackBind } from '../../shared/permits';
import { loadCa } from '../pki';
import type { CallContext, Guard, WebAllow } from './dispatch';
import type { Store } from '../store';

export const WEB_FLAGS: Record<keyof WebAllow, string> = {
  unconstrained: '--allow-unconstrained',
  lan: '--allow-lan',
};

function need(ctx: CallContext, what: keyof WebAllow, action: string, cause: string): void {
  if (ctx.allow?.[what]) return;
  const flag = WEB_FLAGS[what];
  throw inputError(
    'NEEDS_FLAG',
    action,
    `${cause}; web mode allows this only when started with ${flag}`,
    {
      hint: `stop "wss-studio ui" and start it again as "wss-studio ui ${flag}" (or run the same step with the wss-studio CLI)`,
    },
  );
}

export function webGate(store: Store): Guard {
  return (name: RequestName, input: unknown, ctx: CallContext) => {
    if (ctx.shell !== 'web') return;
    if (name === 'ca.create') {
      const i = input as ParsedInput<'ca.create'>;
      const wide = globalPermits(i.permitted ?? []);
      if (i.constrained === false) {
        need(
          ctx,
          'unconstrained',
          'create CA',
          'a CA without name constraints can impersonate any site',
        );
      } else if (wide.length) {
        need(
          ctx,
          'unconstrained',
          'create CA',
          `permitted ${wide.map((w) => JSON.stringify(w)).join(', ')} covers public sites`,
        );
      }
    } else if (name === 'ca.importMkcert') {
      need(
        ctx,
        'unconstrained',
        'import mkcert CA',
        'an mkcert CA has no name constraints and its key was made elsewhere',
      );
    } else if (name === 'trust.install') {
      const ca = loadCa(store);
      if (ca && (!ca.constrained || globalPermits(ca.permitted).length)) {
        need(
          ctx,
          'unconstrained',
          'trust CA',
          `"${ca.commonName}" can issue certificates for public sites`,
        );
      }
    } else if (name === 'server.add' || name === 'server.update') {
      const host =
        name === 'server.add'
          ? (input as ParsedInput<'server.add'>).host
          : (input as ParsedInput<'server.update'>).patch.host;
      if (host !== undefined && !isLoopbackBind(host)) {
        need(
          ctx,
          'lan',
          `listen on ${JSON.stringify(host)}`,
          `${JSON.stringify(host)} is reachable from other machines`,
        );
      }
    }
  };
}
