// Batched atomic writes (writeFilesAtomic) and staged folders (stageDir): same results as one file or
// folder at a time, and nothing half-written or left over when a write fails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../e2e/helpers/tools';
import { discardStaged, stageDir, switchDir } from './folders';
import { writeFilesAtomic } from './index';

describe('writeFilesAtomic and stageDir', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir('wss-write-');
  });
  afterAll(() => tmp.cleanup());

  const mode = (f: string) => fs.statSync(f).mode & 0o777;

  it('writes and replaces several files with their modes, leaving no temp file', async () => {
    const dir = path.join(tmp.dir, 'out');
    fs.mkdirSync(dir);
    const cert = path.join(dir, 'a.pem');
    const key = path.join(dir, 'a-key.pem');
    fs.writeFileSync(cert, 'old', { mode: 0o600 });
    await writeFilesAtomic([
      { file: cert, data: 'CERT', mode: 0o644 },
      { file: key, data: Buffer.from('KEY'), mode: 0o600 },
    ]);
    expect(fs.readFileSync(cert, 'utf8')).toBe('CERT');
    expect(fs.readFileSync(key, 'utf8')).toBe('KEY');
    expect([mode(cert), mode(key)]).toEqual([0o644, 0o600]);
    expect(fs.readdirSync(dir).sort()).toEqual(['a-key.pem', 'a.pem']);
  });

  it('a file that cannot be written: WRITE_FAILED naming it, and no file changed', async () => {
    const dir = path.join(tmp.dir, 'fail');
    fs.mkdirSync(dir);
    const first = path.join(dir, 'first.pem');
    fs.writeFileSync(first, 'before');
    const missing = path.join(dir, 'no-such-dir', 'second.pem');
    const err = await writeFilesAtomic([
      { file: first, data: 'after' },
      { file: missing, data: 'x' },
    ]).catch((e: unknown) => e as Error & { code?: string });
    expect(err).toMatchObject({ code: 'WRITE_FAILED' });
    expect((err as Error).message).toContain(JSON.stringify(missing));
    expect(fs.readFileSync(first, 'utf8')).toBe('before');
    expect(fs.readdirSync(dir).sort()).toEqual(['first.pem']);
  });

  it('stages a folder beside its target and switches it in whole', async () => {
    const parent = path.join(tmp.dir, 'certs');
    const target = path.join(parent, 'app-1');
    fs.mkdirSync(target, { recursive: true });
    fs.writeFileSync(path.join(target, 'key.pem'), 'old key');
    fs.writeFileSync(path.join(target, 'exports.json'), '[]');
    const staged = await stageDir(target, [
      { name: 'key.pem', data: 'new key', mode: 0o600 },
      { name: 'cert.pem', data: 'new cert', mode: 0o644 },
    ]);
    expect(path.basename(staged.dir)).toMatch(
      new RegExp(`^\\.stage~app-1~${process.pid}-[0-9a-f]{8}$`),
    );
    expect(fs.readFileSync(path.join(target, 'key.pem'), 'utf8')).toBe('old key'); // not switched yet
    switchDir(staged, (dir) =>
      fs.copyFileSync(path.join(target, 'exports.json'), path.join(dir, 'exports.json')),
    );
    discardStaged(staged); // after a switch: nothing left to remove
    expect(fs.readdirSync(parent)).toEqual(['app-1']);
    expect(fs.readdirSync(target).sort()).toEqual(['cert.pem', 'exports.json', 'key.pem']);
    expect(fs.readFileSync(path.join(target, 'key.pem'), 'utf8')).toBe('new key');
    expect([mode(path.join(target, 'key.pem')), mode(path.join(target, 'cert.pem'))]).toEqual([
      0o600, 0o644,
    ]);
  });

  it('a staged folder whose file cannot be written is removed, the target untouched', async () => {
    const target = path.join(tmp.dir, 'certs2', 'app-2');
    await expect(
      stageDir(target, [
        { name: 'key.pem', data: 'k', mode: 0o600 },
        { name: 'key.pem', data: 'twice', mode: 0o600 }, // exists already: open with "wx" fails
      ]),
    ).rejects.toThrow(/EEXIST/);
    expect(fs.readdirSync(path.dirname(target))).toEqual([]);
  });
});
