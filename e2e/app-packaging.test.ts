// electron-builder.yml is checked with electron-builder's OWN validator and schema (app-builder-lib's
// schemaValidator + scheme.json, exactly what `electron-builder` runs first), so a typo fails CI here rather
// than on a release machine. Plus what the schema cannot know: files point at what the build produces,
// the icons exist at the sizes needed, the entitlements file is there.
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
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
