// The engine's store changes wait for another process's lock without blocking the event loop (the app,
// web mode and serve/proxy keep serving sockets meanwhile), and changes still never interleave: changes
// of this process and of other processes, all started at once, replace the CA one after the other.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { runCli, tempDir } from '../../e2e/helpers/tools';
import { createCa } from '../pki';
import { openStore } from './index';
import { lockPath, WAIT_MS, withStoreLock } from './lock';

/** A live process (a child of this one) that holds `root`'s store lock for `ms`, then releases it. */
async function holdLock(dir: string, root: string, ms: number) {
  fs.mkdirSync(root, { recursive: true });
  const script = path.join(dir, `hold-${Date.now()}.mjs`);
  fs.writeFileSync(
    script,
    `import fs from 'node:fs'; import os from 'node:os';
     fs.writeFileSync(${JSON.stringify(lockPath(root))}, JSON.stringify({pid: process.pid, host: os.hostname(), at: Date.now(), token: 't'}));
     process.stdout.write('held\\n');
     setTimeout(() => { fs.rmSync(${JSON.stringify(lockPath(root))}); process.exit(0); }, ${ms});`,
  );
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((r) => child.stdout.once('data', () => r()));
  return { pid: child.pid!, exited: new Promise((r) => child.once('exit', r)) };
}

describe('store lock, async wait', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir('wss-lock-async-');
  });
  afterAll(() => tmp.cleanup());

  it('keeps the event loop running (timers fire, a socket echoes) while another process holds the lock', async () => {
    const root = path.join(tmp.dir, 'loop');
    const echo = net.createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const port = (echo.address() as net.AddressInfo).port;
    const holder = await holdLock(tmp.dir, root, 1_500);
    try {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 20);
      const store = openStore(root);
      const t0 = Date.now();
      let changedAt = 0;
      const changed = store
        .change('test', () => fs.existsSync(lockPath(root)))
        .then((held) => {
          changedAt = Date.now();
          return held;
        });
      // While the change waits for the holder, this process still answers on a socket.
      const echoedAt = await new Promise<number>((resolve, reject) => {
        const c = net.connect(port, '127.0.0.1', () => c.write('ping'));
        c.once('data', (d) => {
          expect(d.toString()).toBe('ping');
          c.destroy();
          resolve(Date.now());
        });
        c.once('error', reject);
      });
      const ticksWhileWaiting = ticks;
      expect(await changed).toBe(true); // the body ran holding the lock
      clearInterval(timer);
      expect(changedAt - t0, 'the change waited for the holder').toBeGreaterThanOrEqual(1_000);
      expect(echoedAt, 'the echo came back before the change could run').toBeLessThan(changedAt);
      expect(ticks, 'timer ticks during the wait').toBeGreaterThanOrEqual(20);
      expect(ticksWhileWaiting).toBeLessThan(ticks);
      expect(fs.existsSync(lockPath(root))).toBe(false);
    } finally {
      await holder.exited;
      await new Promise((r) => echo.close(r));
    }
  });

  it('gives up after WAIT_MS with the error that names the holder', async () => {
    const root = path.join(tmp.dir, 'timeout');
    const holder = await holdLock(tmp.dir, root, 2_000);
    const real = Date.now.bind(Date);
    const start = real();
    let calls = 0;
    // The first reading sets the deadline; every later one is past it.
    const now = vi.spyOn(Date, 'now').mockImplementation(() => start + (calls++ ? WAIT_MS + 1 : 0));
    try {
      const ran = vi.fn();
      await expect(withStoreLock(root, 'test change', ran)).rejects.toThrow(
        new RegExp(
          `test change.*another WSS Studio process \\(pid ${holder.pid} on ".*"\\) has been changing the store for more than ${WAIT_MS / 1000} s`,
        ),
      );
      expect(ran).not.toHaveBeenCalled();
    } finally {
      now.mockRestore();
      await holder.exited;
    }
  });

  it('concurrent changes of this process and of other processes replace the CA one after the other', async () => {
    const root = path.join(tmp.dir, 'chain');
    const env = {
      WSS_STUDIO_HOME: root,
      HOME: path.join(tmp.dir, 'user'),
      WSS_STUDIO_TRUST_ROOT: path.join(tmp.dir, 'trust-root'),
      PATH: '/nonexistent',
    };
    // Everyone queues behind a holder, then all race for the lock when it goes.
    const holder = await holdLock(tmp.dir, root, 800);
    const store = openStore(root);
    const replaced: string[] = [];
    const inProcess = Array.from({ length: 4 }, () =>
      createCa(store, {
        keyType: 'ecdsa',
        force: true,
        beforeReplace: (old) => replaced.push(old.fingerprint256),
      }),
    );
    const cli = Array.from({ length: 3 }, () =>
      runCli(['ca', 'init', '--force', '--json'], { env, cwd: tmp.dir }),
    );
    const mine = await Promise.all(inProcess);
    const theirs = await Promise.all(cli);
    await holder.exited;
    for (const r of theirs) expect(r.code, r.stderr).toBe(0);
    const created = [
      ...mine.map((c) => c.fingerprint256),
      ...theirs.map((r) => JSON.parse(r.stdout).fingerprint256 as string),
    ];
    expect(new Set(created).size).toBe(7);
    // The CLI records each CA it replaces in trusted-cas/; this process's changes told `replaced`.
    const recorded = fs
      .readdirSync(path.join(root, 'trusted-cas'))
      .map((f) => new X509Certificate(fs.readFileSync(path.join(root, 'trusted-cas', f))))
      .map((x) => x.fingerprint256);
    const olds = [...replaced, ...recorded];
    // One after the other: each CA but the last was replaced exactly once, by one change.
    const current = new X509Certificate(fs.readFileSync(path.join(root, 'ca', 'ca.pem')));
    expect(olds.sort()).toEqual(created.filter((f) => f !== current.fingerprint256).sort());
    expect(
      fs.readdirSync(root).filter((n) => n.startsWith('.') || n.startsWith('store.lock')),
    ).toEqual([]);
  });
});
