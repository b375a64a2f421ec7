// The CLI contract: commands, exit codes, error style, and that bad input leaves the store untouched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { run } from './index';
import type { Io } from './command';
import { runTool, snapshotTree, tempDir } from '../../e2e/helpers/tools';

const root = path.resolve(__dirname, '..', '..');

function cli(argv: string[], home: string, cwd: string, env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: { ...process.env, WSS_STUDIO_HOME: home, ...env },
    cwd,
    interrupted: new Promise(() => {}),
  };
  return run(argv, io).then((code) => ({ code, stdout: out.join('\n'), stderr: err.join('\n') }));
}

describe('wss-studio CLI', () => {
  let tmp: ReturnType<typeof tempDir>;
  let home: string;
  let work: string;

  beforeAll(async () => {
    tmp = tempDir();
    home = path.join(tmp.dir, 'home');
    work = path.join(tmp.dir, 'work');
    fs.mkdirSync(work);
  });
  afterAll(() => tmp.cleanup());

  it('runs as the installed bin with --help (bundled, no build step by hand)', () => {
    const bundle = path.join(root, 'dist', 'cli.mjs');
    expect(
      fs.existsSync(bundle),
      'dist/cli.mjs is missing: run "npm run build:node" (npm install does it)',
    ).toBe(true);
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    const r = spawnSync(process.execPath, [path.join(root, pkg.bin['wss-studio']), '--help'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    for (const c of [
      'ca init',
      'ca show',
      'ca export',
      'ca import-mkcert',
      'cert issue',
      'cert list',
      'cert show',
      'cert export',
      'cert renew',
      'cert delete',
    ]) {
      expect(r.stdout).toContain(c);
    }
  });

  it('runs a whole session through the real binary: init, issue, list --json, exit codes', () => {
    const env = { ...process.env, WSS_STUDIO_HOME: path.join(tmp.dir, 'bin-home') };
    const bin = path.join(root, 'bin', 'wss-studio.cjs');
    const go = (args: string[]) =>
      spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env, cwd: work });
    expect(go(['ca', 'init']).status).toBe(0);
    const issued = go(['cert', 'issue', 'localhost', '127.0.0.1', '::1', '--out-dir', work]);
    expect(issued.status, issued.stderr).toBe(0);
    expect(fs.existsSync(path.join(work, 'localhost+2.pem'))).toBe(true);
    expect(fs.statSync(path.join(work, 'localhost+2-key.pem')).mode & 0o777).toBe(0o600);
    const list = JSON.parse(go(['cert', 'list', '--json']).stdout);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      names: ['localhost', '127.0.0.1', '::1'],
      keyType: 'ecdsa',
      currentCa: true,
      expired: false,
    });
    const bad = go(['cert', 'issue', 'exa mple.com']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(
      /^error: failed to issue certificate: "exa mple.com" contains white space\nhint: /,
    );
    const missing = go(['cert', 'show', 'nope']);
    expect(missing.status).toBe(2);
    expect(go(['frobnicate']).status).toBe(2);
  });

  it('ca init, ca show --json, and refuses a second init without --force', async () => {
    const init = await cli(['ca', 'init', '--json'], home, work);
    expect(init.code).toBe(0);
    const ca = JSON.parse(init.stdout);
    expect(ca).toMatchObject({ constrained: true, keyType: 'ecdsa', source: 'created' });
    const show = JSON.parse((await cli(['ca', 'show', '--json'], home, work)).stdout);
    expect(show.fingerprint256).toBe(ca.fingerprint256);
    expect(Array.isArray(show.trust)).toBe(true);
    const again = await cli(['ca', 'init'], home, work);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/a CA already exists/);
    expect(again.stderr).toMatch(/hint: .*--force/);
  });

  it('cert issue warns (does not fail) when the CA is not trusted by a detected store, and ca show lists each store', async () => {
    const h = path.join(tmp.dir, 'trust-home');
    const env = { HOME: path.join(tmp.dir, 'user-home') };
    await cli(['ca', 'init'], h, work, env);
    const r = await cli(['cert', 'issue', 'localhost', '--out-dir', work], h, work, env);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: the CA is not trusted by .*nss.*"wss-studio trust install"/);
    // --json carries the same warning (it printed it on stderr with "warnings": [] before).
    const j = await cli(['cert', 'issue', 'localhost', '--out-dir', work, '--json'], h, work, env);
    expect(JSON.parse(j.stdout).warnings).toEqual([
      expect.stringMatching(/^the CA is not trusted by .*nss.*"wss-studio trust install"/),
    ]);
    // One day count for CLI and UI (shared/validity.ts): a --days 1 certificate has 1 day left, not 0.
    const one = await cli(
      ['cert', 'issue', 'one.test', '--days', '1', '--out-dir', work],
      h,
      work,
      env,
    );
    expect(one.stdout).toMatch(/\(1 day left\)/);
    const list = await cli(['cert', 'list'], h, work, env);
    expect(list.stdout).toMatch(/ 1d +one\.test/);
    const show = await cli(['ca', 'show'], h, work, env);
    expect(show.stdout).toMatch(/trust:\n\s+system\s+not trusted/);
    expect(show.stdout).toMatch(/nss\s+not trusted/);
  });

  it('ca init --force moves the old CA aside with a timestamp', async () => {
    const h = path.join(tmp.dir, 'force-home');
    await cli(['ca', 'init'], h, work);
    const first = fs.readFileSync(path.join(h, 'ca', 'ca.pem'), 'utf8');
    expect((await cli(['ca', 'init', '--force', '--key', 'rsa'], h, work)).code).toBe(0);
    const aside = fs.readdirSync(h).filter((f) => f.startsWith('ca-old-'));
    expect(aside).toHaveLength(1);
    expect(fs.readFileSync(path.join(h, aside[0]!, 'ca.pem'), 'utf8')).toBe(first);
    expect(fs.readFileSync(path.join(h, 'ca', 'ca.pem'), 'utf8')).not.toBe(first);
  });

  it('ca init --unconstrained warns', async () => {
    const r = await cli(['ca', 'init', '--unconstrained'], path.join(tmp.dir, 'unc-home'), work);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: this CA is NOT name-constrained/);
    expect(r.stdout).toMatch(/constraints: NONE/);
  });

  it('issue, show, export every format, renew and delete', async () => {
    const issued = await cli(
      [
        'cert',
        'issue',
        '*.app.test',
        'app.test',
        '--key',
        'rsa',
        '--client',
        '--days',
        '90',
        '--out-dir',
        work,
        '--json',
      ],
      home,
      work,
    );
    expect(issued.code, issued.stderr).toBe(0);
    const leaf = JSON.parse(issued.stdout);
    expect(leaf.files.cert).toBe(path.join(work, '_wildcard.app.test+1-client.pem'));
    expect(leaf.daysLeft).toBe(90);
    for (const format of ['pem', 'key', 'fullchain', 'der', 'p12']) {
      const out = path.join(work, `x.${format}`);
      const r = await cli(
        [
          'cert',
          'export',
          leaf.id,
          '--format',
          format,
          '--out',
          out,
          ...(format === 'p12' ? ['--password', 'pw'] : []),
        ],
        home,
        work,
      );
      expect(r.code, r.stderr).toBe(0);
      expect(fs.existsSync(out)).toBe(true);
      expect(r.stdout).toMatch(/wscat -c wss:\/\/app\.test:8443 --ca /);
      expect(r.stdout).toMatch(/curl --cacert /);
      expect(r.stdout).toMatch(/NODE_EXTRA_CA_CERTS=/);
      expect(r.stdout).toMatch(/openssl s_client -connect /);
    }
    expect(
      runTool('openssl', [
        'pkcs12',
        '-in',
        path.join(work, 'x.p12'),
        '-info',
        '-noout',
        '-passin',
        'pass:pw',
      ]).status,
    ).toBe(0);
    const caOut = path.join(work, 'ca.cer');
    expect((await cli(['ca', 'export', '--format', 'der', '--out', caOut], home, work)).code).toBe(
      0,
    );
    expect(runTool('openssl', ['x509', '-inform', 'DER', '-in', caOut, '-noout']).status).toBe(0);
    const shown = await cli(['cert', 'show', leaf.id], home, work);
    expect(shown.stdout).toMatch(/names:\s+\*\.app\.test, app\.test/);
    expect((await cli(['cert', 'renew', leaf.id], home, work)).code).toBe(0);
    expect((await cli(['cert', 'delete', leaf.id], home, work)).code).toBe(0);
    expect((await cli(['cert', 'show', leaf.id], home, work)).code).toBe(2);
  });

  describe('bad input: exit 2, the message names the value, the store is byte-for-byte unchanged', () => {
    const cases: Array<[string, string[], RegExp]> = [
      ['white space', ['cert', 'issue', 'exa mple.com'], /"exa mple.com" contains white space/],
      ['port', ['cert', 'issue', 'localhost:8080'], /"localhost:8080" carries a port/],
      ['URL', ['cert', 'issue', 'https://x'], /"https:\/\/x" is a URL/],
      ['bad IPv4', ['cert', 'issue', '999.1.1.1'], /"999.1.1.1" is not a valid IPv4 address/],
      ['empty', ['cert', 'issue', ''], /the name is empty/],
      [
        'double wildcard',
        ['cert', 'issue', '*.*.test'],
        /"\*\.\*\.test" has a wildcard in the wrong place/,
      ],
      [
        'inner wildcard',
        ['cert', 'issue', 'a.*.test'],
        /"a\.\*\.test" has a wildcard in the wrong place/,
      ],
      [
        'public suffix wildcard',
        ['cert', 'issue', '*.com'],
        /"\*\.com" is a wildcard for a whole public suffix/,
      ],
      [
        'outside constraints',
        ['cert', 'issue', 'localhost', 'example.com'],
        /"example.com" is outside the CA's name constraints/,
      ],
      [
        'days 0',
        ['cert', 'issue', 'localhost', '--days', '0'],
        /"--days" must be a whole number from 1 to 825, got "0"/,
      ],
      ['days 900', ['cert', 'issue', 'localhost', '--days', '900'], /got "900"/],
      [
        'key type',
        ['cert', 'issue', 'localhost', '--key', 'dsa'],
        /key type "dsa" is not supported/,
      ],
      [
        'missing out-dir',
        ['cert', 'issue', 'localhost', '--out-dir', '/nonexistent/dir'],
        /folder "\/nonexistent\/dir" does not exist/,
      ],
      ['no names', ['cert', 'issue'], /no names given/],
      ['unknown option', ['cert', 'issue', 'localhost', '--bogus'], /unknown option "--bogus"/],
      ['unknown id', ['cert', 'renew', 'nope'], /no certificate with id "nope"/],
      ['path id', ['cert', 'delete', '../ca'], /"..\/ca" is not a certificate id/],
      [
        'bad format',
        ['cert', 'export', 'x', '--format', 'jks', '--out', 'f'],
        /format "jks" is not supported/,
      ],
      [
        'bad permit',
        ['ca', 'init', '--force', '--permit', '10.0.0.0/33'],
        /"10.0.0.0\/33" is invalid/,
      ],
      [
        'permit + unconstrained',
        ['ca', 'init', '--force', '--unconstrained', '--permit', 'a.test'],
        /contradict/,
      ],
      [
        'ca key type',
        ['ca', 'init', '--force', '--key', 'ed25519'],
        /key type "ed25519" is not supported/,
      ],
      ['ca export out dir', ['ca', 'export', '--out', '/nonexistent/ca.pem'], /does not exist/],
      [
        'import missing',
        ['ca', 'import-mkcert', '/nonexistent/caroot', '--force'],
        /rootCA.pem" does not exist/,
      ],
    ];
    it.each(cases)('%s', async (_name, argv, message) => {
      await cli(['ca', 'init'], home, work); // exists already or is created once
      const before = snapshotTree(home);
      const workBefore = snapshotTree(work);
      const r = await cli(argv, home, work);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: failed to /);
      expect(r.stderr).toMatch(message);
      expect(snapshotTree(home)).toEqual(before);
      expect(snapshotTree(work)).toEqual(workBefore);
    });
  });

  it('reports a corrupt file with its path and does not overwrite it', async () => {
    const h = path.join(tmp.dir, 'corrupt-home');
    await cli(['ca', 'init'], h, work);
    const r0 = JSON.parse(
      (await cli(['cert', 'issue', 'localhost', '--out-dir', work, '--json'], h, work)).stdout,
    );
    const meta = path.join(h, 'certs', r0.id, 'meta.json');
    fs.writeFileSync(meta, '{ not json');
    const r = await cli(['cert', 'show', r0.id], h, work);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(meta);
    expect(r.stderr).toMatch(/not valid JSON/);
    expect(fs.readFileSync(meta, 'utf8')).toBe('{ not json');
  });
});
