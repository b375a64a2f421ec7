// Test helpers shared by unit and e2e tests: real tools are required, never skipped.
import { execFile, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const INSTALL_HINTS: Record<string, string> = {
  openssl: 'apt-get install openssl',
  certutil: 'apt-get install libnss3-tools',
  '/usr/bin/chromium': 'apt-get install chromium',
  chromium: 'apt-get install chromium',
  mkcert: 'apt-get install mkcert',
  keytool: 'apt-get install default-jre-headless',
  curl: 'apt-get install curl',
  strace: 'apt-get install strace',
  'firefox-esr': 'apt-get install firefox-esr',
  '/usr/bin/python3': 'apt-get install python3 python3-websockets',
};

/** Absolute path of a tool, or a loud failure that names the package to install. */
export function requireTool(name: string): string {
  if (name.startsWith('/')) {
    if (fs.existsSync(name)) return name;
  } else {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  throw new Error(
    `required tool "${name}" is not installed; install it with "${INSTALL_HINTS[name] ?? `apt-get install ${name}`}" (see .ci/run)`,
  );
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runTool(cmd: string, args: string[], opts: SpawnSyncOptions = {}): RunResult {
  const r = spawnSync(requireTool(cmd), args, { encoding: 'utf8', timeout: 60_000, ...opts });
  if (r.error) throw r.error;
  return { status: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/** A fresh temp folder, removed by the returned cleanup. */
export function tempDir(prefix = 'wss-test-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Every file under `root` with its bytes' SHA-256 and mode: compare before/after to prove nothing changed. */
export function snapshotTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fs.existsSync(root)) return out;
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      const rel = path.relative(root, p);
      if (e.isDirectory()) {
        out[rel + '/'] = 'dir';
        walk(p);
      } else if (e.isSocket()) {
        // A running instance's control socket (control/<pid>.sock) has no bytes to hash.
        out[rel] = `socket ${(fs.statSync(p).mode & 0o777).toString(8)}`;
      } else {
        const st = fs.statSync(p);
        const hash = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
        out[rel] = `${hash} ${(st.mode & 0o777).toString(8)}`;
      }
    }
  };
  walk(root);
  return out;
}

/** Flags headless Chromium needs here (root, closed network). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * A fresh NSS database at HOME/.pki/nssdb (where Chromium on Linux looks) trusting `caFile` for TLS,
 * made with the real certutil. Returns the database folder.
 */
export function nssDbTrusting(home: string, caFile: string, nickname = 'wss-studio-test'): string {
  const nssdb = path.join(home, '.pki', 'nssdb');
  fs.mkdirSync(nssdb, { recursive: true });
  const init = runTool('certutil', ['-N', '-d', `sql:${nssdb}`, '--empty-password']);
  if (init.status !== 0) throw new Error(`certutil -N failed: ${init.stderr}`);
  const add = runTool('certutil', [
    '-A',
    '-d',
    `sql:${nssdb}`,
    '-t',
    'C,,',
    '-n',
    nickname,
    '-i',
    caFile,
  ]);
  if (add.status !== 0) throw new Error(`certutil -A failed: ${add.stderr}`);
  return nssdb;
}

/**
 * Every certificate in an NSS database, by nickname. `certutil -L -n NICK -a` prints every certificate
 * with that nickname's subject (WSS Studio CAs of one user share one), so all PEMs it prints are read.
 */
export function nssCertificates(nssdb: string): Map<string, X509Certificate[]> {
  const out = new Map<string, X509Certificate[]>();
  const list = runTool('certutil', ['-L', '-d', `sql:${nssdb}`]).stdout;
  for (const line of list.split('\n').slice(4)) {
    const m = /^(.+?)\s{2,}\S*,\S*,\S*\s*$/.exec(line);
    if (!m) continue;
    const pems = runTool('certutil', ['-L', '-d', `sql:${nssdb}`, '-n', m[1]!, '-a']).stdout;
    const blocks = pems.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
    out.set(
      m[1]!,
      blocks.map((b) => new X509Certificate(b)),
    );
  }
  return out;
}

/** SHA-256 fingerprints of every certificate in an NSS database, each once. */
export function nssFingerprints(nssdb: string): string[] {
  const all = [...nssCertificates(nssdb).values()].flat().map((x) => x.fingerprint256);
  return [...new Set(all)];
}

/**
 * A leaf for `name` signed by OpenSSL itself with a CA's key: how a test forges what our engine refuses
 * to issue (a name outside the CA's constraints). Returns the PEM paths.
 */
export function opensslLeaf(
  dir: string,
  caCert: string,
  caKey: string,
  name: string,
): { cert: string; key: string } {
  const key = path.join(dir, `${name}-key.pem`);
  const csr = path.join(dir, `${name}.csr`);
  const cnf = path.join(dir, `${name}.cnf`);
  const cert = path.join(dir, `${name}.pem`);
  const req = runTool('openssl', [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    key,
    '-out',
    csr,
    '-subj',
    `/CN=${name}`,
  ]);
  if (req.status !== 0) throw new Error(`openssl req failed: ${req.stderr}`);
  fs.writeFileSync(cnf, `subjectAltName=DNS:${name}\nextendedKeyUsage=serverAuth\n`);
  const sign = runTool('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    caCert,
    '-CAkey',
    caKey,
    '-CAcreateserial',
    '-days',
    '30',
    '-extfile',
    cnf,
    '-out',
    cert,
  ]);
  if (sign.status !== 0) throw new Error(`openssl x509 -req failed: ${sign.stderr}`);
  return { cert, key };
}

/**
 * The installed `wss-studio` command (bin/wss-studio.cjs) as a separate process, asynchronously so the
 * test process keeps serving its own peers meanwhile. Vitest's global setup has built the bundle.
 */
export function runCli(
  argv: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const bin = path.resolve(__dirname, '..', '..', 'bin', 'wss-studio.cjs');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...argv],
      {
        env: opts.env ?? process.env,
        cwd: opts.cwd,
        encoding: 'utf8',
        timeout: opts.timeoutMs ?? 120_000,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
