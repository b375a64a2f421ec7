// Linux system store: drop our CA into the distribution's anchors folder and regenerate the bundle
// that OpenSSL, curl, Go, Python and (through it) most CLIs read. First match wins, like mkcert's
// truststore_linux.go. The file name carries the CA serial so uninstall removes exactly ours; matching
// is still done on the file's DER bytes so that another certificate is never removed.
// Status is measured from the generated bundle (does it contain our CA?), never from a saved flag.
import { readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import type { StoreChange, StoreStatus, TrustCa, TrustContext, TrustStore } from './types';
import {
  canWrite,
  findOnPath,
  firstLine,
  isDir,
  isExecutable,
  isFile,
  pemContains,
  serialTag,
  shLine,
} from './util';

export interface LinuxFlavour {
  id: 'fedora' | 'debian' | 'arch' | 'suse';
  name: string;
  /** Absolute path as on a real system; joined with ctx.root. */
  anchorsDir: string;
  /** Regenerates the bundle after adding an anchor. */
  update: string[];
  /** Regenerates after removing one (Debian needs --fresh to drop the stale /etc/ssl/certs link). */
  updateAfterRemove: string[];
  /** Generated bundles, the first one that exists is measured. */
  bundles: string[];
}

// Order from the issue (and mkcert): first match wins.
export const LINUX_FLAVOURS: readonly LinuxFlavour[] = [
  {
    id: 'fedora',
    name: 'Fedora/RHEL',
    anchorsDir: '/etc/pki/ca-trust/source/anchors',
    update: ['update-ca-trust', 'extract'],
    updateAfterRemove: ['update-ca-trust', 'extract'],
    bundles: [
      '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
      '/etc/pki/tls/certs/ca-bundle.crt',
    ],
  },
  {
    id: 'debian',
    name: 'Debian/Ubuntu',
    anchorsDir: '/usr/local/share/ca-certificates',
    update: ['update-ca-certificates'],
    updateAfterRemove: ['update-ca-certificates', '--fresh'],
    bundles: ['/etc/ssl/certs/ca-certificates.crt'],
  },
  {
    id: 'arch',
    name: 'Arch',
    anchorsDir: '/etc/ca-certificates/trust-source/anchors',
    update: ['trust', 'extract-compat'],
    updateAfterRemove: ['trust', 'extract-compat'],
    bundles: [
      '/etc/ca-certificates/extracted/tls-ca-bundle.pem',
      '/etc/ssl/certs/ca-certificates.crt',
    ],
  },
  {
    id: 'suse',
    name: 'openSUSE/SLES',
    anchorsDir: '/usr/share/pki/trust/anchors',
    update: ['update-ca-certificates'],
    updateAfterRemove: ['update-ca-certificates', '--fresh'],
    bundles: ['/var/lib/ca-certificates/ca-bundle.pem', '/etc/ssl/ca-bundle.pem'],
  },
];

const PREFIX = 'wss-studio-ca-';

function under(ctx: TrustContext, abs: string): string {
  return path.join(ctx.root, abs);
}

export function detectFlavour(ctx: TrustContext): LinuxFlavour | null {
  if (ctx.platform !== 'linux') return null;
  return LINUX_FLAVOURS.find((f) => isDir(under(ctx, f.anchorsDir))) ?? null;
}

/** The anchor file we write: the serial in the name makes it ours and unique per CA. */
export function anchorFileName(ca: TrustCa): string {
  return `${PREFIX}${serialTag(ca)}.crt`;
}

/**
 * The regenerate command as run. Against a temp root only Debian's update-ca-certificates can be
 * redirected (it takes --certsconf/--certsdir/--localcertsdir/--etccertsdir/--hooksdir); the other
 * tools always write the real /etc, so they are refused there.
 */
export function updateArgv(
  f: LinuxFlavour,
  ctx: TrustContext,
  afterRemove: boolean,
): string[] | null {
  const base = afterRemove ? f.updateAfterRemove : f.update;
  if (ctx.root === '/' || ctx.root === '') return [...base];
  if (f.id !== 'debian') return null;
  const r = (p: string) => under(ctx, p);
  return [
    ...base,
    '--certsconf',
    r('/etc/ca-certificates.conf'),
    '--certsdir',
    r('/usr/share/ca-certificates'),
    '--localcertsdir',
    r('/usr/local/share/ca-certificates'),
    '--etccertsdir',
    r('/etc/ssl/certs'),
    '--hooksdir',
    r('/etc/ca-certificates/update.d'),
  ];
}

/** Where the update tools live: sbin folders are often missing from a normal user's PATH. */
function resolveTool(name: string, ctx: TrustContext): string | null {
  return (
    findOnPath(name, ctx) ??
    ['/usr/sbin', '/sbin', '/usr/bin', '/bin']
      .map((d) => path.join(d, name))
      .find((p) => isExecutable(p)) ??
    null
  );
}

/** Files in the anchors folder whose certificate is exactly our CA (by DER), whatever their name. */
export function ourAnchorFiles(ca: TrustCa, ctx: TrustContext, f: LinuxFlavour): string[] {
  const dir = under(ctx, f.anchorsDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names) {
    if (!/\.(crt|pem|cer)$/i.test(n)) continue;
    const p = path.join(dir, n);
    try {
      if (!isFile(p)) continue;
      if (pemContains(readFileSync(p, 'utf8'), ca)) out.push(p);
    } catch {
      // unreadable file: not ours to judge
    }
  }
  return out;
}

export interface PrivilegedCommand {
  /** The program and arguments for the desktop app's OS prompt: ['pkexec', '/bin/sh', '-c', script]. */
  argv: string[];
  /** The same steps as one line for a terminal: `sudo ... && sudo ...`. */
  sudo: string;
  /** The individual steps, each an argv. */
  steps: string[][];
}

/**
 * The exact command that installs/uninstalls our CA in the system store with root rights. The CLI prints
 * `sudo`; the Electron shell runs `argv` (pkexec shows the OS password prompt). Paths are the real ones
 * (ctx.root applied), all quoted for /bin/sh.
 */
export function systemPrivilegedCommand(
  ca: TrustCa,
  op: 'install' | 'uninstall',
  ctx: TrustContext,
): PrivilegedCommand | null {
  const f = detectFlavour(ctx);
  if (!f) return null;
  const update = updateArgv(f, ctx, op === 'uninstall');
  if (!update) return null;
  const anchor = path.join(under(ctx, f.anchorsDir), anchorFileName(ca));
  const steps: string[][] =
    op === 'install'
      ? [['install', '-m', '0644', ca.certPath, anchor], update]
      : [['rm', '-f', ...new Set([anchor, ...ourAnchorFiles(ca, ctx, f)])], update];
  const script = steps.map(shLine).join(' && ');
  return {
    argv: ['pkexec', '/bin/sh', '-c', script],
    sudo: steps.map((s) => 'sudo ' + shLine(s)).join(' && '),
    steps,
  };
}

/**
 * Under WSL the Linux store only serves Linux programs: Windows browsers read the Windows store. The
 * exact command runs Windows' certutil.exe through WSL interop on the CA file seen from Windows.
 */
export function wslWarning(ca: TrustCa, ctx: TrustContext): string | null {
  const distro = ctx.env.WSL_DISTRO_NAME;
  if (!distro || ctx.platform !== 'linux') return null;
  const winPath = `\\\\wsl.localhost\\${distro}${ca.certPath.replace(/\//g, '\\')}`;
  return `WSL: Windows browsers do not read this store; to trust the CA there too, run: ${ctx.cliName} trust install --stores windows (or: ${shLine(
    ['certutil.exe', '-user', '-addstore', 'Root', winPath],
  )})`;
}

function label(f: LinuxFlavour | null): string {
  return f ? `Linux system store (${f.name})` : 'Linux system store';
}

function measure(ca: TrustCa, ctx: TrustContext): StoreStatus {
  const f = detectFlavour(ctx);
  if (!f) {
    return {
      store: 'system',
      label: label(null),
      state: 'not-present',
      detail:
        ctx.platform === 'linux'
          ? `no known CA anchors folder under ${ctx.root} (looked for ${LINUX_FLAVOURS.map((x) => x.anchorsDir).join(', ')})`
          : `not a Linux system (${ctx.platform})`,
    };
  }
  const bundle = f.bundles.map((b) => under(ctx, b)).find((b) => isFile(b));
  const anchors = ourAnchorFiles(ca, ctx, f);
  const cmd = systemPrivilegedCommand(ca, 'install', ctx);
  const fix = cmd
    ? ctx.uid === 0
      ? `${ctx.cliName} trust install --stores system`
      : cmd.sudo
    : undefined;
  const wsl = wslWarning(ca, ctx);
  const base = { store: 'system' as const, label: label(f), ...(wsl ? { warnings: [wsl] } : {}) };
  const target = bundle ?? under(ctx, f.bundles[0] as string);
  let inBundle = false;
  if (bundle) {
    try {
      inBundle = pemContains(readFileSync(bundle, 'utf8'), ca);
    } catch (e) {
      return {
        ...base,
        state: 'error',
        detail: `cannot read ${bundle}: ${(e as Error).message}`,
        targets: [{ label: 'system bundle', path: bundle, state: 'error' }],
      };
    }
  }
  if (inBundle) {
    return {
      ...base,
      state: 'trusted',
      detail: `in ${bundle}${anchors.length ? ` (anchor ${anchors.join(', ')})` : ''}`,
      targets: [{ label: 'system bundle', path: target, state: 'trusted' }],
    };
  }
  const detail = !bundle
    ? `the bundle ${target} does not exist`
    : anchors.length
      ? `anchor ${anchors.join(', ')} is present but ${bundle} was not regenerated`
      : `not in ${bundle}`;
  return {
    ...base,
    state: 'not-trusted',
    detail,
    ...(fix ? { fix } : {}),
    targets: [{ label: 'system bundle', path: target, state: 'not-trusted' }],
  };
}

async function runUpdate(
  ca: TrustCa,
  ctx: TrustContext,
  f: LinuxFlavour,
  afterRemove: boolean,
): Promise<string | null> {
  const argv = updateArgv(f, ctx, afterRemove);
  if (!argv) return `cannot run "${f.update.join(' ')}" against the root ${ctx.root}`;
  const tool = resolveTool(argv[0] as string, ctx);
  if (!tool) return `"${argv[0]}" not found`;
  const r = await ctx.run(tool, argv.slice(1), { timeoutMs: 120_000 });
  if (r.code !== 0) {
    return `"${shLine(argv)}" failed: ${firstLine(r.stderr, r.stdout) || r.spawnError || `exit ${r.code}`}`;
  }
  return null;
}

function permissionChange(
  status: StoreStatus,
  ca: TrustCa,
  ctx: TrustContext,
  op: 'install' | 'uninstall',
  dir: string,
): StoreChange {
  const cmd = systemPrivilegedCommand(ca, op, ctx);
  return {
    ...status,
    state: 'needs-permission',
    detail: `${dir} is writable only by root`,
    ...(cmd ? { fix: cmd.sudo } : {}),
    changed: false,
  };
}

export const systemLinuxStore: TrustStore = {
  id: 'system',
  label: 'Linux system store',

  async detect(ctx) {
    return detectFlavour(ctx) !== null;
  },

  async status(ca, ctx) {
    return measure(ca, ctx);
  },

  async install(ca, ctx) {
    const before = measure(ca, ctx);
    const f = detectFlavour(ctx);
    if (!f || before.state === 'error') return { ...before, changed: false };
    const dir = under(ctx, f.anchorsDir);
    const anchor = path.join(dir, anchorFileName(ca));
    const have = ourAnchorFiles(ca, ctx, f);
    if (before.state === 'trusted' && have.length) return { ...before, changed: false };
    if (!canWrite(dir) || !canWrite(under(ctx, path.dirname(f.bundles[0] as string)))) {
      return permissionChange(before, ca, ctx, 'install', dir);
    }
    let changed = false;
    if (!have.length) {
      try {
        writeFileSync(anchor, ca.certPem.endsWith('\n') ? ca.certPem : ca.certPem + '\n', {
          mode: 0o644,
        });
        chmodSync(anchor, 0o644);
        changed = true;
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code === 'EACCES' || err.code === 'EPERM') {
          return permissionChange(before, ca, ctx, 'install', dir);
        }
        return {
          ...before,
          state: 'error',
          detail: `cannot write ${anchor}: ${err.message}`,
          changed,
        };
      }
    }
    const failed = await runUpdate(ca, ctx, f, false);
    const after = measure(ca, ctx);
    if (failed) return { ...after, state: 'error', detail: failed, changed };
    return { ...after, changed: true };
  },

  async uninstall(ca, ctx) {
    const before = measure(ca, ctx);
    const f = detectFlavour(ctx);
    if (!f || before.state === 'error') return { ...before, changed: false };
    const dir = under(ctx, f.anchorsDir);
    const ours = ourAnchorFiles(ca, ctx, f);
    if (!ours.length && before.state !== 'trusted') return { ...before, changed: false };
    const bundleDir = under(ctx, path.dirname(f.bundles[0] as string));
    if (!canWrite(dir) || !canWrite(bundleDir)) {
      return permissionChange(before, ca, ctx, 'uninstall', dir);
    }
    for (const p of ours) {
      try {
        rmSync(p, { force: true });
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code === 'EACCES' || err.code === 'EPERM') {
          return permissionChange(before, ca, ctx, 'uninstall', dir);
        }
        return {
          ...before,
          state: 'error',
          detail: `cannot remove ${p}: ${err.message}`,
          changed: false,
        };
      }
    }
    const failed = await runUpdate(ca, ctx, f, true);
    const after = measure(ca, ctx);
    if (failed) return { ...after, state: 'error', detail: failed, changed: ours.length > 0 };
    if (after.state === 'trusted') {
      // Still in the bundle although no anchor of ours is left: it came from elsewhere (e.g. listed in
      // /etc/ca-certificates.conf or installed by mkcert under /usr/share). Say so instead of pretending.
      return {
        ...after,
        detail: `${after.detail}; it is not in ${dir}, so another package or tool installed it`,
        changed: ours.length > 0,
      };
    }
    return { ...after, changed: ours.length > 0 };
  },
};
