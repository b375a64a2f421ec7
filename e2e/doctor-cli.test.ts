// `wss-studio doctor` end to end: in-process through run() for the contract (exit codes, --json shape, the
// CA taken from $WSS_STUDIO_HOME), and through the real built binary for the issue's own command lines.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../main/cli/index';
import type { Io } from '../main/cli/command';
import { openStore } from '../main/store';
import { createCa, issueLeaf, readLeafKeyPem } from '../main/pki';
import { startRawServer, startWsServer, type TestServer } from '../main/doctor/testing';
import type { DoctorReport } from '../main/doctor';
import { runCli, snapshotTree, tempDir } from './helpers/tools';

const root = path.resolve(__dirname, '..');

let tmp: ReturnType<typeof tempDir>;
let home: string;
let emptyHome: string;
let caFile: string;
let plain: TestServer;
let secure: TestServer;

function cli(
  argv: string[],
  env: NodeJS.ProcessEnv = {},
  interrupted = new Promise<void>(() => {}),
) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: { ...process.env, WSS_STUDIO_HOME: emptyHome, ...env },
    cwd: tmp.dir,
    interrupted,
  };
  return run(argv, io).then((code) => ({ code, stdout: out.join('\n'), stderr: err.join('\n') }));
}

/** Run the installed entry (bin/wss-studio.cjs -> dist/cli.cjs) as a separate process. */
function binary(argv: string[]) {
  return runCli(argv, {
    cwd: tmp.dir,
    env: { ...process.env, WSS_STUDIO_HOME: emptyHome },
    timeoutMs: 30_000,
  });
}

beforeAll(async () => {
  tmp = tempDir('wss-doctor-cli-');
  home = path.join(tmp.dir, 'home');
  emptyHome = path.join(tmp.dir, 'no-store-here');
  const store = openStore(home);
  const ca = await createCa(store);
  caFile = path.join(tmp.dir, 'ca.pem');
  fs.writeFileSync(caFile, ca.certPem);
  const { leaf } = await issueLeaf(store, { names: ['localhost', '127.0.0.1'] });
  plain = await startWsServer();
  secure = await startWsServer({
    tls: { certPem: leaf.certPem, keyPem: readLeafKeyPem(store, leaf.id) },
  });
});

afterAll(async () => {
  await Promise.all([plain?.close(), secure?.close()]);
  tmp?.cleanup();
});

describe('wss-studio doctor (in process)', () => {
  it('exits 0 for a wss:// URL that the client asked about trusts (Node with the CA of $WSS_STUDIO_HOME)', async () => {
    const caPath = path.join(home, 'ca', 'ca.pem');
    const r = await cli(['doctor', `wss://localhost:${secure.port}/`, '--client', 'node'], {
      WSS_STUDIO_HOME: home,
      NODE_EXTRA_CA_CERTS: caPath,
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`WSS Studio CA: ${path.join(home, 'ca')}`);
    expect(r.stdout).toContain('chain verifies against the WSS Studio CA: yes');
    expect(r.stdout).toContain(`works  Node (bundled roots + NODE_EXTRA_CA_CERTS=${caPath})`);
    expect(r.stdout).toMatch(/result: this connection would work$/m);
  });

  it('exits 1 naming the client and the fix when that client does not trust the CA', async () => {
    const r = await cli(['doctor', `wss://localhost:${secure.port}/`, '--client', 'node'], {
      WSS_STUDIO_HOME: home,
      NODE_EXTRA_CA_CERTS: '',
    });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(
      /^result: this connection would FAIL: fails in Node \(set NODE_EXTRA_CA_CERTS=\/.*\/ca\/ca\.pem\)$/m,
    );
  });

  it('refuses an unknown --client, naming the valid ones', async () => {
    const r = await cli(['doctor', `wss://localhost:${secure.port}/`, '--client', 'safari']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown client "safari"');
    expect(r.stderr).toContain('chrome, firefox, system, node, java, windows, macos');
  });

  it('exits 1 with CERT_UNTRUSTED for the same URL when there is no store, and creates none', async () => {
    const r = await cli(['doctor', `wss://localhost:${secure.port}/`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'FAIL  Certificate is valid for this host and trusted  [CERT_UNTRUSTED]',
    );
    expect(r.stdout).toContain('fix: Create the WSS Studio CA (wss-studio ca init)');
    expect(fs.existsSync(emptyHome)).toBe(false);
  });

  it('checks against --ca FILE instead', async () => {
    const r = await cli(
      ['doctor', `wss://127.0.0.1:${secure.port}/`, '--ca', caFile, '--client', 'node', '--json'],
      { NODE_EXTRA_CA_CERTS: caFile },
    );
    expect(r.code, r.stdout).toBe(0);
    const report = JSON.parse(r.stdout) as DoctorReport;
    expect(report.tls).toMatchObject({ issuedByOurCa: true, trustedByOurCa: true });
  });

  it('prints one JSON report with --json: every step, codes, target and facts', async () => {
    const r = await cli(['doctor', `wss://localhost:${plain.port}/x`, '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as DoctorReport;
    expect(report).toMatchObject({
      url: `wss://localhost:${plain.port}/x`,
      ok: false,
      codes: ['TLS_ON_PLAIN_PORT'],
      speaks: 'plain',
      target: { scheme: 'wss', host: 'localhost', port: plain.port, path: '/x' },
    });
    expect(report.steps.map((s) => s.id)).toEqual([
      'url',
      'mixed-content',
      'dns',
      'tcp',
      'tls',
      'certificate',
      'upgrade',
    ]);
    const tls = report.steps[4];
    expect(tls).toMatchObject({ status: 'fail', code: 'TLS_ON_PLAIN_PORT' });
    expect(typeof tls?.explanation).toBe('string');
    expect(typeof tls?.fix).toBe('string');
  });

  it('exits 2 for bad usage, naming the problem', async () => {
    const missing = await cli(['doctor']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      'error: failed to run "wss-studio doctor": the URL is missing',
    );
    const two = await cli(['doctor', 'ws://a/', 'ws://b/']);
    expect(two.code).toBe(2);
    const origin = await cli(['doctor', 'ws://localhost:1/', '--origin', 'localhost:5173']);
    expect(origin.code).toBe(2);
    expect(origin.stderr).toContain('"localhost:5173" is not an http:// or https:// origin');
    expect(origin.stdout).toBe('');
    const timeout = await cli(['doctor', 'ws://localhost:1/', '--timeout', 'soon']);
    expect(timeout.code).toBe(2);
    const badCa = await cli([
      'doctor',
      'ws://localhost:1/',
      '--ca',
      path.join(tmp.dir, 'nope.pem'),
    ]);
    expect(badCa.code).toBe(2);
    expect(badCa.stderr).toContain('ENOENT');
  });

  it('stops on Ctrl-C (io.interrupted) with the steps so far and exit 1', async () => {
    const silent = await startRawServer(() => {});
    try {
      let interrupt: () => void = () => {};
      const interrupted = new Promise<void>((r) => (interrupt = r));
      const t0 = Date.now();
      const done = cli(
        ['doctor', `wss://127.0.0.1:${silent.port}/`, '--timeout', '60000'],
        {},
        interrupted,
      );
      setTimeout(interrupt, 300);
      const r = await done;
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('PASS  TCP connects');
      expect(r.stdout).toMatch(/result: cancelled before the diagnosis finished$/);
      expect(Date.now() - t0).toBeLessThan(20_000);
    } finally {
      await silent.close();
    }
  });

  it('goes on with the system bundle when the CA in the store is unreadable, and leaves it as it was', async () => {
    const broken = path.join(tmp.dir, 'broken-home');
    fs.mkdirSync(path.join(broken, 'ca'), { recursive: true });
    fs.writeFileSync(path.join(broken, 'store.json'), '{"schema":1}\n');
    fs.writeFileSync(path.join(broken, 'ca', 'ca.pem'), 'not a certificate\n');
    const before = snapshotTree(broken);
    const r = await cli(['doctor', `ws://127.0.0.1:${plain.port}/`], { WSS_STUDIO_HOME: broken });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain('warning: the WSS Studio CA could not be read');
    expect(r.stdout).toContain('WSS Studio CA: none (unreadable)');
    expect(snapshotTree(broken)).toEqual(before);
  });

  it('treats a malformed URL as a diagnosis (exit 1) with the fix', async () => {
    const r = await cli(['doctor', 'localhost:8080/echo']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('[BAD_URL]');
    expect(r.stdout).toContain('fix: Write "ws://localhost:8080/echo"');
  });
});

describe('wss-studio doctor (built binary)', () => {
  beforeAll(() => {
    const bundle = path.join(root, 'dist', 'cli.cjs');
    expect(fs.existsSync(bundle), `${bundle} is missing: run "npm run build:node"`).toBe(true);
  });

  it('doctor ws://app.test:PORT --origin https://app.test reports MIXED_CONTENT_BLOCKED, exit 1', async () => {
    const r = await binary([
      'doctor',
      `ws://app.test:${plain.port}`,
      '--origin',
      'https://app.test',
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain(
      'FAIL  Page origin allows this URL (mixed content)  [MIXED_CONTENT_BLOCKED]',
    );
    expect(r.stdout).toContain('skip  Host name resolves: Not run');
    expect(r.stdout).toContain('result: this connection would FAIL: MIXED_CONTENT_BLOCKED');
  });

  it('doctor ws://localhost:PORT --origin https://localhost exits 0 with the loopback warning', async () => {
    const r = await binary([
      'doctor',
      `ws://localhost:${plain.port}`,
      '--origin',
      'https://localhost',
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(
      'WARN  Page origin allows this URL (mixed content)  [MIXED_CONTENT_LOOPBACK]',
    );
    expect(r.stdout).toContain('PASS  WebSocket upgrade succeeds');
    expect(r.stdout).toContain(
      'result: this connection would work (with a warning: MIXED_CONTENT_LOOPBACK)',
    );
  });

  it('names TLS_ON_PLAIN_PORT and PLAIN_ON_TLS_PORT from the real process', async () => {
    const a = await binary(['doctor', `wss://localhost:${plain.port}/`, '--json']);
    expect(a.code).toBe(1);
    expect((JSON.parse(a.stdout) as DoctorReport).codes).toEqual(['TLS_ON_PLAIN_PORT']);
    const b = await binary(['doctor', `ws://localhost:${secure.port}/`]);
    expect(b.code).toBe(1);
    expect(b.stdout).toContain('[PLAIN_ON_TLS_PORT]');
    expect(b.stdout).toContain(`fix: Use "wss://localhost:${secure.port}/" for this port`);
  });
});
