// setup.localhost as the Overview runs it, against a real temp NSS database (certutil) under a temp HOME
// and WSS_STUDIO_TRUST_ROOT (never this machine's stores): every step with its progress, a wss:// server
// that answers on wss://localhost, a re-run that reuses everything, the engine's reuse rule, cancellation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import type { LeafDto, SetupResult, SetupStep, TaskProgress } from '../../shared/api';
import { createEngine, type Engine } from './index';
import { nssFingerprints, requireTool, tempDir } from '../../e2e/helpers/tools';
import { reusableLocalhostLeaf, setupStores } from './setup-rules';
import { GROUP_OF } from './lazy';

describe('engine: setup.localhost', () => {
  let tmp: ReturnType<typeof tempDir>;
  let engine: Engine;
  let user: string;
  const progress: TaskProgress[] = [];

  const call = async <T>(name: string, input: unknown = {}): Promise<T> => {
    const r = await engine.call(name, input);
    if (!r.ok) throw Object.assign(new Error(`${name}: ${r.error.code} ${r.error.cause}`), r.error);
    return r.result as T;
  };
  const states = (steps: SetupStep[]) => steps.map((s) => `${s.id}=${s.state}`);

  beforeAll(() => {
    requireTool('certutil');
    tmp = tempDir('wss-engine-setup-');
    user = path.join(tmp.dir, 'user');
    fs.mkdirSync(user);
    fs.mkdirSync(path.join(tmp.dir, 'trust-root'));
    engine = createEngine({
      home: path.join(tmp.dir, 'state'),
      shell: 'test',
      pushMs: 5,
      env: {
        ...process.env,
        HOME: user,
        WSS_STUDIO_TRUST_ROOT: path.join(tmp.dir, 'trust-root'),
      },
    });
    engine.subscribe('task.progress', (p) => progress.push(...p.updates));
  });

  afterAll(async () => {
    await engine?.close();
    tmp?.cleanup();
  });

  it('creates the CA, trusts it in the chosen store, issues localhost and starts a wss server', async () => {
    const r = await call<SetupResult>('setup.localhost', { taskId: 'first', stores: ['nss'] });
    expect(states(r.steps)).toEqual(['ca=done', 'trust=done', 'cert=done', 'server=done']);
    expect(r.steps[1]!.detail).toMatch(/^trusted in NSS/);
    expect(nssFingerprints(path.join(user, '.pki', 'nssdb'))).toContain(r.ca.fingerprint256);
    expect(r.leaf.names).toEqual(['localhost', '127.0.0.1', '::1']);
    expect(r.url).toMatch(/^wss:\/\/localhost:\d+\/$/);
    // The server serves that leaf, trusted through the CA: a real TLS WebSocket echoes.
    const ws = new WebSocket(r.url!, { ca: r.ca.certPem });
    const echoed = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send('hi'));
      ws.once('message', (m) => resolve(String(m)));
      ws.once('error', reject);
    });
    ws.close();
    expect(echoed).toBe('hi');
    // Progress: every update of this task carries every step; the last running one shows the server starting.
    await expect
      .poll(() => progress.filter((u) => u.taskId === 'first').at(-1)?.state)
      .toBe('done');
    const mine = progress.filter((u) => u.taskId === 'first' && u.setup);
    expect(mine.length).toBeGreaterThanOrEqual(4);
    for (const u of mine)
      expect(u.setup!.map((s) => s.id)).toEqual(['ca', 'trust', 'cert', 'server']);
    expect(states(mine.at(-1)!.setup!)).toEqual(states(r.steps));
    // The CA's own task reported under the id the page follows (subtaskId).
    expect(progress.some((u) => u.taskId === 'first-ca' && u.task === 'ca.create')).toBe(true);
  });

  it('a re-run reuses the CA, the certificate and the server', async () => {
    const servers = await call<unknown[]>('server.list');
    const r = await call<SetupResult>('setup.localhost', { stores: ['nss'] });
    expect(states(r.steps)).toEqual(['ca=skipped', 'trust=done', 'cert=skipped', 'server=done']);
    expect(await call<unknown[]>('server.list')).toHaveLength(servers.length);
    // server: false (the CLI) leaves the server step out and says how to serve it.
    const cli = await call<SetupResult>('setup.localhost', { stores: ['nss'], server: false });
    expect(cli.steps[3]).toMatchObject({ state: 'skipped' });
    expect(cli.steps[3]!.detail).toContain(`wss-studio serve --wss 8443 --cert ${cli.leaf.id}`);
    expect(cli.server).toBeUndefined();
  });

  it('no store chosen: trust only warns, the flow goes on', async () => {
    const r = await call<SetupResult>('setup.localhost', { stores: [], server: false });
    expect(r.steps[1]).toMatchObject({ state: 'warn' });
    expect(r.steps[1]!.detail).toMatch(/not trusted in any selected store yet/);
    expect(r.steps[2]!.state).toBe('skipped');
  });

  it('is cancellable: task.cancel during the CA step stops before the next step', async () => {
    const home2 = createEngine({
      home: path.join(tmp.dir, 'state2'),
      shell: 'test',
      pushMs: 5,
      env: { ...process.env, HOME: user, WSS_STUDIO_TRUST_ROOT: path.join(tmp.dir, 'trust-root') },
    });
    try {
      const seen: TaskProgress[] = [];
      home2.subscribe('task.progress', (p) => {
        seen.push(...p.updates);
        if (p.updates.some((u) => u.taskId === 'c1' && u.setup?.[0]?.state === 'running')) {
          void home2.call('task.cancel', { taskId: 'c1' });
        }
      });
      // RSA generation takes long enough for the cancel to land during the CA step.
      const r = await home2.call('setup.localhost', { taskId: 'c1', keyType: 'rsa', stores: [] });
      expect(r.ok).toBe(false);
      expect(!r.ok && r.error.code).toBe('CANCELLED');
      await expect
        .poll(() => seen.filter((u) => u.taskId === 'c1').at(-1)?.state)
        .toBe('cancelled');
      const last = seen.filter((u) => u.taskId === 'c1' && u.setup).at(-1)!;
      expect(last.setup!.slice(1).map((s) => s.state)).not.toContain('done');
      expect(await home2.call('cert.list', {})).toEqual({ ok: true, result: [] });
    } finally {
      await home2.close();
    }
  });
});

describe('setup rules', () => {
  const leaf = (over: Partial<LeafDto>): LeafDto =>
    ({
      id: 'x',
      names: ['localhost', '127.0.0.1', '::1'],
      caFingerprint256: 'CA',
      notAfter: new Date(Date.now() + 10 * 86_400_000).toISOString(),
      ...over,
    }) as LeafDto;

  it('reuses only a leaf of the current CA that covers every localhost name with a day left', () => {
    expect(reusableLocalhostLeaf([leaf({})], 'CA')?.id).toBe('x');
    expect(reusableLocalhostLeaf([leaf({})], 'OTHER')).toBeUndefined();
    expect(reusableLocalhostLeaf([leaf({ names: ['localhost'] })], 'CA')).toBeUndefined();
    const soon = new Date(Date.now() + 3_600_000).toISOString();
    expect(reusableLocalhostLeaf([leaf({ notAfter: soon })], 'CA')).toBeUndefined();
  });

  it("picks the platform's own store first", () => {
    expect(setupStores('linux')).toEqual(['system', 'nss', 'java']);
    expect(setupStores('darwin')).toEqual(['macos', 'nss', 'java']);
    expect(setupStores('win32')).toEqual(['windows', 'nss', 'java']);
  });

  it('each lazily loaded handler module answers exactly the requests mapped to it', async () => {
    const mods = {
      app: (await import('./handlers-app')).appHandlers,
      pki: (await import('./handlers-pki')).pkiHandlers,
      trust: (await import('./handlers-trust')).trustHandlers,
      doctor: (await import('./handlers-doctor')).doctorHandlers,
      tasks: (await import('./handlers-tasks')).taskHandlers,
      setup: (await import('./handlers-setup')).setupHandlers,
    };
    for (const [g, make] of Object.entries(mods)) {
      const names = Object.keys(make({} as never)).sort();
      const mapped = Object.entries(GROUP_OF)
        .filter(([, x]) => x === g)
        .map(([n]) => n)
        .sort();
      expect(names, g).toEqual(mapped);
    }
  });
});
