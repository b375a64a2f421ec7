// Windows: the current user's Root store through the built-in certutil.exe (no administrator needed;
// Windows itself shows a confirmation dialog when a root is added to the user store).
//   install   certutil -user -addstore Root <cert>
//   uninstall certutil -user -delstore Root <SHA-1 thumbprint>
//   status    certutil -user -store Root <SHA-1 thumbprint>   (exit 0 and the same "Cert Hash(sha1)")
// We always call %SystemRoot%\System32\certutil.exe by full path: NSS also ships a "certutil".
// This machine cannot run it: the command lines and the parsing are unit-tested with real-format samples.
import path from 'node:path';
import type { StoreChange, StoreStatus, TrustCa, TrustContext, TrustStore } from './types';
import { firstLine, normHex, sha1Hex, winLine } from './util';

const LABEL = 'Windows user Root store';

export function windowsCertutil(ctx: Pick<TrustContext, 'env'>): string {
  const sysroot = ctx.env.SystemRoot || ctx.env.SYSTEMROOT || 'C:\\Windows';
  return path.win32.join(sysroot, 'System32', 'certutil.exe');
}

export function winInstallArgs(ca: TrustCa): string[] {
  return ['-user', '-addstore', 'Root', ca.certPath];
}

export function winUninstallArgs(ca: TrustCa): string[] {
  return ['-user', '-delstore', 'Root', sha1Hex(ca)];
}

export function winStatusArgs(ca: TrustCa): string[] {
  return ['-user', '-store', 'Root', sha1Hex(ca)];
}

/** The SHA-1 thumbprints in `certutil -store` output ("Cert Hash(sha1): 3b 1e ..." or "3b1e..."). */
export function parseCertutilStore(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /Cert Hash\(sha1\):\s*([0-9A-Fa-f ]+)\s*$/.exec(line);
    if (m) out.push(normHex(m[1] as string));
  }
  return out;
}

/** certutil reports "CRYPT_E_NOT_FOUND" (0x80092004) when no certificate matches. */
export function isNotFound(text: string): boolean {
  return /0x80092004|CRYPT_E_NOT_FOUND/i.test(text);
}

/** The line a user can paste into cmd.exe or PowerShell. */
export function winCommandLine(ctx: Pick<TrustContext, 'env'>, args: string[]): string {
  return winLine([windowsCertutil(ctx), ...args]);
}

async function measure(ca: TrustCa, ctx: TrustContext): Promise<StoreStatus> {
  if (ctx.platform !== 'win32') {
    return {
      store: 'windows',
      label: LABEL,
      state: 'not-present',
      detail: `not Windows (${ctx.platform})`,
    };
  }
  const exe = windowsCertutil(ctx);
  const r = await ctx.run(exe, winStatusArgs(ca));
  if (r.spawnError === 'ENOENT') {
    return { store: 'windows', label: LABEL, state: 'tool-missing', detail: `${exe} not found` };
  }
  const thumb = sha1Hex(ca);
  const found = r.code === 0 && parseCertutilStore(r.stdout).includes(thumb);
  if (!found && r.code !== 0 && !isNotFound(r.stdout + r.stderr)) {
    return {
      store: 'windows',
      label: LABEL,
      state: 'error',
      detail: `certutil -store failed: ${firstLine(r.stdout, r.stderr) || r.spawnError}`,
    };
  }
  return {
    store: 'windows',
    label: LABEL,
    state: found ? 'trusted' : 'not-trusted',
    detail: found
      ? `in CurrentUser\\Root (thumbprint ${thumb})`
      : `not in CurrentUser\\Root (thumbprint ${thumb})`,
    ...(found ? {} : { fix: `${ctx.cliName} trust install --stores windows` }),
    targets: [
      {
        label: 'CurrentUser\\Root',
        path: 'Cert:\\CurrentUser\\Root',
        state: found ? 'trusted' : 'not-trusted',
      },
    ],
  };
}

export const windowsStore: TrustStore = {
  id: 'windows',
  label: LABEL,

  async detect(ctx) {
    return ctx.platform === 'win32';
  },

  status: measure,

  async install(ca, ctx) {
    const before = await measure(ca, ctx);
    if (before.state !== 'not-trusted') return { ...before, changed: false };
    const r = await ctx.run(windowsCertutil(ctx), winInstallArgs(ca), { timeoutMs: 300_000 });
    const after = await measure(ca, ctx);
    if (r.code !== 0) {
      // Declining Windows' confirmation dialog ends here too (ERROR_CANCELLED, 0x800704c7).
      return {
        ...after,
        state: 'error',
        detail: `${winCommandLine(ctx, winInstallArgs(ca))} failed: ${firstLine(r.stdout, r.stderr)}`,
        changed: false,
      };
    }
    return { ...after, changed: true };
  },

  async uninstall(ca, ctx) {
    const before = await measure(ca, ctx);
    if (before.state !== 'trusted') {
      const res: StoreChange = { ...before, changed: false };
      delete res.fix;
      return res;
    }
    const r = await ctx.run(windowsCertutil(ctx), winUninstallArgs(ca), { timeoutMs: 300_000 });
    const after = await measure(ca, ctx);
    delete after.fix;
    if (r.code !== 0) {
      return {
        ...after,
        state: 'error',
        detail: `${winCommandLine(ctx, winUninstallArgs(ca))} failed: ${firstLine(r.stdout, r.stderr)}`,
        changed: false,
      };
    }
    return { ...after, changed: true };
  },
};
