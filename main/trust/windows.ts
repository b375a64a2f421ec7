// Windows: the current user's Root store through the built-in certutil.exe (no administrator needed;
// Windows itself shows a confirmation dialog when a root is added to the user store).
//   install   certutil -user -addstore Root <cert>
//   uninstall certutil -user -delstore Root <SHA-1 thumbprint>
//   status    certutil -user -store Root <SHA-1 thumbprint>   (exit 0 and the same "Cert Hash(sha1)")
// We always call %SystemRoot%\System32\certutil.exe by full path: NSS also ships a "certutil".
//
// WSL: the developer's server runs in Linux, the browser in Windows, which reads this store, not Linux's.
// Inside WSL (the kernel's /proc/version says "microsoft") the same store is managed through interop:
// certutil.exe / powershell.exe found on the Windows part of PATH (/mnt/c/Windows/System32). Status lists
// the whole user Root store (certutil -user -store Root; PowerShell's Get-ChildItem Cert:\CurrentUser\Root
// when only powershell.exe is there) so
// a different CA with our name (an older WSS Studio CA, a copy made on Windows) is flagged, not mistaken
// for ours: the match is by SHA-1 thumbprint only.
// This machine cannot run them: the command lines and the parsing are unit-tested with published samples.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { StoreChange, StoreStatus, TrustCa, TrustContext, TrustStore } from './types';
import { findOnPath, firstLine, normHex, sha1Hex, winLine } from './util';

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
  return parseCertutilEntries(text).map((e) => e.thumbprint);
}

/** certutil reports "CRYPT_E_NOT_FOUND" (0x80092004) when no certificate matches. */
export function isNotFound(text: string): boolean {
  return /0x80092004|CRYPT_E_NOT_FOUND/i.test(text);
}

/** The line a user can paste into cmd.exe or PowerShell. */
export function winCommandLine(ctx: Pick<TrustContext, 'env'>, args: string[]): string {
  return winLine([windowsCertutil(ctx), ...args]);
}

// ---- WSL ------------------------------------------------------------------------------------------------

/** The WSL kernel's /proc/version names Microsoft ("...-microsoft-standard-WSL2", "...-Microsoft" on WSL1). */
export function isWslKernel(procVersion: string): boolean {
  return /microsoft|\bWSL/i.test(procVersion);
}

/** Whether this Linux is WSL: reads <root>/proc/version (ctx.root is "/" in real use, a temp folder in tests). */
export function inWsl(ctx: Pick<TrustContext, 'platform' | 'root'>): boolean {
  if (ctx.platform !== 'linux') return false;
  try {
    return isWslKernel(readFileSync(path.join(ctx.root, 'proc', 'version'), 'utf8'));
  } catch {
    return false;
  }
}

/** The PowerShell line that lists the user Root store, one "THUMBPRINT  Subject" row each, never cut. */
export const PS_LIST_ROOT =
  'Get-ChildItem Cert:\\CurrentUser\\Root | Format-Table Thumbprint,Subject -AutoSize | Out-String -Width 4096';

export function psListArgs(): string[] {
  return ['-NoProfile', '-NonInteractive', '-Command', PS_LIST_ROOT];
}

export interface RootEntry {
  thumbprint: string;
  subject: string;
}

/**
 * Rows of PowerShell's certificate table (Get-ChildItem Cert:\...):
 *   Thumbprint                                Subject
 *   ----------                                -------
 *   CDD4EEAE6000AC7F40C3802C171E30148030C072  CN=Microsoft Root Certificate Authority, DC=microsoft, DC=com
 */
export function parsePsCertTable(text: string): RootEntry[] {
  const out: RootEntry[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([0-9A-Fa-f]{40})\s+(\S.*?)\s*$/.exec(line);
    if (m) out.push({ thumbprint: normHex(m[1] as string), subject: m[2] as string });
  }
  return out;
}

/**
 * Each certificate block of `certutil -store` output: its subject and its SHA-1 hash. certutil translates
 * its labels ("Subject:", "Cert Hash(sha1):" are "使用者:", "证书哈希(sha1):" on a Chinese Windows), so the
 * parse keys on what does not change: the "(sha1):" suffix (the first one of a block: -v adds key-id
 * hashes after it) and the subject as the last DN line before it (the issuer comes first).
 */
export function parseCertutilEntries(text: string): RootEntry[] {
  const out: RootEntry[] = [];
  let subject = '';
  let hashed = false;
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*=+ .*\d+ =+\s*$/.test(line)) {
      subject = '';
      hashed = false;
      continue;
    }
    const h = /\(sha1\):\s*([0-9A-Fa-f ]+?)\s*$/.exec(line);
    if (h && !hashed) {
      out.push({ thumbprint: normHex(h[1] as string), subject });
      hashed = true;
      continue;
    }
    const dn = /^\s*[^:=]+:\s*((?:CN|OU|O|E|C|L|S|DC)=.*?)\s*$/.exec(line);
    if (dn && !hashed) subject = dn[1] as string;
  }
  return out;
}

/** The CN of a Windows-formatted subject ("CN=WSS Studio dev@PC, OU=..."), or the subject itself. */
export function cnOfSubject(subject: string): string {
  const m = /(?:^|,\s*)CN=("(?:[^"]|"")*"|[^,]*)/.exec(subject);
  if (!m) return subject.trim();
  const v = (m[1] as string).trim();
  return v.length > 1 && v.startsWith('"') && v.endsWith('"')
    ? v.slice(1, -1).replace(/""/g, '"')
    : v;
}

interface WslTools {
  certutil: string | null;
  powershell: string | null;
}

function wslTools(ctx: TrustContext): WslTools {
  return {
    certutil: findOnPath('certutil.exe', ctx),
    powershell: findOnPath('powershell.exe', ctx),
  };
}

/** The CA file as Windows sees it: `wslpath -w`, else \\wsl.localhost\<distro>\... */
async function windowsPathOf(file: string, ctx: TrustContext): Promise<string> {
  const wslpath = findOnPath('wslpath', ctx);
  const r = wslpath ? await ctx.run(wslpath, ['-w', file]) : null;
  const out = r?.code === 0 ? r.stdout.trim() : '';
  if (out) return out;
  const distro = ctx.env.WSL_DISTRO_NAME || 'Ubuntu';
  return `\\\\wsl.localhost\\${distro}${file.replace(/\//g, '\\')}`;
}

const WSL_LABEL = 'Windows user Root store (through WSL)';

async function measureWsl(ca: TrustCa, ctx: TrustContext): Promise<StoreStatus> {
  const base = { store: 'windows' as const, label: WSL_LABEL };
  const tools = wslTools(ctx);
  if (!tools.certutil && !tools.powershell) {
    return {
      ...base,
      state: 'tool-missing',
      detail:
        'neither certutil.exe nor powershell.exe is on PATH: WSL interop with the Windows PATH is off, so Windows cannot be asked',
      fix: INTEROP_FIX,
    };
  }
  // certutil.exe starts in a fraction of the time powershell.exe takes (this runs on every `ca show`);
  // PowerShell's table is the fallback, and the only way when certutil.exe is not on PATH.
  const viaPs = !tools.certutil;
  const r = viaPs
    ? await ctx.run(tools.powershell as string, psListArgs(), { timeoutMs: 60_000 })
    : await ctx.run(tools.certutil as string, ['-user', '-store', 'Root'], { timeoutMs: 60_000 });
  if (r.code !== 0) {
    return {
      ...base,
      state: 'error',
      detail: `${viaPs ? 'powershell.exe Get-ChildItem Cert:\\CurrentUser\\Root' : 'certutil.exe -user -store Root'} failed: ${
        firstLine(r.stdout, r.stderr) || r.spawnError || `exit ${r.code}`
      }`,
    };
  }
  const entries = viaPs ? parsePsCertTable(r.stdout) : parseCertutilEntries(r.stdout);
  const thumb = sha1Hex(ca);
  const found = entries.some((e) => e.thumbprint === thumb);
  const twins = entries.filter(
    (e) => e.thumbprint !== thumb && cnOfSubject(e.subject) === ca.commonName,
  );
  const warnings = twins.map(
    (t) =>
      `a different CA with the same name "${ca.commonName}" is in the Windows user Root store (thumbprint ${t.thumbprint}): it does not make Windows trust this CA; if it is an old WSS Studio CA, remove it with certutil.exe -user -delstore Root ${t.thumbprint}`,
  );
  return {
    ...base,
    state: found ? 'trusted' : 'not-trusted',
    detail: `${found ? 'in' : 'not in'} CurrentUser\\Root (thumbprint ${thumb}; ${entries.length} certificate${entries.length === 1 ? '' : 's'} listed)`,
    ...(found ? {} : { fix: `${ctx.cliName} trust install --stores windows` }),
    ...(warnings.length ? { warnings } : {}),
    targets: [
      {
        label: 'CurrentUser\\Root',
        path: 'Cert:\\CurrentUser\\Root',
        state: found ? 'trusted' : 'not-trusted',
      },
    ],
  };
}

const INTEROP_FIX =
  'enable it in /etc/wsl.conf ([interop] enabled=true, appendWindowsPath=true), then run "wsl --shutdown" in Windows and re-open WSL';

/** In WSL, changing the store needs certutil.exe (PowerShell alone only reads it). */
function wslWithoutCertutil(
  ctx: TrustContext,
): Pick<StoreStatus, 'state' | 'detail' | 'fix'> | null {
  if (!inWsl(ctx) || wslTools(ctx).certutil) return null;
  return {
    state: 'tool-missing',
    detail:
      'certutil.exe (C:\\Windows\\System32) is not on PATH: it is needed to change the Windows store',
    fix: INTEROP_FIX,
  };
}

/** certutil.exe to run and the install arguments: by full path on Windows, through interop in WSL. */
async function plan(
  ca: TrustCa,
  ctx: TrustContext,
): Promise<{ exe: string; install: string[]; uninstall: string[] }> {
  if (ctx.platform === 'win32') {
    return {
      exe: windowsCertutil(ctx),
      install: winInstallArgs(ca),
      uninstall: winUninstallArgs(ca),
    };
  }
  const exe = wslTools(ctx).certutil ?? 'certutil.exe';
  const winPath = await windowsPathOf(ca.certPath, ctx);
  return {
    exe,
    install: ['-user', '-addstore', 'Root', winPath],
    uninstall: winUninstallArgs(ca),
  };
}

async function measure(ca: TrustCa, ctx: TrustContext): Promise<StoreStatus> {
  if (inWsl(ctx)) return measureWsl(ca, ctx);
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
    return ctx.platform === 'win32' || inWsl(ctx);
  },

  status: measure,

  async install(ca, ctx) {
    const before = await measure(ca, ctx);
    if (before.state !== 'not-trusted') return { ...before, changed: false };
    const noTool = wslWithoutCertutil(ctx);
    if (noTool) return { ...before, ...noTool, changed: false };
    const p = await plan(ca, ctx);
    const r = await ctx.run(p.exe, p.install, { timeoutMs: 300_000 });
    const after = await measure(ca, ctx);
    if (r.code !== 0) {
      // Declining Windows' confirmation dialog ends here too (ERROR_CANCELLED, 0x800704c7).
      return {
        ...after,
        state: 'error',
        detail: `${winLine([p.exe, ...p.install])} failed: ${firstLine(r.stdout, r.stderr)}`,
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
    const noTool = wslWithoutCertutil(ctx);
    if (noTool) return { ...before, ...noTool, changed: false };
    const p = await plan(ca, ctx);
    const r = await ctx.run(p.exe, p.uninstall, { timeoutMs: 300_000 });
    const after = await measure(ca, ctx);
    delete after.fix;
    if (r.code !== 0) {
      return {
        ...after,
        state: 'error',
        detail: `${winLine([p.exe, ...p.uninstall])} failed: ${firstLine(r.stdout, r.stderr)}`,
        changed: false,
      };
    }
    return { ...after, changed: true };
  },
};
