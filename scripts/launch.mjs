// `npm start`'s launcher: the desktop app, and web mode instead when the desktop app cannot run here:
// no Electron binary, or an Electron that dies in its first seconds. The common death is Ubuntu 24.04+
// (and other distributions) restricting unprivileged user namespaces with AppArmor: Chromium's sandbox
// then aborts with "The SUID sandbox helper binary was found, but is not configured correctly" or "No
// usable sandbox!". That is explained with the documented fixes (never --no-sandbox), then web mode starts.
import { spawn } from 'node:child_process';

/** How long a launch must survive to count as started. A sandbox or display abort comes well within 1 s. */
export const EARLY_MS = 5000;

const APPARMOR_DOC =
  'https://chromium.googlesource.com/chromium/src/+/main/docs/security/apparmor-userns-restrictions.md';

/** What killed an early exit, from Electron's stderr. */
export function classifyEarlyExit(stderr) {
  if (
    /SUID sandbox helper binary|No usable sandbox|setuid_sandbox_host|zygote_host_impl_linux/.test(
      stderr,
    )
  )
    return 'sandbox';
  if (
    /Missing X server or \$DISPLAY|cannot open display|Failed to connect to Wayland display/i.test(
      stderr,
    )
  )
    return 'display';
  return 'other';
}

/**
 * The explanation for an early death, with the fixes that keep the sandbox on. electronBinary is the
 * absolute path of the Electron executable (node_modules/electron/dist/electron in a checkout).
 */
export function explainEarlyExit(kind, electronBinary, detail) {
  const sandbox = electronBinary.replace(/[^/]*$/, 'chrome-sandbox');
  if (kind === 'sandbox') {
    return [
      "The desktop app could not start: Chromium's sandbox needs unprivileged user namespaces, which this",
      'system restricts with AppArmor (Ubuntu 24.04+: kernel.apparmor_restrict_unprivileged_userns=1).',
      'Fix it one of these ways (each keeps the sandbox on; do not use --no-sandbox):',
      `  1. an AppArmor profile for this Electron (what the WSS Studio .deb installs for the packaged app):`,
      `     printf 'abi <abi/4.0>,\\ninclude <tunables/global>\\nprofile wss-studio-dev "${electronBinary}" flags=(unconfined) {\\n  userns,\\n}\\n' | sudo tee /etc/apparmor.d/wss-studio-dev`,
      '     sudo apparmor_parser -r /etc/apparmor.d/wss-studio-dev',
      `  2. or the setuid sandbox helper: sudo chown root:root "${sandbox}" && sudo chmod 4755 "${sandbox}"`,
      `  Background: ${APPARMOR_DOC}`,
    ];
  }
  if (kind === 'display') {
    return [
      'The desktop app could not start: no display to open a window on (DISPLAY/WAYLAND_DISPLAY unset or',
      'unreachable, e.g. over SSH or in a container). Web mode serves the same UI to your browser.',
    ];
  }
  return [`The desktop app exited during start-up (${detail}).`];
}

/**
 * Run the desktop command; if it dies within earlyMs (non-zero exit or a signal), explain and run the web
 * command instead. Resolves the exit code to leave with. Electron's stderr is passed through as it comes.
 * @param {{ desktop: [string, string[]], web: [string, string[]], electronBinary: string,
 *   earlyMs?: number, out?: NodeJS.WritableStream, err?: NodeJS.WritableStream, cwd?: string,
 *   env?: NodeJS.ProcessEnv, onChild?: (c: import('node:child_process').ChildProcess) => void }} o
 */
export function runWithFallback(o) {
  const out = o.out ?? process.stdout;
  const err = o.err ?? process.stderr;
  const earlyMs = o.earlyMs ?? EARLY_MS;
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(o.desktop[0], o.desktop[1], {
      cwd: o.cwd,
      env: o.env,
      stdio: ['inherit', 'inherit', 'pipe'],
    });
    o.onChild?.(child);
    let stderr = '';
    child.stderr.on('data', (c) => {
      if (stderr.length < 64 * 1024) stderr += c.toString();
      err.write(c);
    });
    child.once('error', (e) => finish(null, null, e.message));
    child.once('close', (code, signal) => finish(code, signal));
    let done = false;
    function finish(code, signal, spawnError) {
      if (done) return;
      done = true;
      const early = Date.now() - started < earlyMs;
      const failed = spawnError !== undefined || signal !== null || code !== 0;
      if (!(early && failed)) return resolve(code ?? 1);
      const detail = spawnError ?? (signal ? `signal ${signal}` : `exit code ${code}`);
      const lines = explainEarlyExit(classifyEarlyExit(stderr), o.electronBinary, detail);
      out.write(`\n${lines.join('\n')}\nStarting web mode instead (same UI in your browser).\n\n`);
      const web = spawn(o.web[0], o.web[1], { cwd: o.cwd, env: o.env, stdio: 'inherit' });
      o.onChild?.(web);
      web.once('close', (c) => resolve(c ?? 0));
      web.once('error', (e) => {
        err.write(`failed to start web mode: ${e.message}\n`);
        resolve(1);
      });
    }
  });
}
