// Headless Firefox ESR as a witness of trust (playwright-core cannot drive a stock Firefox): it runs as
// `firefox-esr -headless --profile DIR --screenshot FILE URL`, and the caller's HTTPS server records what
// happened in `events`: "request /" when Firefox accepted the certificate, a TLS error when it refused.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

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
}): Promise<{ outcome: 'loaded' | 'refused'; detail: string }> {
  const { events } = opts;
  events.length = 0;
  const ff = spawn(
    'firefox-esr',
    ['-headless', '--profile', opts.profile, '--screenshot', opts.shot, opts.url],
    {
      env: { ...process.env, HOME: opts.home, MOZ_CRASHREPORTER_DISABLE: '1' },
      stdio: 'ignore',
      detached: true,
    },
  );
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
