// Headless Firefox ESR as a witness of trust (playwright-core cannot drive a stock Firefox): it runs as
// `firefox-esr -headless --profile DIR --screenshot FILE URL`, and the caller's HTTPS server records what
// happened in `events`: "request /" when Firefox accepted the certificate, a TLS error when it refused.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocket } from 'ws';
import { createCa, issueLeaf, readLeafKeyPem, type CaInfo } from '../../main/pki';
import { openStore } from '../../main/store';

/**
 * The witness: an HTTPS server on 127.0.0.1 (port 0) that records "request /path" when a client accepted
 * its certificate and "tls error: ..." when the client refused it (Firefox sends an "unknown ca" alert).
 */
export async function witnessServer(
  tls: { certPem: string; keyPem: string },
  events: string[],
): Promise<{ server: https.Server; port: number }> {
  const server = https.createServer({ cert: tls.certPem, key: tls.keyPem }, (q, s) => {
    events.push(`request ${q.url}`);
    s.end('<p>trusted page</p>');
  });
  server.on('tlsClientError', (e) => events.push(`tls error: ${e.message}`));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

/** Close a witness server (its kept-alive browser connections too); nothing when it never started. */
export async function stopWitness(server: https.Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

/** A state folder with a new ECDSA CA and a leaf for `names`, served by a witness server. */
export async function witnessStudio(
  studio: string,
  names: string[],
  events: string[],
): Promise<{ ca: CaInfo; server: https.Server; port: number }> {
  const store = openStore(studio);
  const ca = await createCa(store, { keyType: 'ecdsa' });
  const { leaf } = await issueLeaf(store, { names });
  const w = await witnessServer(
    { certPem: leaf.certPem, keyPem: readLeafKeyPem(store, leaf.id) },
    events,
  );
  return { ca, ...w };
}

/** A profile created on disk by Firefox itself (lands in HOME/.config/mozilla/firefox with profiles.ini). */
export function createFirefoxProfile(home: string, name: string): string {
  execFileSync('firefox-esr', ['-headless', '-CreateProfile', name], {
    env: { ...process.env, HOME: home },
    stdio: 'pipe',
    timeout: 60_000,
  });
  const root = path.join(home, '.config/mozilla/firefox');
  const dir = readdirSync(root).find((n) => n.endsWith(`.${name}`));
  if (!dir) throw new Error(`firefox-esr -CreateProfile made no ${name} profile in ${root}`);
  return path.join(root, dir);
}

/**
 * Run headless Firefox on `url` until the server sees either the request (trusted) or a TLS alert
 * (refused), then stop it (its own process group: Firefox starts helper processes).
 */
export async function firefoxVisit(opts: {
  home: string;
  profile: string;
  url: string;
  shot: string;
  /** Filled by the caller's server: "request /..." or "tls error: ...". Cleared here first. */
  events: string[];
  /**
   * Shell commands run first in a private mount namespace (`unshare -m`, root only), to show Firefox a
   * system file (e.g. /etc/firefox/policies/policies.json) without touching the machine's real one.
   */
  namespaceSetup?: string;
}): Promise<{ outcome: 'loaded' | 'refused'; detail: string }> {
  const { events } = opts;
  events.length = 0;
  const args = ['-headless', '--profile', opts.profile, '--screenshot', opts.shot, opts.url];
  const q = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const [cmd, argv] = opts.namespaceSetup
    ? [
        'unshare',
        ['-m', 'sh', '-ec', `${opts.namespaceSetup}\nexec firefox-esr ${args.map(q).join(' ')}`],
      ]
    : ['firefox-esr', args];
  const ff = spawn(cmd, argv, {
    env: { ...process.env, HOME: opts.home, MOZ_CRASHREPORTER_DISABLE: '1' },
    stdio: 'ignore',
    detached: true,
  });
  const exited = new Promise<void>((r) => ff.once('exit', () => r()));
  try {
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && !events.length) await new Promise((r) => setTimeout(r, 200));
    const first = events[0] ?? 'nothing within 90 s';
    if (first.startsWith('request')) {
      // Let Firefox render and write the screenshot; it exits by itself when done.
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      return { outcome: 'loaded', detail: first };
    }
    return { outcome: 'refused', detail: first };
  } finally {
    if (ff.exitCode === null && ff.pid) {
      try {
        process.kill(-ff.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await exited;
    }
  }
}

export interface FirefoxBidi {
  /** Runs `expression` in the page (promises awaited) and returns its string value. */
  evaluate(expression: string): Promise<string>;
  /** Navigates; resolves with the error message Firefox reports ("...SSL_ERROR_RX_RECORD_TOO_LONG)") or "loaded". */
  navigate(url: string): Promise<string>;
  /** Console messages (log.entryAdded) so far. */
  logs: string[];
  close(): Promise<void>;
}

/**
 * Headless Firefox driven over WebDriver BiDi (Firefox's own remote protocol, no driver binary), with a
 * fresh profile in `home` (trusting `trustCa` when given): enough to open a WebSocket in a page, read the
 * console and see the error a navigation ends with.
 */
export async function firefoxBidi(
  home: string,
  opts: { trustCa?: string } = {},
): Promise<FirefoxBidi> {
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const profile = mkdtempSync(path.join(home, 'bidi-profile-'));
  if (opts.trustCa) {
    // The profile's own NSS database, made before Firefox starts, trusting this CA for TLS servers.
    const db = `sql:${profile}`;
    execFileSync('certutil', ['-N', '-d', db, '--empty-password'], { stdio: 'pipe' });
    execFileSync('certutil', ['-A', '-d', db, '-t', 'C,,', '-n', 'test-ca', '-i', opts.trustCa], {
      stdio: 'pipe',
    });
  }
  const ff = spawn(
    'firefox-esr',
    ['-headless', '--remote-debugging-port', String(port), '--profile', profile, 'about:blank'],
    {
      env: { ...process.env, HOME: home, MOZ_CRASHREPORTER_DISABLE: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    },
  );
  const exited = new Promise<void>((r) => ff.once('exit', () => r()));
  const kill = async () => {
    if (ff.exitCode === null && ff.pid) {
      try {
        process.kill(-ff.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await exited;
    }
  };
  try {
    let err = '';
    ff.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const deadline = Date.now() + 60_000;
    while (!/WebDriver BiDi listening/.test(err)) {
      if (Date.now() > deadline || ff.exitCode !== null)
        throw new Error(`firefox-esr did not start WebDriver BiDi:\n${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const ws = new WebSocket(`ws://127.0.0.1:${port}/session`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    let id = 0;
    const pending = new Map<number, (m: Record<string, unknown>) => void>();
    const logs: string[] = [];
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as Record<string, unknown>;
      const waiter = typeof m.id === 'number' ? pending.get(m.id) : undefined;
      if (waiter) {
        pending.delete(m.id as number);
        waiter(m);
      } else if (m.method === 'log.entryAdded') {
        logs.push(String((m.params as { text?: string }).text));
      }
    });
    const cmd = (method: string, params: object = {}) =>
      new Promise<Record<string, unknown>>((resolve) => {
        pending.set(++id, resolve);
        ws.send(JSON.stringify({ id, method, params }));
      });
    await cmd('session.new', { capabilities: {} });
    await cmd('session.subscribe', { events: ['log.entryAdded'] });
    const tree = (await cmd('browsingContext.getTree')) as {
      result: { contexts: { context: string }[] };
    };
    const context = tree.result.contexts[0]?.context as string;
    return {
      logs,
      async evaluate(expression) {
        const r = (await cmd('script.evaluate', {
          expression,
          awaitPromise: true,
          target: { context },
        })) as { result?: { result?: { value?: unknown } }; message?: string };
        return String(r.result?.result?.value ?? r.message);
      },
      async navigate(url) {
        const r = await cmd('browsingContext.navigate', { context, url, wait: 'complete' });
        return r.type === 'error' ? String(r.message) : 'loaded';
      },
      async close() {
        ws.close();
        await kill();
      },
    };
  } catch (e) {
    await kill();
    throw e;
  }
}
