// The start-up recovery on hand-made crash states (the strace test in crash.test.ts makes real ones).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { run } from '../cli/index';
import type { Io } from '../cli/command';
import { tempDir } from '../../e2e/helpers/tools';
import { openStore } from './index';

describe('store recovery', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir('wss-recover-');
  });
  afterAll(() => tmp.cleanup());

  const cli = async (argv: string[], home: string) => {
    const out: string[] = [];
    const err: string[] = [];
    const io: Io = {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      env: { WSS_STUDIO_HOME: home, HOME: path.join(tmp.dir, 'u'), PATH: '/nonexistent' },
      cwd: tmp.dir,
      interrupted: new Promise(() => {}),
    };
    const code = await run(argv, io);
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  };

  /** Two CAs: `home` with one, and the folder of another to play the half-switched new one. */
  async function twoCas(name: string) {
    const home = path.join(tmp.dir, name);
    const other = path.join(tmp.dir, `${name}-other`);
    expect((await cli(['ca', 'init'], home)).code).toBe(0);
    expect((await cli(['ca', 'init'], other)).code).toBe(0);
    return { home, other };
  }

  it('finishes a CA replacement cut between its two renames, and says so', async () => {
    const { home, other } = await twoCas('finish');
    const newPem = fs.readFileSync(path.join(other, 'ca', 'ca.pem'), 'utf8');
    fs.renameSync(path.join(home, 'ca'), path.join(home, '.old~ca~123-0badf00d'));
    fs.renameSync(path.join(other, 'ca'), path.join(home, '.new~ca~123-0badf00d'));
    const r = await cli(['ca', 'show', '--json'], home);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /^note: after an interrupted change, finished the replacement of ".*\/ca"$/m,
    );
    expect(r.stderr).toMatch(/removed ".*\.old~ca~123-0badf00d"/);
    expect(fs.readFileSync(path.join(home, 'ca', 'ca.pem'), 'utf8')).toBe(newPem);
    expect(fs.readdirSync(home).sort()).toEqual(['ca', 'store.json']);
  });

  it('rolls back when only the old folder is left; removes orphan new folders (private keys)', async () => {
    const { home } = await twoCas('rollback');
    const pem = fs.readFileSync(path.join(home, 'ca', 'ca.pem'), 'utf8');
    fs.renameSync(path.join(home, 'ca'), path.join(home, '.old~ca~9-00000001'));
    fs.mkdirSync(path.join(home, 'certs', '.new~x-1~9-00000002'), { recursive: true });
    fs.writeFileSync(path.join(home, 'certs', '.new~x-1~9-00000002', 'key.pem'), 'secret');
    fs.mkdirSync(path.join(home, 'certs', '.del~y-2~9-00000003'));
    fs.mkdirSync(path.join(home, '.ca-new-9-1700000000000')); // an earlier version's temp folder
    const done = openStore(home).recovered;
    expect(done[0]).toMatch(/^rolled back the replacement of /);
    expect(done).toHaveLength(4);
    expect(fs.readFileSync(path.join(home, 'ca', 'ca.pem'), 'utf8')).toBe(pem);
    expect(fs.readdirSync(home).sort()).toEqual(['ca', 'certs', 'store.json']);
    expect(fs.readdirSync(path.join(home, 'certs'))).toEqual([]);
    // Nothing left: opening again does nothing.
    expect(openStore(home).recovered).toEqual([]);
  });

  it('leaves a staged folder alone while its process lives; finishes a switch with one; removes dead ones', async () => {
    const { home, other } = await twoCas('staged');
    const newPem = fs.readFileSync(path.join(other, 'ca', 'ca.pem'), 'utf8');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid; // a pid whose process is gone
    // A CA switch cut between its renames, its new folder a staged one.
    fs.renameSync(path.join(home, 'ca'), path.join(home, `.old~ca~${dead}-0000000c`));
    fs.renameSync(path.join(other, 'ca'), path.join(home, `.stage~ca~${dead}-0000000c`));
    const certs = path.join(home, 'certs');
    const live = path.join(certs, `.stage~a-1~${process.pid}-0000000a`); // this process: alive
    const orphan = path.join(certs, `.stage~b-2~${dead}-0000000b`);
    // Another switch's staged folder never finishes this one's (tags differ): rolled back instead.
    const foreign = path.join(certs, `.stage~c-3~${process.pid}-0000000d`);
    for (const d of [live, orphan, foreign]) {
      fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(d, 'key.pem'), 'secret');
    }
    fs.mkdirSync(path.join(certs, `.old~c-3~${dead}-0000000e`));
    const done = openStore(home).recovered;
    expect(done).toContain(`finished the replacement of ${JSON.stringify(path.join(home, 'ca'))}`);
    expect(done).toContain(
      `rolled back the replacement of ${JSON.stringify(path.join(certs, 'c-3'))}`,
    );
    expect(done).toContain(`removed ${JSON.stringify(orphan)}`);
    expect(fs.readFileSync(path.join(home, 'ca', 'ca.pem'), 'utf8')).toBe(newPem);
    expect(fs.readdirSync(home).sort()).toEqual(['ca', 'certs', 'store.json']);
    expect(fs.readdirSync(certs).sort()).toEqual(
      [path.basename(foreign), path.basename(live), 'c-3'].sort(),
    );
  });
});
