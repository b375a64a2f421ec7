// electron-builder.yml is checked with electron-builder's OWN validator and schema (app-builder-lib's
// schemaValidator + scheme.json, exactly what `electron-builder` runs first), so a typo fails CI here rather
// than on a release machine. Plus what the schema cannot know: files point at what the build produces,
// the icons exist at the sizes needed, the entitlements file is there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const require_ = createRequire(path.join(ROOT, 'package.json'));

function need<T>(id: string): T {
  try {
    return require_(id) as T;
  } catch {
    throw new Error(
      `${id} is missing: run "npm ci" (it comes with the electron-builder devDependency)`,
    );
  }
}
const yaml = need<{ load(s: string): unknown }>('js-yaml');
const { validateSchema } = need<{
  validateSchema(schema: unknown, data: unknown, opts?: object): void;
}>('app-builder-lib/out/util/config/schemaValidator');
const scheme = JSON.parse(
  readFileSync(require_.resolve('app-builder-lib/scheme.json'), 'utf8'),
) as object;

type Config = Record<string, unknown> & {
  directories: { buildResources: string; output: string };
  files: string[];
  extraMetadata: { main: string };
  linux: {
    target: string[];
    category: string;
    icon: string;
    desktop: { entry: Record<string, string> };
  };
  mac: {
    target: string;
    hardenedRuntime: boolean;
    entitlements: string;
    entitlementsInherit: string;
  };
  win: { target: string };
};
const config = yaml.load(readFileSync(path.join(ROOT, 'electron-builder.yml'), 'utf8')) as Config;

function pngSize(file: string): [number, number] {
  const b = readFileSync(file);
  expect(b.subarray(1, 4).toString()).toBe('PNG');
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

describe('electron-builder.yml', () => {
  it("passes electron-builder's own schema validation", () => {
    expect(() =>
      validateSchema(scheme, structuredClone(config), { name: 'electron-builder' }),
    ).not.toThrow();
  });

  it('a typo fails the same validation (the check bites)', () => {
    const typo = structuredClone(config) as Record<string, Record<string, unknown>>;
    typo.linux = { ...typo.linux, categroy: 'Development' };
    expect(() => validateSchema(scheme, typo, { name: 'electron-builder' })).toThrow(
      /configuration\.linux/,
    );
    const badTarget = structuredClone(config) as Record<string, unknown>;
    badTarget.productName = 42;
    expect(() =>
      validateSchema(scheme, { ...badTarget, appId: ['x'] }, { name: 'electron-builder' }),
    ).toThrow();
  });

  it('has the ids, targets and hardening the issue asks for', () => {
    expect(config.appId).toMatch(/^[a-z0-9]+(\.[a-z0-9-]+)+$/);
    expect(config.productName).toBe('WSS Studio');
    expect(config.directories.buildResources).toBe('build');
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.linux.category).toBe('Development');
    expect(config.linux.desktop.entry.Categories).toContain('Development;');
    expect(config.mac.target).toBe('dmg');
    expect(config.mac.hardenedRuntime).toBe(true);
    expect(config.win.target).toBe('nsis');
  });

  it('packages only the built output, and main points into it', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      main: string;
    };
    expect(config.extraMetadata.main).toBe(pkg.main);
    expect(config.files.filter((f) => !f.startsWith('!'))).toEqual([
      'dist/app/**/*',
      'dist/renderer/**/*',
      'package.json',
    ]);
    expect(config.files).toContain('!node_modules/**/*');
    expect(pkg.main.startsWith('dist/app/')).toBe(true);
  });

  it('has the icons and entitlements it names', () => {
    const res = path.join(ROOT, config.directories.buildResources);
    expect(pngSize(path.join(res, 'icon.png'))).toEqual([1024, 1024]);
    for (const s of [16, 32, 48, 64, 128, 256, 512]) {
      expect(pngSize(path.join(ROOT, config.linux.icon, `${s}x${s}.png`))).toEqual([s, s]);
    }
    for (const f of [config.mac.entitlements, config.mac.entitlementsInherit]) {
      const plist = readFileSync(path.join(ROOT, f), 'utf8');
      expect(plist).toContain('com.apple.security.cs.allow-jit');
      expect(plist).not.toContain('disable-library-validation');
    }
    expect(existsSync(path.join(res, 'make-icons.mjs'))).toBe(true);
  });
});

// ---- electron-builder run for real, against a stand-in Electron -----------------------------------------
// The Electron binary cannot be downloaded here, so `electronDist` points at a stand-in folder whose
// "electron" file carries the fuse sentinel and wire exactly where @electron/fuses looks for them
// (SENTINEL, wire version 1, wire length, one byte per fuse). electron-builder then does everything a release
// build does on Linux up to the archive: package.json checks, asar, fuses, desktop metadata, the fpm call.
// fpm itself (a Ruby tool electron-builder downloads from GitHub) is not on this machine: CUSTOM_FPM_PATH
// points at a stand-in that records the exact command electron-builder built; with a real `fpm` on PATH
// the real one runs and the .deb is inspected with dpkg-deb.

const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
// @electron/fuses' FuseV1Options order (node_modules/@electron/fuses/dist/config.d.ts).
const FUSE_ORDER = [
  'runAsNode',
  'enableCookieEncryption',
  'enableNodeOptionsEnvironmentVariable',
  'enableNodeCliInspectArguments',
  'enableEmbeddedAsarIntegrityValidation',
  'onlyLoadAppFromAsar',
  'loadBrowserProcessSpecificV8Snapshot',
  'grantFileProtocolExtraPrivileges',
] as const;

function fuseWire(file: string): Record<string, boolean> {
  const b = readFileSync(file);
  const at = b.indexOf(FUSE_SENTINEL);
  expect(at, `no fuse sentinel in ${file}`).toBeGreaterThan(-1);
  const pos = at + FUSE_SENTINEL.length;
  expect(b[pos]).toBe(1);
  const out: Record<string, boolean> = {};
  FUSE_ORDER.forEach((name, i) => {
    const s = String.fromCharCode(b[pos + 2 + i]!);
    expect(['0', '1'], `fuse ${name} state ${s}`).toContain(s);
    out[name] = s === '1';
  });
  return out;
}

function hasRealFpm(): boolean {
  return spawnSync('fpm', ['--version'], { stdio: 'ignore' }).status === 0;
}

describe('electron-builder --linux dir deb against a stand-in Electron', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'wss-pack-'));
  const dist = path.join(tmp, 'electron');
  const out = path.join(tmp, 'out');
  const fpmLog = path.join(tmp, 'fpm.json');
  const realFpm = hasRealFpm();
  let result: ReturnType<typeof spawnSync>;

  beforeAll(() => {
    mkdirSync(path.join(dist, 'resources'), { recursive: true });
    // Every fuse starts the opposite of what the config asks, so an unflipped fuse shows.
    const startWire = Buffer.from('10110011');
    writeFileSync(
      path.join(dist, 'electron'),
      Buffer.concat([
        Buffer.from('#!/bin/sh\necho stand-in electron\n#'),
        Buffer.alloc(256, 0x20),
        Buffer.from(FUSE_SENTINEL),
        Buffer.from([1, FUSE_ORDER.length]),
        startWire,
        Buffer.alloc(256, 0x20),
      ]),
      { mode: 0o755 },
    );
    writeFileSync(path.join(dist, 'chrome-sandbox'), '', { mode: 0o755 });
    writeFileSync(path.join(dist, 'LICENSE'), 'stand-in');
    writeFileSync(path.join(dist, 'version'), '45.5.0');
    const fakeFpm = path.join(tmp, 'fpm');
    writeFileSync(
      fakeFpm,
      [
        '#!/bin/sh',
        `exec ${JSON.stringify(process.execPath)} -e ${JSON.stringify(
          [
            "const fs = require('fs');",
            'const a = process.argv.slice(1);',
            'const val = (f) => a[a.indexOf(f) + 1];',
            "fs.writeFileSync(process.env.FAKE_FPM_LOG, JSON.stringify({ args: a, afterInstall: fs.readFileSync(val('--after-install'), 'utf8'), desktop: a.filter((x) => x.endsWith('.desktop')).map((x) => [x.split('=')[1], fs.readFileSync(x.split('=')[0], 'utf8')]) }));",
            "fs.writeFileSync(val('--package'), 'stand-in deb');",
          ].join(' '),
        )} -- "$@"`,
      ].join('\n'),
      { mode: 0o755 },
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      FAKE_FPM_LOG: fpmLog,
      ...(realFpm ? { USE_SYSTEM_FPM: 'true' } : { CUSTOM_FPM_PATH: fakeFpm }),
      // electron-builder must not publish from a test, nor look for a signing identity.
      CSC_IDENTITY_AUTO_DISCOVERY: 'false',
      GH_TOKEN: '',
    };
    delete env.CI;
    result = spawnSync(
      process.execPath,
      [
        require_.resolve('electron-builder/cli.js'),
        '--config',
        'electron-builder.yml',
        '--linux',
        'dir',
        'deb',
        '--publish',
        'never',
        `-c.electronDist=${dist}`,
        `-c.directories.output=${out}`,
      ],
      { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 },
    );
  }, 130_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const unpacked = () => path.join(out, 'linux-unpacked');

  it('packages without errors (homepage, author and maintainer metadata present)', () => {
    const log = `${String(result.stdout)}\n${String(result.stderr)}`;
    expect(result.error, log).toBeUndefined();
    expect(result.status, log).toBe(0);
    expect(log).not.toMatch(/Please specify project homepage|desktopName is not set/);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(pkg.homepage).toMatch(/^https:\/\//);
    expect(pkg.repository).toBeTruthy();
    expect(pkg.author).toMatchObject({ email: expect.stringContaining('@') });
  });

  it('flips every fuse the config names in the packaged binary', () => {
    const fuses = fuseWire(path.join(unpacked(), 'wss-studio'));
    const want = (config as unknown as { electronFuses: Record<string, boolean> }).electronFuses;
    expect(want).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
      enableEmbeddedAsarIntegrityValidation: true,
      grantFileProtocolExtraPrivileges: false,
      enableCookieEncryption: true,
    });
    for (const [name, on] of Object.entries(want)) expect(fuses[name], name).toBe(on);
  });

  it('puts the main and preload bundles and the renderer build into app.asar, and nothing else', () => {
    const asar = need<{
      listPackage(f: string): string[];
      extractFile(f: string, p: string): Buffer;
    }>('@electron/asar');
    const file = path.join(unpacked(), 'resources', 'app.asar');
    const list = asar.listPackage(file).map((f) => f.replace(/\\/g, '/'));
    expect(list).toEqual(
      expect.arrayContaining([
        '/dist/app/main.cjs',
        '/dist/app/preload.cjs',
        '/dist/renderer/index.html',
        '/package.json',
      ]),
    );
    expect(list.filter((f) => f.startsWith('/node_modules'))).toEqual([]);
    expect(list.filter((f) => f.endsWith('.map'))).toEqual([]);
    const pkg = JSON.parse(asar.extractFile(file, 'package.json').toString()) as Record<
      string,
      string
    >;
    expect(pkg.main).toBe('dist/app/main.cjs');
    // app.name (window title bar, WM_CLASS, macOS menu) comes from productName.
    expect(pkg.productName).toBe('WSS Studio');
    expect(pkg.desktopName).toBe('wss-studio.desktop');
    expect(readdirSync(unpacked())).toContain('chrome-sandbox');
    // No update feed baked in (publish: null).
    expect(existsSync(path.join(unpacked(), 'resources', 'app-update.yml'))).toBe(false);
  });

  it('builds the deb with its metadata and the AppArmor profile for Ubuntu 24.04+', () => {
    const debs = readdirSync(out).filter((f) => f.endsWith('.deb'));
    expect(debs).toEqual(['wss-studio_0.1.0_amd64.deb']);
    const profile = readFileSync(path.join(unpacked(), 'resources', 'apparmor-profile'), 'utf8');
    expect(profile).toContain('userns,');
    expect(profile).toContain('"/opt/WSS Studio/wss-studio"');
    if (realFpm) {
      const listing = spawnSync('dpkg-deb', ['-c', path.join(out, debs[0]!)], { encoding: 'utf8' });
      expect(listing.stdout).toContain('./opt/WSS Studio/resources/apparmor-profile');
      return;
    }
    const { args, afterInstall, desktop } = JSON.parse(readFileSync(fpmLog, 'utf8')) as {
      args: string[];
      afterInstall: string;
      desktop: [string, string][];
    };
    const val = (f: string) => args[args.indexOf(f) + 1];
    expect(val('-t')).toBe('deb');
    expect(val('--url')).toBe('https://github.com/wss-studio/wss-studio#readme');
    expect(val('--maintainer')).toBe('WSS Studio contributors <maintainers@wss-studio.invalid>');
    expect(val('--deb-recommends')).toBe('libnss3-tools');
    expect(afterInstall).toContain("APPARMOR_PROFILE_TARGET='/etc/apparmor.d/wss-studio'");
    expect(afterInstall).toContain('apparmor_parser --replace');
    expect(args).toContain(`${unpacked()}/=/opt/WSS Studio`);
    // One desktop entry, named after desktopName (Wayland app_id), whose StartupWMClass is the X11
    // WM_CLASS class Electron sets from app.name (productName).
    expect(desktop.map(([where]) => where)).toEqual(['/usr/share/applications/wss-studio.desktop']);
    const entry = desktop[0]![1];
    expect(entry).toMatch(/^Name=WSS Studio$/m);
    expect(entry).toMatch(/^StartupWMClass=WSS Studio$/m);
    expect(entry).toMatch(/^Exec="\/opt\/WSS Studio\/wss-studio" %U$/m);
  });
});
