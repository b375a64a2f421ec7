// doctor.run as both shells call it: the CLI (`wss-studio doctor`, shell "cli") and the app/web mode. The
// options the CLI has (--protocol, --timeout, --ca) are request input, and fixes are worded per shell.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParsedInput } from '../../shared/api';
import {
  makeCa,
  makeLeaf,
  startRawServer,
  startWsServer,
  type TestServer,
} from '../doctor/testing';
import { openStore } from '../store';
import type { CallContext } from './dispatch';
import type { CoreDeps } from './deps';
import { EventHub } from './events';
import { doctorHandlers } from './handlers-doctor';
import { Tasks } from './tasks';

let home: string;
let caFile: string;
let server: TestServer;
let run: ReturnType<typeof doctorHandlers>['doctor.run'];
const CLI: CallContext = { shell: 'cli' };
const APP: CallContext = { shell: 'electron' };

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'wss-doctor-handler-'));
  const ca = makeCa({ cn: 'Doctor Handler Test CA' });
  caFile = path.join(home, 'other-ca.pem');
  fs.writeFileSync(caFile, ca.certPem);
  server = await startWsServer({
    tls: makeLeaf(ca, { names: ['localhost', '127.0.0.1'] }),
    protocols: ['chat'],
  });
  const hub = new EventHub();
  const deps = {
    store: openStore(path.join(home, 'store')), // no CA in it: never created by the doctor
    hub,
    tasks: new Tasks(hub),
    env: { NODE_EXTRA_CA_CERTS: caFile }, // Node trusts the server's CA; the doctor does only with caFile
  } as Partial<CoreDeps> as CoreDeps;
  run = doctorHandlers(deps)['doctor.run'];
});
afterAll(async () => {
  await server?.close();
  fs.rmSync(home, { recursive: true, force: true });
});

const input = (over: Partial<ParsedInput<'doctor.run'>> = {}): ParsedInput<'doctor.run'> => ({
  url: `wss://127.0.0.1:${server.port}/`,
  clients: ['node'],
  ...over,
});

describe('doctor.run for every shell', () => {
  it('words the fix for the CLI with commands and for the app with its screens', async () => {
    const cli = await run(input(), CLI);
    const app = await run(input(), APP);
    const fix = (r: typeof cli) => r.steps.find((s) => s.code === 'CERT_UNTRUSTED')?.fix ?? '';
    expect(fix(cli)).toContain('wss-studio ca init');
    expect(fix(app)).toContain('Overview screen');
    expect(fix(app)).not.toContain('wss-studio');
    expect(fs.existsSync(path.join(home, 'store'))).toBe(false);
  });

  it('checks against caFile and offers protocols, as --ca and --protocol do', async () => {
    const plain = await run(input(), CLI);
    expect(plain.codes).toEqual(['CERT_UNTRUSTED']);
    const withCa = await run(input({ caFile }), CLI);
    expect(withCa.tls).toMatchObject({ issuedByOurCa: true, trustedByOurCa: true });
    expect(withCa.codes).toEqual([]);
    const upgrade = (r: typeof plain) => r.steps.find((s) => s.id === 'upgrade')?.detail ?? [];
    expect(upgrade(withCa)).toContain('subprotocol: none');
    const offered = await run(input({ caFile, protocols: ['chat'] }), APP);
    expect(offered.ok).toBe(true);
    expect(upgrade(offered)).toContain('subprotocol: chat');
  });

  it('gives up on a silent server after timeoutMs, as --timeout does', async () => {
    const silent = await startRawServer(() => {});
    try {
      const t0 = Date.now();
      const r = await run(input({ url: `wss://127.0.0.1:${silent.port}/`, timeoutMs: 300 }), CLI);
      expect(r.ok).toBe(false);
      expect(r.steps.find((s) => s.id === 'tls')?.explanation).toContain('within 300 ms');
      expect(Date.now() - t0).toBeLessThan(4_000); // the default would wait 5000 ms for the handshake alone
    } finally {
      await silent.close();
    }
  });

  it('refuses an unreadable caFile before running, naming the field each shell knows', async () => {
    const missing = path.join(home, 'nope.pem');
    await expect(run(input({ caFile: missing }), CLI)).rejects.toMatchObject({
      code: 'BAD_CA',
      data: { field: '--ca' },
    });
    await expect(run(input({ caFile: missing }), APP)).rejects.toMatchObject({
      code: 'BAD_CA',
      data: { field: 'caFile' },
    });
  });
});
