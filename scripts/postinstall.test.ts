// What `npm install` does after the packages are in: the build (renderer included, so the README's
// `npx wss-studio ui` serves the UI at once) and the Electron download (progress, no cap, one clear line).
// The download is pointed at a local mirror (ELECTRON_MIRROR) that answers 404, stalls or serves bytes
// slowly, with a temp cache, so nothing leaves this machine and node_modules/electron is never written.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fetchElectron, npmIgnoresAllowScripts, oneLine, progressText } from './fetch-electron.mjs';
import { httpGet } from '../e2e/helpers/web';

const ROOT = path.resolve(__dirname, '..');
const ELECTRON = path.join(ROOT, 'node_modules', 'electron');
const VERSION = (
  JSON.parse(readFileSync(path.join(ELECTRON, 'package.json'), 'utf8')) as {
    version: string;
  }
).version;
const tmp = mkdtempSync(path.join(tmpdir(), 'wss-postinstall-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function sink(isTTY = false): { out: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  }) as unknown as NodeJS.WriteStream;
  (w as { isTTY: boolean }).isTTY = isTTY;
  return { out: w, text: () => text };
}

async function mirror(
  handler: Parameters<typeof createServer>[1],
): Promise<{ url: string; server: Server; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    handler!(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server, paths };
}

const envFor = (url: string) => ({
  ELECTRON_MIRROR: url,
  electron_config_cache: mkdtempSync(path.join(tmp, 'cache-')),
  ELECTRON_INSTALL_PLATFORM: 'linux',
  ELECTRON_INSTALL_ARCH: 'x64',
});

describe('fetch-electron', () => {
  it('a refused download ends in one line naming the version, the host and the cause', async () => {
    const m = await mirror((_req, res) => {
      res.writeHead(404);
      res.end('no');
    });
    const s = sink();
    const r = await fetchElectron({ out: s.out, env: envFor(m.url) });
    m.server.close();
    expect(m.paths).toEqual([`/v${VERSION}/electron-v${VERSION}-linux-x64.zip`]);
    expect(r.ok).toBe(false);
    const reason = (r as { reason: string }).reason;
    expect(reason).toBe(
      `failed to download Electron ${VERSION} (linux-x64) from ${m.url}: Response code 404 (Not Found) for ${m.url}v${VERSION}/electron-v${VERSION}-linux-x64.zip`,
    );
    expect(reason).not.toContain('\n');
    expect(s.text()).toContain(`Downloading Electron ${VERSION} (linux-x64) for the desktop app`);
    expect(s.text()).toContain('no time limit');
    expect(existsSync(path.join(ELECTRON, 'path.txt'))).toBe(false);
  });

  it('shows progress per 10% on a slow link, with no time cap, and refuses bytes that fail the checksum', async () => {
    const total = 400_000;
    const m = await mirror((_req, res) => {
      res.writeHead(200, { 'Content-Length': String(total) });
      let sent = 0;
      const t = setInterval(() => {
        res.write(Buffer.alloc(40_000, 7));
        sent += 40_000;
        if (sent >= total) {
          clearInterval(t);
          res.end();
        }
      }, 60);
    });
    const s = sink();
    const r = await fetchElectron({ out: s.out, env: envFor(m.url) });
    m.server.close();
    const lines = s.text().split('\n');
    const progress = lines.filter((l) => /^ {2}\d+% of 0\.4 MB$/.test(l));
    expect(progress.length, s.text()).toBeGreaterThanOrEqual(5);
    expect(progress.at(-1)).toBe('  100% of 0.4 MB');
    expect(r.ok).toBe(false);
    expect((r as { reason: string }).reason).toMatch(/^failed to download Electron .*checksum/i);
  });

  it('says it is still downloading when a link stalls, instead of going quiet', async () => {
    const m = await mirror((_req, res) => {
      res.writeHead(200, { 'Content-Length': '1000' });
      res.write(Buffer.alloc(10));
      setTimeout(() => res.destroy(), 1500);
    });
    const s = sink();
    const r = await fetchElectron({ out: s.out, env: envFor(m.url), tickMs: 300 });
    m.server.close();
    expect(s.text()).toMatch(/still downloading: 1% of 0\.0 MB after \d+ s/);
    expect(r.ok).toBe(false);
  });

  it('on a terminal, one line rewritten in place', async () => {
    const m = await mirror((_req, res) => {
      res.writeHead(200, { 'Content-Length': '200000' });
      res.write(Buffer.alloc(100_000));
      setTimeout(() => res.end(Buffer.alloc(100_000)), 50);
    });
    const s = sink(true);
    await fetchElectron({ out: s.out, env: envFor(m.url) });
    m.server.close();
    expect(s.text()).toContain('\r  100% of 0.2 MB');
    expect(s.text()).not.toMatch(/\n {2}\d+%/);
  });

  it("a good download is unpacked by Electron's own installer: dist/ and path.txt, one 'installed' line", async () => {
    // A stand-in electron package (Electron's real install.js, package.json and cli.js; its checksums
    // replaced by the stand-in zip's) so the whole path runs without Electron's host.
    const pkgDir = mkdtempSync(path.join(tmp, 'electron-pkg-'));
    for (const f of ['install.js', 'package.json', 'cli.js', 'index.js'])
      cpSync(path.join(ELECTRON, f), path.join(pkgDir, f));
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(pkgDir, 'node_modules'));
    const zipName = `electron-v${VERSION}-linux-x64.zip`;
    const zipFile = path.join(pkgDir, 'stand-in.zip');
    const py = spawnSync(
      '/usr/bin/python3',
      [
        '-c',
        'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1], "w"); z.writestr("electron", "#!/bin/sh\\n"); z.writestr("version", sys.argv[2]); z.close()',
        zipFile,
        VERSION,
      ],
      { encoding: 'utf8' },
    );
    expect(py.status, py.stderr).toBe(0);
    const zip = readFileSync(zipFile);
    writeFileSync(
      path.join(pkgDir, 'checksums.json'),
      JSON.stringify({ [zipName]: createHash('sha256').update(zip).digest('hex') }),
    );
    const m = await mirror((_req, res) => {
      res.writeHead(200, { 'Content-Length': String(zip.length) });
      res.end(zip);
    });
    const s = sink();
    const r = await fetchElectron({
      dir: pkgDir,
      out: s.out,
      env: { ...process.env, ...envFor(m.url) },
    });
    m.server.close();
    expect(r, s.text()).toEqual({ ok: true });
    expect(readFileSync(path.join(pkgDir, 'path.txt'), 'utf8')).toBe('electron');
    expect(readFileSync(path.join(pkgDir, 'dist', 'version'), 'utf8')).toBe(VERSION);
    expect(s.text()).toMatch(
      new RegExp(
        `Electron ${VERSION.replace(/\./g, '\\.')} \\(linux-x64\\) installed \\(\\d+ s\\)`,
      ),
    );
    expect(m.paths).toHaveLength(1); // the installer used the cached zip, no second download
  });

  it('helpers: progress text, one-line errors, npm versions that ignore allowScripts', () => {
    expect(progressText({ transferred: 54_000_000, total: 108_000_000 })).toBe('50% of 108.0 MB');
    expect(progressText({ transferred: 1_500_000, total: null })).toBe('1.5 MB');
    const e = new TypeError('fetch failed', {
      cause: new Error('connect ECONNREFUSED 1.2.3.4:443\nx'),
    });
    expect(oneLine(e)).toBe('fetch failed: connect ECONNREFUSED 1.2.3.4:443');
    expect(npmIgnoresAllowScripts('npm/10.9.2 node/v22.12.0 linux x64')).toBe(true);
    expect(npmIgnoresAllowScripts('npm/11.15.0 node/v24.1.0 linux x64')).toBe(true);
    expect(npmIgnoresAllowScripts('npm/11.16.0 node/v24.1.0 linux x64')).toBe(false);
    expect(npmIgnoresAllowScripts('npm/12.0.1 node/v24.1.0 linux x64')).toBe(false);
    expect(npmIgnoresAllowScripts('pnpm/10.0.0')).toBe(false);
  });
});

// A fresh clone: sources only (no dist/), the installed node_modules linked in. postinstall must leave a
// checkout where the README's `npx wss-studio ui` serves the UI (not 503 "the UI is not built").
describe('postinstall on a fresh checkout', () => {
  it('builds the renderer too, so `wss-studio ui` serves the page; says why the desktop shell is missing', async () => {
    const clone = path.join(tmp, 'clone');
    mkdirSync(clone);
    for (const f of [
      'bin',
      'main',
      'shared',
      'renderer',
      'scripts',
      'package.json',
      'tsconfig.json',
    ])
      cpSync(path.join(ROOT, f), path.join(clone, f), {
        recursive: true,
        filter: (src) => !src.endsWith('.test.ts'),
      });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(clone, 'node_modules'));
    const env: NodeJS.ProcessEnv = { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' };
    delete env.NODE_EXTRA_CA_CERTS;
    const started = Date.now();
    const r = spawnSync(process.execPath, ['scripts/postinstall.mjs'], {
      cwd: clone,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    const took = Date.now() - started;
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(path.join(clone, 'dist', 'renderer', 'index.html'))).toBe(true);
    expect(existsSync(path.join(clone, 'dist', 'app', 'main.cjs'))).toBe(true);
    expect(r.stdout).toContain(
      'desktop shell not installed (ELECTRON_SKIP_BINARY_DOWNLOAD is set)',
    );
    expect(r.stdout).toContain('node scripts/fetch-electron.mjs');
    console.log(`postinstall (full build, no Electron download): ${took} ms`);

    const home = mkdtempSync(path.join(tmp, 'home-'));
    const child = spawn(
      process.execPath,
      [path.join(clone, 'bin', 'wss-studio.cjs'), 'ui', '--no-open', '--port', '0'],
      {
        env: { ...env, WSS_STUDIO_HOME: home, HOME: home, WSS_STUDIO_RENDERER_DIR: '' },
      },
    );
    try {
      const url = await new Promise<URL>((resolve, reject) => {
        let out = '';
        const t = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 30_000);
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /http:\/\/127\.0\.0\.1:\d+\/\S*/.exec(out);
          if (m) {
            clearTimeout(t);
            resolve(new URL(m[0]));
          }
        });
      });
      const page = await httpGet(Number(url.port), url.pathname + url.search, { Host: url.host });
      expect(page.status, page.body).toBe(200);
      expect(page.body).toContain('<script type="module"');
    } finally {
      child.kill('SIGINT');
    }
  }, 150_000);
});

// npm >= 11.16 runs a dependency's install script only when package.json allowScripts says so; every
// package that has one is decided explicitly (README "Packaging"), so a new one shows up here first.
describe('allowScripts', () => {
  it("covers every installed package with an install script, and denies Electron's", () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      allowScripts: Record<string, boolean>;
    };
    const withScripts: string[] = [];
    const visit = (dir: string) => {
      for (const name of readdirSync(dir)) {
        if (name.startsWith('.')) continue;
        const p = path.join(dir, name);
        if (name.startsWith('@')) {
          visit(p);
          continue;
        }
        const manifest = path.join(p, 'package.json');
        if (existsSync(manifest)) {
          const m = JSON.parse(readFileSync(manifest, 'utf8')) as {
            name?: string;
            scripts?: Record<string, string>;
          };
          if (['preinstall', 'install', 'postinstall'].some((k) => m.scripts?.[k]))
            withScripts.push(m.name ?? name);
        }
        if (existsSync(path.join(p, 'node_modules'))) visit(path.join(p, 'node_modules'));
      }
    };
    visit(path.join(ROOT, 'node_modules'));
    expect(withScripts.length).toBeGreaterThan(0);
    for (const name of new Set(withScripts))
      expect(Object.keys(pkg.allowScripts), `no allowScripts decision for ${name}`).toContain(name);
    expect(pkg.allowScripts.electron).toBe(false);
  });
});
