// Exports and renewals tell the truth about what is running: the "use it" commands of an export point at
// the running server that uses the certificate (and work as printed, against it, with the password read
// from the environment, never printed), and a renewal names the servers still serving the old certificate
// (restart serves the new one) and the exported files that are now stale, in the engine and in the CLI.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../main/engine';
import { run } from '../main/cli/index';
import type { Io } from '../main/cli/command';
import { requireTool, tempDir } from './helpers/tools';
import type { LeafDto, RenewalNotes, ServerDto, ExportDto } from '../shared/api';

let tmp: ReturnType<typeof tempDir>;
let engine: Engine;
async function call<T>(name: string, input: unknown): Promise<T> {
  const r = await engine.call(name, input);
  if (!r.ok) throw new Error(`${name}: ${JSON.stringify(r.error)}`);
  return r.result as T;
}

function sh(cmd: string, env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number; out: string }>((resolve) => {
    execFile(
      'sh',
      ['-c', cmd],
      { cwd: tmp.dir, timeout: 30_000, env: { ...process.env, ...env } },
      (err, stdout, stderr) =>
        resolve({
          code: err ? Number((err as { code?: number }).code ?? 1) : 0,
          out: stdout + stderr,
        }),
    );
  });
}

function peerFingerprint(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca }, () => {
      resolve(s.getPeerX509Certificate()!.fingerprint256);
      s.end();
    });
    s.on('error', reject);
  });
}

beforeAll(async () => {
  requireTool('openssl');
  requireTool('keytool');
  requireTool('curl');
  tmp = tempDir('wss-renew-');
  engine = createEngine({ home: path.join(tmp.dir, 'home'), shell: 'test' });
  await call('ca.create', { keyType: 'ecdsa' });
});
afterAll(async () => {
  await engine?.close();
  tmp?.cleanup();
});

describe('export commands and renewal notes', () => {
  it('export commands use the running server; the PKCS#12 password is never in them; renew names the server and the stale file; restart serves the new one', async () => {
    const { leaf } = await call<{ leaf: LeafDto }>('cert.issue', {
      names: ['localhost', '127.0.0.1'],
    });
    const srv = await call<ServerDto>('server.add', { scheme: 'wss', certId: leaf.id });
    const on = await call<ServerDto>('server.start', { id: srv.id });
    const port = on.port!;
    const secret = 'Tr1cky pass!';
    const p12 = await call<ExportDto>('cert.export', {
      id: leaf.id,
      format: 'p12',
      password: secret,
    });
    const usage = p12.usage.join('\n');
    expect(usage).not.toContain(secret);
    expect(usage).not.toContain('changeit');
    expect(usage).toContain(`curl --cacert`);
    expect(usage).toContain(`https://localhost:${port}/`);
    expect(usage).toContain(`wss://localhost:${port}`);
    // The commands run as printed (file written where the suggested name says), password from the env.
    fs.writeFileSync(path.join(tmp.dir, p12.suggestedName), Buffer.from(p12.dataBase64, 'base64'));
    const env = { WSS_STUDIO_P12_PASSWORD: secret, HOME: tmp.dir };
    for (const cmd of p12.usage.filter((u) => /^(openssl pkcs12|keytool|curl)/.test(u))) {
      const r = await sh(cmd, env);
      expect(r.code, `${cmd}\n${r.out}`).toBe(0);
    }
    const defaultPw = await call<ExportDto>('cert.export', { id: leaf.id, format: 'p12' });
    expect(defaultPw.usage.join('\n')).not.toContain('changeit');
    // With no running server for a certificate, the example port stays 8443.
    const { leaf: idle } = await call<{ leaf: LeafDto }>('cert.issue', { names: ['idle.test'] });
    expect(
      (await call<ExportDto>('cert.export', { id: idle.id, format: 'pem' })).usage.join('\n'),
    ).toContain('https://idle.test:8443/');

    const ca = (await call<{ certPem: string }>('ca.get', {})).certPem;
    expect(await peerFingerprint(port, ca)).toBe(leaf.fingerprint256);
    const renewed = await call<LeafDto & { renewal: RenewalNotes }>('cert.renew', { id: leaf.id });
    expect(renewed.fingerprint256).not.toBe(leaf.fingerprint256);
    expect(renewed.renewal.servers).toEqual([
      { id: srv.id, name: srv.definition.name, running: true },
    ]);
    expect(renewed.renewal.staleExports.map((e) => [e.format, e.file])).toEqual([
      ['p12', p12.suggestedName],
    ]);
    // Still the old certificate until restarted, then the new one, on the same port.
    expect(await peerFingerprint(port, ca)).toBe(leaf.fingerprint256);
    const again = await call<ServerDto>('server.restart', { id: srv.id });
    expect(again.port).toBe(port);
    expect(await peerFingerprint(port, ca)).toBe(renewed.fingerprint256);
    await call('server.stop', { id: srv.id });
  });

  it('cert.export records the absolute file a caller saved to, and refuses a relative one naming "file"', async () => {
    const { leaf } = await call<{ leaf: LeafDto }>('cert.issue', { names: ['file.test'] });
    const bad = await engine.call('cert.export', { id: leaf.id, format: 'pem', file: 'rel.pem' });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatchObject({ code: 'INVALID_INPUT', field: 'file' });
    const file = path.join(tmp.dir, 'saved', 'file.pem');
    await call('cert.export', { id: leaf.id, format: 'pem', file });
    const renewed = await call<LeafDto & { renewal: RenewalNotes }>('cert.renew', { id: leaf.id });
    expect(renewed.renewal.staleExports.map((e) => [e.format, e.file])).toEqual([['pem', file]]);
  });

  it('the CLI names the exported files a renewal made stale, with the command to export again', async () => {
    const home = path.join(tmp.dir, 'home');
    const { leaf } = await call<{ leaf: LeafDto }>('cert.issue', { names: ['cli.test'] });
    const out: string[] = [];
    const io: Io = {
      out: (l) => out.push(l),
      err: (l) => out.push(l),
      env: { WSS_STUDIO_HOME: home },
      cwd: tmp.dir,
      interrupted: new Promise(() => {}),
    };
    const file = path.join(tmp.dir, 'cli.p12');
    expect(
      await run(
        ['cert', 'export', leaf.id, '--format', 'p12', '--out', file, '--password', 'pw'],
        io,
      ),
    ).toBe(0);
    expect(out.join('\n')).not.toMatch(/\bpw\b/);
    out.length = 0;
    expect(await run(['cert', 'renew', leaf.id], io)).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('Files exported before this renewal are now stale');
    expect(text).toContain(`${file} (p12, exported `);
    expect(text).toContain(`wss-studio cert export ${leaf.id} --format p12 --out ${file}`);
    expect(text).toMatch(/keeps serving the old certificate until it restarts/);
    out.length = 0;
    expect(await run(['cert', 'renew', leaf.id, '--json'], io)).toBe(0);
    // Exported from the first version: still stale after the second renewal.
    expect(JSON.parse(out.join('\n')).renewal.staleExports).toEqual([
      { format: 'p12', file, at: expect.any(String) },
    ]);
  });
});
