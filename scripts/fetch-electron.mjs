// Fetches the Electron binary for the desktop shell: what Electron's own install script does, but with
// progress the user sees, no time cap, and one clear line when it fails (the CLI and web mode work anyway).
//
// Two steps so that Electron's own code still does the unpacking: 1. download the zip into @electron/get's
// cache with the same version, checksums and mirror variables Electron's install.js uses, reporting
// progress; 2. run node_modules/electron/install.js, which finds the zip in that cache (no second download),
// verifies it and unpacks it (dist/, path.txt).
//
//   node scripts/fetch-electron.mjs         fetch now (postinstall calls fetchElectron())
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const DEFAULT_HOST = 'https://github.com/electron/electron/releases/download/';

/** One line of progress: "42% of 108.3 MB" (or bytes so far when the server sends no length). */
export function progressText({ transferred, total }) {
  const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
  return total ? `${Math.floor((transferred / total) * 100)}% of ${mb(total)}` : mb(transferred);
}

/** The first line of an error, without Node's stack or a multi-line fetch cause. */
export function oneLine(e) {
  const err = /** @type {Error & { cause?: Error }} */ (e);
  const msg = String(err?.message ?? e).split('\n')[0];
  const cause = err?.cause?.message ? `: ${String(err.cause.message).split('\n')[0]}` : '';
  return `${msg}${cause}`;
}

/**
 * @param {{ dir?: string, out?: NodeJS.WriteStream, env?: NodeJS.ProcessEnv, tickMs?: number }} [o]
 * @returns {Promise<{ ok: true } | { ok: false, reason: string }>}
 */
export async function fetchElectron(o = {}) {
  const dir = o.dir ?? path.join(root, 'node_modules', 'electron');
  const out = o.out ?? process.stdout;
  const env = o.env ?? process.env;
  const tickMs = o.tickMs ?? 15_000;
  const { version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const mirror = env.ELECTRON_MIRROR || env.npm_config_electron_mirror;
  const host = mirror || DEFAULT_HOST;
  const platform = env.ELECTRON_INSTALL_PLATFORM || env.npm_config_platform || process.platform;
  const arch = env.ELECTRON_INSTALL_ARCH || env.npm_config_arch || process.arch;
  const what = `Electron ${version} (${platform}-${arch})`;
  const tty = Boolean(out.isTTY);
  const write = (s) => out.write(s);

  write(
    `Downloading ${what} for the desktop app from ${host} (about 100 MB, no time limit; Ctrl+C stops ` +
      'npm install, the CLI and web mode do not need it)\n',
  );
  const started = Date.now();
  let lastStep = -1;
  let lastText = 'connecting';
  let lastTick = Date.now();
  const onProgress = (p) => {
    lastText = progressText(p);
    if (tty) {
      write(`\r  ${lastText}   `);
      return;
    }
    // Not a terminal (CI logs, npm piping output): a line per 10%, so a slow link is visibly alive.
    const step = p.total ? Math.floor((p.transferred / p.total) * 10) : -1;
    if (step > lastStep) {
      lastStep = step;
      lastTick = Date.now();
      write(`  ${lastText}\n`);
    }
  };
  const heartbeat = setInterval(
    () => {
      if (tty || Date.now() - lastTick < tickMs) return;
      lastTick = Date.now();
      write(
        `  still downloading: ${lastText} after ${Math.round((Date.now() - started) / 1000)} s\n`,
      );
    },
    Math.min(tickMs, 5000),
  );
  heartbeat.unref();

  try {
    const require_ = createRequire(path.join(dir, 'package.json'));
    const get = await import(pathToFileURL(require_.resolve('@electron/get')).href);
    const checksums = JSON.parse(readFileSync(path.join(dir, 'checksums.json'), 'utf8'));
    await get.downloadArtifact({
      version,
      artifactName: 'electron',
      platform,
      arch,
      checksums,
      force: env.force_no_cache === 'true',
      cacheRoot: env.electron_config_cache,
      // @electron/get reads ELECTRON_MIRROR from process.env itself; pass the one we were given.
      ...(mirror ? { mirrorOptions: { mirror } } : {}),
      downloadOptions: { quiet: true, getProgressCallback: onProgress },
    });
  } catch (e) {
    clearInterval(heartbeat);
    if (tty) write('\n');
    return { ok: false, reason: `failed to download ${what} from ${host}: ${oneLine(e)}` };
  }
  clearInterval(heartbeat);
  if (tty) write('\n');

  // Electron's installer unpacks the cached zip; its errors are one stack trace on stderr, kept short here.
  const r = spawnSync(process.execPath, [path.join(dir, 'install.js')], {
    cwd: dir,
    env: { ...env, ELECTRON_GET_NO_PROGRESS: '1' },
    encoding: 'utf8',
  });
  if (r.status !== 0 || !existsSync(path.join(dir, 'path.txt'))) {
    const first = (r.stderr || r.error?.message || `exit code ${r.status}`).trim().split('\n')[0];
    return { ok: false, reason: `failed to unpack ${what}: ${first}` };
  }
  write(`${what} installed (${Math.round((Date.now() - started) / 1000)} s)\n`);
  return { ok: true };
}

/**
 * Where the Electron executable is (or would be): node_modules/electron/dist/<path.txt>, or under
 * ELECTRON_OVERRIDE_DIST_PATH (Electron's own variable for a binary outside node_modules).
 */
export function electronBinaryPath(
  env = process.env,
  dir = path.join(root, 'node_modules', 'electron'),
) {
  const pathTxt = path.join(dir, 'path.txt');
  const dist = env.ELECTRON_OVERRIDE_DIST_PATH || path.join(dir, 'dist');
  return path.join(dist, existsSync(pathTxt) ? readFileSync(pathTxt, 'utf8').trim() : 'electron');
}

/** npm before 11.16 ignores package.json "allowScripts", so Electron's own install script ran already. */
export function npmIgnoresAllowScripts(userAgent = process.env.npm_config_user_agent ?? '') {
  const m = /\bnpm\/(\d+)\.(\d+)\./.exec(userAgent);
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major < 11 || (major === 11 && minor < 16);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await fetchElectron();
  if (!r.ok) {
    console.error(r.reason);
    process.exit(1);
  }
}
