// The store lock: concurrent CLI processes never race on the CA, and a lock left by a dead process does
// not block anyone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, tempDir } from '../../e2e/helpers/tools';
import { lockPath, withStoreLock } from './lock';

describe('store lock', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir('wss-lock-');
  });
  afterAll(() => tmp.cleanup());

  const env = (home: string) => ({
    WSS_STUDIO_HOME: home,
    HOME: path.join(tmp.dir, 'user'),
    WSS_STUDIO_TRUST_ROOT: path.join(tmp.dir, 'trust-root'),
    PATH: '/nonexistent',
  });

  it('ten concurrent "ca init --force": all succeed one after the other, one CA, nothing left over', async () => {
    const home = path.join(tmp.dir, 'force');
    const runs = await Promise.all(
      Array.from({ length: 10 }, () =>
        runCli(['ca', 'init', '--force', '--json'], { env: env(home), cwd: tmp.dir }),
      ),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    // trusted-cas/ keeps the replaced CAs' certificates (never their keys) for "trust uninstall --all-ours".
    expect(fs.readdirSync(home).sort()).toEqual(['ca', 'store.json', 'trusted-cas']);
    expect(fs.readdirSync(path.join(home, 'trusted-cas'))).toHaveLength(9);
    expect(fs.readdirSync(path.join(home, 'ca')).sort()).toEqual([
      'ca-key.pem',
      'ca.json',
      'ca.pem',
    ]);
    // Ten different CAs were created in turn; the last one to switch in is the one on disk.
    const fps = runs.map((r) => JSON.parse(r.stdout).fingerprint256 as string);
    expect(new Set(fps).size).toBe(10);
    const shown = await runCli(['ca', 'show', '--json'], { env: env(home), cwd: tmp.dir });
    expect(fps).toContain(JSON.parse(shown.stdout).fingerprint256);
  });

  it('ten concurrent "ca init": exactly one creates the CA, the others say it exists (exit 2)', async () => {
    const home = path.join(tmp.dir, 'race');
    const runs = await Promise.all(
      Array.from({ length: 10 }, () => runCli(['ca', 'init'], { env: env(home), cwd: tmp.dir })),
    );
    expect(runs.filter((r) => r.code === 0)).toHaveLength(1);
    for (const r of runs.filter((x) => x.code !== 0)) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: failed to create CA: a CA already exists in "/m);
      expect(r.stderr).not.toMatch(/ENOTEMPTY|EEXIST/);
    }
    expect(fs.readdirSync(home).sort()).toEqual(['ca', 'store.json']);
  });

  it('takes over a lock left by a process that is gone, and one with garbage in it', async () => {
    const root = path.join(tmp.dir, 'stale');
    fs.mkdirSync(root);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    const deadPid = Number(dead.stdout);
    fs.writeFileSync(
      lockPath(root),
      JSON.stringify({ pid: deadPid, host: os.hostname(), at: Date.now(), token: 'x' }),
    );
    const t0 = Date.now();
    expect(await withStoreLock(root, 'test', () => fs.existsSync(lockPath(root)))).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(fs.existsSync(lockPath(root))).toBe(false);

    fs.writeFileSync(lockPath(root), 'garbage');
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lockPath(root), old, old);
    expect(await withStoreLock(root, 'test', () => 42)).toBe(42);
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('waits for a live holder instead of taking its lock', async () => {
    const root = path.join(tmp.dir, 'live');
    fs.mkdirSync(root);
    // A live process (this one's child) holds the lock for 600 ms.
    const holder = path.join(tmp.dir, 'hold.mjs');
    fs.writeFileSync(
      holder,
      `import fs from 'node:fs'; import os from 'node:os';
       fs.writeFileSync(${JSON.stringify(lockPath(root))}, JSON.stringify({pid: process.pid, host: os.hostname(), at: Date.now(), token: 't'}));
       process.stdout.write('held\\n');
       setTimeout(() => { fs.rmSync(${JSON.stringify(lockPath(root))}); process.exit(0); }, 600);`,
    );
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [holder], { stdio: ['ignore', 'pipe', 'inherit'] });
    // Listen for its exit now: the lock is free once it has exited, which may be before we get here again.
    const exited = new Promise((r) => child.once('exit', r));
    await new Promise<void>((r) => child.stdout.once('data', () => r()));
    const t0 = Date.now();
    const seen = await withStoreLock(root, 'test', () => Date.now() - t0);
    expect(seen).toBeGreaterThanOrEqual(300);
    await exited;
  });
});
