// The CLI contract: commands, exit codes, error style, and that bad input leaves the store untouched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { run } from './index';
import type { Io } from './command';
import { runTool, snapshotTree, tempDir } from '../../e2e/helpers/tools';
import { daysLeft } from '../../shared/validity';

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
    const bundle = path.join(root, 'dist', 'cli.cjs');
    expect(
      fs.existsSync(bundle),
      'dist/cli.cjs is missing: run "npm run build:node" (npm install does it)',
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
    // --json prints the API's LeafDto (shared/api.ts): issued by the current CA, not expired.
    const list = JSON.parse(go(['cert', 'list', '--json']).stdout);
    const ca = JSON.parse(go(['ca', 'show', '--json']).stdout);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      names: ['localhost', '127.0.0.1', '::1'],
      keyType: 'ecdsa',
      caFingerprint256: ca.fingerprint256,
    });
    expect(daysLeft(list[0].notAfter).expired).toBe(false);
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

  it('ca init --force replaces the CA as a whole and destroys the old key', async () => {
    const h = path.join(tmp.dir, 'force-home');
    await cli(['ca', 'init'], h, work);
    const first = fs.readFileSync(path.join(h, 'ca', 'ca.pem'), 'utf8');
    expect((await cli(['ca', 'init', '--force', '--key', 'rsa'], h, work)).code).toBe(0);
    // Only the old certificate is kept (trust history), never its key.
    expect(fs.readdirSync(h).sort()).toEqual(['ca', 'store.json', 'trusted-cas']);
    expect(fs.readdirSync(path.join(h, 'trusted-cas')).map((f) => f.slice(-4))).toEqual(['.pem']);
    expect(fs.readFileSync(path.join(h, 'ca', 'ca.pem'), 'utf8')).not.toBe(first);
    expect(fs.statSync(path.join(h, 'ca')).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(h, 'ca', 'ca-key.pem')).mode & 0o777).toBe(0o600);
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
    // cert.issue's result { leaf, warnings } plus the files written.
    const { leaf, files } = JSON.parse(issued.stdout);
    expect(files.cert).toBe(path.join(work, '_wildcard.app.test+1-client.pem'));
    expect(daysLeft(leaf.notAfter).days).toBe(90);
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
      [
        'email with non-ASCII local part',
        ['cert', 'issue', 'jos\u00e9@app.test'],
        /"jos\u00e9@app.test" contains the non-ASCII character "\u00e9" before the "@"/,
      ],
      [
        'email with NUL',
        ['cert', 'issue', 'a\u0000b@app.test'],
        /contains a NUL byte before the "@"[^]*hint: use an ASCII mailbox/,
      ],
      [
        'email with two "@"',
        ['cert', 'issue', 'a@b@app.test'],
        /"a@b@app.test" is not a valid email/,
      ],
      [
        'email local part over 64',
        ['cert', 'issue', `${'a'.repeat(65)}@app.test`],
        /65 characters before the "@" \(at most 64, RFC 5321\)/,
      ],
      ['URI with NUL', ['cert', 'issue', 'uri:spiffe://app.test/a\u0000'], /contains a NUL byte/],
      [
        'URI with non-ASCII',
        ['cert', 'issue', 'uri:https://caf\u00e9.test/'],
        /non-ASCII character "\u00e9"[^]*hint: percent-encode/,
      ],
      [
        'IPv6 zone id',
        ['cert', 'issue', 'fe80::1%eth0'],
        /"fe80::1%eth0" carries a zone id \("%eth0"\)[^]*hint: give the address without it \("fe80::1"\)/,
      ],
      [
        '50,000 names',
        ['cert', 'issue', ...Array.from({ length: 50_000 }, (_, i) => `h${i}.test`)],
        /50000 names given, a certificate holds at most 100[^]*hint: split them/,
      ],
      [
        'ca show with an extra argument',
        ['ca', 'show', 'extra'],
        /failed to run "wss-studio ca show": unexpected argument "extra"[^]*hint: .*takes no arguments/,
      ],
      ['cert list with an argument', ['cert', 'list', 'x'], /unexpected argument "x"/],
      [
        'trust install --stores ""',
        ['trust', 'install', '--stores', ''],
        /no store named in "--stores"[^]*hint: name at least one of: system, nss/,
      ],
      ['trust uninstall --stores ","', ['trust', 'uninstall', '--stores', ' , '], /no store named/],
    ];
    it.each(cases)('%s', async (_name, argv, message) => {
      // Never the machine's trust stores, even if a case regresses into installing: temp HOME and
      // root, no certutil/keytool on PATH, no JAVA_HOME.
      const sealed = {
        HOME: path.join(tmp.dir, 'sealed-home'),
        WSS_STUDIO_TRUST_ROOT: path.join(tmp.dir, 'sealed-root'),
        PATH: '/nonexistent',
        JAVA_HOME: '',
      };
      await cli(['ca', 'init'], home, work); // exists already or is created once
      const before = snapshotTree(home);
      const workBefore = snapshotTree(work);
      const r = await cli(argv, home, work, sealed);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: failed to /);
      expect(r.stderr).toMatch(message);
      expect(snapshotTree(home)).toEqual(before);
      expect(snapshotTree(work)).toEqual(workBefore);
    });
  });

  it('cert issue: a URI name can never put files outside --out-dir; the README URI example issues', async () => {
    const h = path.join(tmp.dir, 'traversal-home');
    const out = path.join(tmp.dir, 'out', 'a', 'b');
    fs.mkdirSync(out, { recursive: true });
    await cli(['ca', 'init'], h, work);
    const outside = snapshotTree(tmp.dir);
    const evil = await cli(
      ['cert', 'issue', 'uri:x:/../../../x/evil', 'localhost', '--out-dir', out, '--json'],
      h,
      work,
    );
    expect(evil.code, evil.stderr).toBe(0);
    const files = JSON.parse(evil.stdout).files;
    expect(path.dirname(files.cert)).toBe(out);
    expect(path.dirname(files.key)).toBe(out);
    expect(path.basename(files.cert)).toBe('x__.._.._.._x_evil+1.pem');
    // Only files inside out/ and the store changed.
    const after = snapshotTree(tmp.dir);
    const changed = Object.keys(after).filter((k) => after[k] !== outside[k]);
    expect(
      changed.filter((k) => !k.startsWith('out/a/b/') && !k.startsWith('traversal-home/')),
    ).toEqual([]);

    const spiffe = await cli(
      ['cert', 'issue', 'uri:spiffe://app.test/x', '--out-dir', out],
      h,
      work,
    );
    expect(spiffe.code, spiffe.stderr).toBe(0);
    expect(fs.existsSync(path.join(out, 'spiffe___app.test_x.pem'))).toBe(true);
    const text = runTool('openssl', [
      'x509',
      '-in',
      path.join(out, 'spiffe___app.test_x.pem'),
      '-noout',
      '-ext',
      'subjectAltName',
    ]).stdout;
    expect(text).toContain('URI:spiffe://app.test/x');
    const list = JSON.parse((await cli(['cert', 'list', '--json'], h, work)).stdout);
    expect(list.map((l: { names: string[] }) => l.names[0]).sort()).toEqual([
      'spiffe://app.test/x',
      'x:/../../../x/evil',
    ]);
  });

  it('cert issue into a folder it cannot write leaves no certificate in the store', async () => {
    const h = path.join(tmp.dir, 'ro-home');
    const ro = path.join(tmp.dir, 'ro-out');
    fs.mkdirSync(ro);
    await cli(['ca', 'init'], h, work);
    // As root, permissions do not stop writes: a file where the folder should be does.
    const target = process.getuid?.() === 0 ? path.join(ro, 'file') : ro;
    if (target !== ro) fs.writeFileSync(target, '');
    else fs.chmodSync(ro, 0o500);
    const before = snapshotTree(h);
    const r = await cli(['cert', 'issue', 'localhost', '--out-dir', target], h, work);
    fs.chmodSync(ro, 0o700);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--out-dir|does not exist|not writable/);
    expect(snapshotTree(h)).toEqual(before);
  });

  it('refuses a CA key that does not belong to the CA certificate (replaced or symlinked), naming both paths', async () => {
    const h = path.join(tmp.dir, 'mismatch-home');
    const other = path.join(tmp.dir, 'mismatch-other');
    await cli(['ca', 'init'], h, work);
    await cli(['ca', 'init'], other, work);
    const keyFile = path.join(h, 'ca', 'ca-key.pem');
    fs.rmSync(keyFile);
    fs.symlinkSync(path.join(other, 'ca', 'ca-key.pem'), keyFile);
    const before = snapshotTree(h);
    const out = path.join(tmp.dir, 'mismatch-out');
    fs.mkdirSync(out);
    for (const argv of [
      ['cert', 'issue', 'localhost', '--out-dir', out],
      ['ca', 'show'],
    ]) {
      const r = await cli(argv, h, work);
      expect(r.code, argv.join(' ')).toBe(1);
      expect(r.stderr).toContain(
        `error: failed to load CA from "${path.join(h, 'ca')}": the key "${keyFile}" does not belong to the certificate "${path.join(h, 'ca', 'ca.pem')}"`,
      );
      expect(r.stderr).toMatch(/hint: put back the ca-key.pem .*"wss-studio ca init --force"/);
    }
    expect(snapshotTree(h)).toEqual(before);
    expect(fs.readdirSync(out)).toEqual([]);
  });

  describe('JSON on disk with the wrong shape: the path and the field, never a TypeError', () => {
    const shapes: Array<[string, string, string[], RegExp]> = [
      ['ca.json null', 'ca/ca.json', ['null'], /the file must be a JSON object/],
      ['ca.json {}', 'ca/ca.json', ['{}'], /"schema" is missing/],
      [
        'ca.json permitted',
        'ca/ca.json',
        [
          '{"schema":1,"keyType":"ecdsa","constrained":true,"permitted":"x","source":"created","createdAt":""}',
        ],
        /"permitted" must be an array/,
      ],
      ['store.json null', 'store.json', ['null'], /the file must be a JSON object/],
      ['store.json {}', 'store.json', ['{}'], /"schema" is missing/],
      ['store.json schema text', 'store.json', ['{"schema":"1"}'], /"schema" must be a number/],
    ];
    it.each(shapes)('%s', async (_n, rel, [content], message) => {
      const h = path.join(tmp.dir, `shape-${rel.replace(/\W/g, '')}-${content!.length}`);
      await cli(['ca', 'init'], h, work);
      const file = path.join(h, rel);
      fs.writeFileSync(file, content!);
      const before = snapshotTree(h);
      const r = await cli(['ca', 'show'], h, work);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `failed to read "${file}": the file does not have the expected content: `,
      );
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/TypeError|Cannot read/);
      expect(snapshotTree(h)).toEqual(before);
    });

    it('meta.json null / {} / names not an array: cert show names it; cert list lists the others and the damaged one', async () => {
      const h = path.join(tmp.dir, 'shape-meta');
      await cli(['ca', 'init'], h, work);
      const issue = async (n: string) =>
        JSON.parse((await cli(['cert', 'issue', n, '--out-dir', work, '--json'], h, work)).stdout)
          .leaf.id as string;
      const good = await issue('good.test');
      const bad = await issue('bad.test');
      const meta = path.join(h, 'certs', bad, 'meta.json');
      const original = JSON.parse(fs.readFileSync(meta, 'utf8'));
      for (const [content, message] of [
        ['null', /the file must be a JSON object/],
        ['{}', /"schema" is missing/],
        [JSON.stringify({ ...original, names: 'bad.test' }), /"names" must be an array of names/],
      ] as const) {
        fs.writeFileSync(meta, content);
        const show = await cli(['cert', 'show', bad], h, work);
        expect(show.code).toBe(1);
        expect(show.stderr).toContain(`"${meta}"`);
        expect(show.stderr).toMatch(message);
        const list = await cli(['cert', 'list'], h, work);
        expect(list.code).toBe(0);
        expect(list.stdout).toMatch(new RegExp(`${good} .*good\\.test`));
        expect(list.stdout).toMatch(
          new RegExp(
            `${bad} +- +DAMAGED +${path.join(h, 'certs', bad).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`,
          ),
        );
        expect(list.stderr).toContain(`certificate "${bad}" is damaged`);
        const json = JSON.parse((await cli(['cert', 'list', '--json'], h, work)).stdout);
        expect(json.map((l: { id: string }) => l.id)).toEqual([good]);
        expect(fs.readFileSync(meta, 'utf8')).toBe(content);
      }
      // A damaged certificate can be deleted.
      expect((await cli(['cert', 'delete', bad], h, work)).code).toBe(0);
      expect((await cli(['cert', 'list'], h, work)).stderr).toBe('');
    });
  });

  it('reports a corrupt file with its path and does not overwrite it', async () => {
    const h = path.join(tmp.dir, 'corrupt-home');
    await cli(['ca', 'init'], h, work);
    const r0 = JSON.parse(
      (await cli(['cert', 'issue', 'localhost', '--out-dir', work, '--json'], h, work)).stdout,
    ).leaf;
    const meta = path.join(h, 'certs', r0.id, 'meta.json');
    fs.writeFileSync(meta, '{ not json');
    const r = await cli(['cert', 'show', r0.id], h, work);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(meta);
    expect(r.stderr).toMatch(/not valid JSON/);
    expect(fs.readFileSync(meta, 'utf8')).toBe('{ not json');
  });
});
