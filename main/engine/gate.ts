// The guard for operations that widen what whoever drives the engine could do: a CA that can issue for
// public sites (created, imported from mkcert, or trusted) and servers reachable from other machines.
// - Web mode: run only when `wss-studio ui` was started with the flag that allows them. The page alone
//   cannot unlock them (a leaked token is all an attacker needs to drive the page's API); the user at the
//   terminal can.
//     --allow-unconstrained  a CA without name constraints or with an effectively global permit list,
//                            importing an mkcert CA (mkcert CAs are never name-constrained), trusting such a CA
//     --allow-lan            adding or changing a server or proxy to listen beyond loopback
// - Desktop app: a native confirmation dialog (outside the page), as for trusting and replacing the CA.
// - CLI and tests: the user at the terminal; nothing to ask.
import type { RequestName, ParsedInput } from '../../shared/api';
import { inputError, q } from '../../shared/errors';
import { globalPermits, isLoopbackBind } from '../../shared/permits';
import { loadCa } from '../pki';
import type { CallContext, Guard, WebAllow } from './dispatch';
import type { CoreDeps } from './deps';
import { confirmOrCancel } from './confirm';

export const WEB_FLAGS: Record<keyof WebAllow, string> = {
  unconstrained: '--allow-unconstrained',
  lan: '--allow-lan',
};

interface Widening {
  what: keyof WebAllow;
  action: string;
  cause: string;
  /** The desktop app's dialog; none where the handler already confirms natively (trust.install). */
  dialog?: { title: string; ok: string };
}

const quoteList = (xs: string[]) => xs.map((x) => JSON.stringify(x)).join(', ');

/** What a request would widen, or undefined for an ordinary one. */
function widening(d: CoreDeps, name: RequestName, input: unknown): Widening | undefined {
  if (name === 'ca.create') {
    const i = input as ParsedInput<'ca.create'>;
    const wide = globalPermits(i.permitted ?? []);
    if (i.constrained !== false && !wide.length) return undefined;
    return {
      what: 'unconstrained',
      action: 'create CA',
      cause:
        i.constrained === false
          ? 'a CA without name constraints can impersonate any site'
          : `permitted ${quoteList(wide)} covers public sites`,
      dialog: { title: 'Create a CA that can sign for public sites?', ok: 'Create CA' },
    };
  }
  if (name === 'ca.importMkcert') {
    return {
      what: 'unconstrained',
      action: 'import mkcert CA',
      cause: 'an mkcert CA has no name constraints and its key was made elsewhere',
      dialog: { title: 'Import a CA without name constraints?', ok: 'Import CA' },
    };
  }
  if (name === 'trust.install') {
    const ca = loadCa(d.store);
    if (!ca || (ca.constrained && !globalPermits(ca.permitted).length)) return undefined;
    return {
      what: 'unconstrained',
      action: 'trust CA',
      cause: `${q(ca.commonName)} can issue certificates for public sites`,
    };
  }
  if (
    name === 'server.add' ||
    name === 'server.update' ||
    name === 'proxy.add' ||
    name === 'proxy.update'
  ) {
    const host =
      name === 'server.add'
        ? (input as ParsedInput<'server.add'>).host
        : name === 'server.update'
          ? (input as ParsedInput<'server.update'>).patch.host
          : name === 'proxy.add'
            ? (input as ParsedInput<'proxy.add'>).bindHost
            : (input as ParsedInput<'proxy.update'>).patch.bindHost;
    if (host === undefined || isLoopbackBind(host)) return undefined;
    return {
      what: 'lan',
      action: `listen on ${q(host)}`,
      cause: `${q(host)} is reachable from other machines`,
      dialog: { title: 'Open a server to your network?', ok: 'Listen on the network' },
    };
  }
  return undefined;
}

export function wideningGate(d: CoreDeps): Guard {
  return async (name: RequestName, input: unknown, ctx: CallContext) => {
    if (ctx.shell === 'test') return;
    const w = widening(d, name, input);
    if (!w) return;
    if (ctx.shell === 'web') {
      if (ctx.allow?.[w.what]) return;
      const flag = WEB_FLAGS[w.what];
      throw inputError(
        'NEEDS_FLAG',
        w.action,
        `${w.cause}; web mode allows this only when started with ${flag}`,
        {
          hint: `stop "wss-studio ui" and start it again as "wss-studio ui ${flag}" (or run the same step with the wss-studio CLI)`,
        },
      );
    }
    if (w.dialog) {
      await confirmOrCancel(
        d,
        { title: w.dialog.title, message: `${w.cause}.`, ok: w.dialog.ok },
        w.action,
      );
    }
  };
}
