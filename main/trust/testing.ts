// Test helpers for the trust stores (imported only by tests): a real CA and leaf from the engine in a
// temp WSS_STUDIO_HOME, a foreign CA made by openssl, and tool checks that fail loudly with the install
// hint instead of skipping.
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCa, issueLeaf, readLeafKeyPem, type CaInfo, type LeafInfo } from '../pki';
import { openStore } from '../store';
import type { TrustCa, TrustContext } from './types';
import { defaultContext } from './util';

export interface Fixture {
  tmp: string;
  /** WSS_STUDIO_HOME of the fixture. */
  home: string;
  ca: CaInfo;
  leaf: LeafInfo;
  leafKeyPem: string;
  cleanup: () => void;
}

export async function makeFixture(prefix = 'wss-trust-'): Promise<Fixture> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), prefix));
  const home = path.join(tmp, 'wss-home');
  const store = openStore(home);
  const ca = await createCa(store, { keyType: 'ecdsa' });
  const { leaf } = await issueLeaf(store, { names: ['localhost', '127.0.0.1'] });
  return {
    tmp,
    home,
    ca,
    leaf,
    leafKeyPem: readLeafKeyPem(store, leaf.id),
    cleanup: () => rmSync(tmp, { recursive: true, force: true }),
  };
}

/**
 * A self-signed root CA without name constraints, made by openssl (EC P-256, 30 days): a CA that is not
 * ours, or an attacker's.
 */
export function opensslRootCa(keyFile: string, certFile: string, subject: string): void {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-subj',
      subject,
      '-days',
      '30',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    { stdio: 'pipe' },
  );
}

/** A CA that is not ours (different subject and key), made by openssl, to prove we never remove it. */
export function foreignCa(dir: string, cn = 'Someone Else Root CA'): TrustCa {
  const cert = path.join(dir, 'other-ca.pem');
  opensslRootCa(path.join(dir, 'other-ca.key'), cert, `/CN=${cn}`);
  const pem = readFileSync(cert, 'utf8');
  const x = new X509Certificate(pem);
  return {
    certPem: pem,
    certDer: x.raw,
    fingerprint256: x.fingerprint256,
    serialHex: x.serialNumber,
    commonName: cn,
    certPath: cert,
  };
}

/** Throws (test fails) with the install hint when a tool this test needs is missing. */
export function requireTool(cmd: string, args: string[], hint: string): void {
  const r = spawnSync(cmd, args, { stdio: 'pipe' });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(`"${cmd}" is required by this test and is not installed: ${hint}`);
  }
}

/** A context rooted in temp folders: temp HOME, temp filesystem root, no JAVA_HOME unless given. */
export function tempContext(tmp: string, overrides: Partial<TrustContext> = {}): TrustContext {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: path.join(tmp, 'home') };
  return defaultContext({
    env,
    home: path.join(tmp, 'home'),
    root: path.join(tmp, 'root'),
    platform: 'linux',
    ...overrides,
  });
}
