// Over 400 lines: the CA's create / load / replace / import paths share the key-pair and lock checks that keep them safe.
// The local certificate authority: creation, loading, mkcert import.
import crypto, { X509Certificate, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { CaDto, KeyType } from '../../shared/api';
import { failure, inputError, q } from '../../shared/errors';
import {
  CaMetaSchema,
  readJsonFileAs,
  readTextFile,
  replaceDir,
  writeFileDurable,
  type CaMeta,
  type Store,
} from '../store';
import { DEFAULT_PERMITTED, parseConstraint, type Constraint } from './names';
import {
  basicConstraintsCa,
  buildCertificate,
  keyIdentifier,
  keyUsage,
  nameConstraints,
  permittedSubtreesOf,
  randomSerial,
  subjectKeyIdentifier,
} from './x509';

export type { KeyType };

/**
 * The CA as the engine holds it: the wire's CaDto plus the DER bytes (the wire carries no Buffer; the
 * `warning` is computed for the wire by main/engine/dto.ts).
 */
export type CaInfo = Omit<CaDto, 'warning'> & { certDer: Buffer };

const generateKeyPair = promisify(crypto.generateKeyPair);

/** Fresh key pair from Node's native crypto (OpenSSL); never pure-JS key generation. */
export async function generateKey(
  type: KeyType,
  rsaBits: number,
): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  if (type === 'rsa')
    return generateKeyPair('rsa', { modulusLength: rsaBits, publicExponent: 0x10001 });
  return generateKeyPair('ec', { namedCurve: 'prime256v1' });
}

export function userAtHost(): string {
  let user = 'user';
  try {
    user = os.userInfo().username;
  } catch {
    /* no passwd entry (containers) */
  }
  return `${user}@${os.hostname()}`;
}

export function caPaths(store: Store) {
  return {
    cert: path.join(store.caDir, 'ca.pem'),
    key: path.join(store.caDir, 'ca-key.pem'),
    meta: path.join(store.caDir, 'ca.json'),
  };
}

export interface CreateCaOptions {
  keyType?: KeyType;
  constrained?: boolean;
  permitted?: string[];
  force?: boolean;
  /** Called with a short description of each step (key generation can take a second for RSA). */
  onProgress?: (step: string) => void;
  /**
   * Called under the store lock with the CA about to be replaced, after every check passed and before
   * anything changes (the trust history records it there). Not called for a CA that cannot be loaded.
   */
  beforeReplace?: (old: CaInfo) => void;
}

/** Parse a permitted list; the first bad entry is an input error naming the value and the fix. */
export function parsePermitted(list: string[], action: string): Constraint[] {
  return list.map((p) => {
    const c = parseConstraint(p);
    if (!c.constraint) {
      throw inputError('INVALID_PERMIT', action, `permitted name ${q(p)} is invalid: ${c.error}`, {
        field: 'permit',
        value: p,
        ...(c.hint ? { hint: c.hint } : {}),
      });
    }
    return c.constraint;
  });
}

export async function createCa(store: Store, opts: CreateCaOptions = {}): Promise<CaInfo> {
  const action = 'create CA';
  const keyType = opts.keyType ?? 'ecdsa';
  if (keyType !== 'rsa' && keyType !== 'ecdsa') {
    throw inputError('INVALID_KEY_TYPE', action, `key type ${q(keyType)} is not supported`, {
      field: 'key',
      value: keyType,
      hint: 'use "rsa" (RSA-3072) or "ecdsa" (P-256)',
    });
  }
  const constrained = opts.constrained ?? true;
  const permittedText =
    opts.permitted && opts.permitted.length ? opts.permitted : DEFAULT_PERMITTED;
  if (!constrained && opts.permitted && opts.permitted.length) {
    throw inputError(
      'CONFLICTING_OPTIONS',
      action,
      '"--permit" and "--unconstrained" contradict each other',
      {
        field: 'permit',
        hint: 'drop "--unconstrained" to keep a constrained CA with your list, or drop "--permit"',
      },
    );
  }
  const constraints = constrained ? parsePermitted(permittedText, action) : [];
  refuseExisting(store, action, !!opts.force);

  opts.onProgress?.(`generating ${keyType === 'rsa' ? 'RSA-3072' : 'ECDSA P-256'} key`);
  const { privateKey, publicKey } = await generateKey(keyType, 3072);
  const spkiDer = publicKey.export({ type: 'spki', format: 'der' });
  const who = userAtHost();
  const now = Date.now();
  const notBefore = new Date(now - 60_000);
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + 10);
  opts.onProgress?.('signing CA certificate');
  const der = buildCertificate({
    serial: randomSerial(),
    issuer: [
      ['O', 'WSS Studio development CA'],
      ['OU', who],
      ['CN', `WSS Studio ${who}`],
    ],
    subject: [
      ['O', 'WSS Studio development CA'],
      ['OU', who],
      ['CN', `WSS Studio ${who}`],
    ],
    notBefore,
    notAfter,
    spkiDer,
    extensions: [
      basicConstraintsCa(0),
      keyUsage(['keyCertSign', 'cRLSign']),
      subjectKeyIdentifier(keyIdentifier(spkiDer)),
      ...(constrained ? [nameConstraints(constraints)] : []),
    ],
    signingKey: privateKey,
  });
  const meta: CaMeta = {
    schema: 1,
    keyType,
    constrained,
    permitted: constrained ? constraints.map((c) => c.text) : [],
    source: 'created',
    createdAt: new Date(now).toISOString(),
  };
  opts.onProgress?.('writing CA files');
  return writeCaFolder(
    store,
    action,
    der,
    privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    meta,
    !!opts.force,
    opts.beforeReplace,
  );
}

function refuseExisting(store: Store, action: string, force: boolean): void {
  const paths = caPaths(store);
  if (!force && (fs.existsSync(paths.cert) || fs.existsSync(paths.key))) {
    throw inputError('CA_EXISTS', action, `a CA already exists in ${q(store.caDir)}`, {
      hint: 'keep using it, or pass "--force" to replace it (its key is destroyed; "wss-studio trust uninstall --all-ours" removes it from trust stores)',
    });
  }
}

/**
 * Write the CA as one folder and switch it in under the store lock (main/store/folders.ts): a crash
 * never leaves half a CA, no CA, or a key beside a certificate it does not belong to. The existence
 * check runs under the lock too, so of ten concurrent "ca init" exactly one creates the CA. A replaced
 * CA's folder (and key) is removed: a key of a CA that browsers may still trust must not linger; its
 * certificate stays in the trust history so "trust uninstall --all-ours" can still remove it.
 */
function writeCaFolder(
  store: Store,
  action: string,
  certDer: Buffer,
  keyPem: string,
  meta: CaMeta,
  replace: boolean,
  beforeReplace?: (old: CaInfo) => void,
): Promise<CaInfo> {
  const pem = new X509Certificate(certDer).toString();
  return store.change(action, () => {
    refuseExisting(store, action, replace);
    if (beforeReplace) {
      let old: CaInfo | null = null;
      try {
        old = loadCa(store);
      } catch {
        /* a broken CA may still be replaced; nothing to hand over */
      }
      if (old) beforeReplace(old);
    }
    replaceDir(store.caDir, (dir) => {
      writeFileDurable(path.join(dir, 'ca.pem'), pem, 0o644);
      writeFileDurable(path.join(dir, 'ca-key.pem'), keyPem, 0o600);
      writeFileDurable(path.join(dir, 'ca.json'), JSON.stringify(meta, null, 2) + '\n', 0o600);
    });
    return loadCaOrThrow(store);
  });
}

function keyTypeOf(key: KeyObject): KeyType {
  return key.asymmetricKeyType === 'rsa' ? 'rsa' : 'ecdsa';
}

function info(store: Store, pem: string, meta: CaMeta): CaInfo {
  const paths = caPaths(store);
  let x: X509Certificate;
  try {
    x = new X509Certificate(pem);
  } catch (e) {
    throw failure(
      'STORE_CORRUPT',
      `read CA certificate ${q(paths.cert)}`,
      (e as Error).message,
      'restore the file from a backup, or move the ca folder aside and run "wss-studio ca init"',
    );
  }
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(x.subject)?.[1] ?? x.subject;
  return {
    certPem: x.toString(),
    certDer: x.raw,
    fingerprint256: x.fingerprint256,
    serialHex: x.serialNumber.toUpperCase(),
    subject: x.subject.replace(/\n/g, ', '),
    commonName: cn,
    notBefore: new Date(x.validFrom).toISOString(),
    notAfter: new Date(x.validTo).toISOString(),
    keyType: keyTypeOf(x.publicKey),
    constrained: meta.constrained,
    permitted: meta.permitted,
    source: meta.source,
    certPath: paths.cert,
  };
}

/** The CA, or null when none exists yet. A corrupt file is an error naming its path. */
export function loadCa(store: Store): CaInfo | null {
  // Another process's "ca init --force" switches the CA folder without taking readers' locks: a read that
  // straddles the switch (the old certificate, the new key) is read again, not reported as a mismatch.
  for (let attempt = 1; ; attempt++) {
    const before = caStamp(caPaths(store));
    try {
      return loadCaOnce(store);
    } catch (e) {
      if (attempt >= 5 || caStamp(caPaths(store)) === before) throw e;
    }
  }
}

function loadCaOnce(store: Store): CaInfo | null {
  const paths = caPaths(store);
  // Stamped before reading: a CA switched meanwhile leaves a stale stamp, never a wrong CA under a fresh one.
  const stamp = caStamp(paths);
  const memo = loadedCas.get(store);
  if (stamp && memo?.stamp === stamp) return memo.ca;
  const pem = readTextFile(paths.cert);
  if (pem === undefined) return null;
  let meta = readJsonFileAs(paths.meta, CaMetaSchema);
  if (meta === undefined) {
    // A CA folder without metadata (copied by hand): derive it from the certificate.
    const permitted = permittedSubtreesOf(new X509Certificate(pem).raw);
    meta = {
      schema: 1,
      keyType: 'rsa',
      constrained: !!permitted,
      permitted: permitted ?? [],
      source: 'created',
      createdAt: '',
    };
  }
  const ca = info(store, pem, meta);
  // A key that does not belong to the certificate (replaced or symlinked by hand) would sign leaves
  // that fail verification everywhere: refuse the CA as soon as it is loaded.
  // A key this user cannot read (trust commands run by another user on a shared store) is checked
  // when it is read to sign (readCaKey).
  let keyPem: string | undefined;
  try {
    keyPem = fs.readFileSync(paths.key, 'utf8');
  } catch (e) {
    if (!['ENOENT', 'EACCES', 'EPERM'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
  }
  if (keyPem !== undefined) {
    const key = parseCaKey(paths.key, keyPem);
    checkKeyMatches(store, ca, key);
    loadedKeys.set(ca, key);
  }
  if (stamp) loadedCas.set(store, { stamp, ca });
  return ca;
}

/**
 * loadCa's last CA per store, valid while its three files are unchanged ("cert issue" loads it for the trust
 * warning, then the handler loads it again to sign: read, parsed and key-checked once).
 */
const loadedCas = new WeakMap<Store, { stamp: string; ca: CaInfo }>();

/** Device, inode, mode, size, mtime and ctime (ns) of the CA files; null when they cannot be stat'ed. */
function caStamp(paths: ReturnType<typeof caPaths>): string | null {
  try {
    return [paths.cert, paths.key, paths.meta]
      .map((p) => {
        const s = fs.statSync(p, { bigint: true, throwIfNoEntry: false });
        return s ? `${s.dev}:${s.ino}:${s.mode}:${s.size}:${s.mtimeNs}:${s.ctimeNs}` : '-';
      })
      .join(' ');
  } catch {
    return null;
  }
}

/** The key loadCa read and checked with a CA, so that signing does not read and parse it again. */
const loadedKeys = new WeakMap<CaInfo, KeyObject>();

function parseCaKey(file: string, pem: string): KeyObject {
  try {
    return crypto.createPrivateKey(pem);
  } catch (e) {
    throw failure(
      'STORE_CORRUPT',
      `read CA key ${q(file)}`,
      (e as Error).message,
      'restore it from a backup, or create a new CA with "wss-studio ca init --force"',
    );
  }
}

function checkKeyMatches(store: Store, ca: CaInfo, key: KeyObject): void {
  const paths = caPaths(store);
  if (new X509Certificate(ca.certDer).checkPrivateKey(key)) return;
  throw failure(
    'CA_KEY_MISMATCH',
    `load CA from ${q(store.caDir)}`,
    `the key ${q(paths.key)} does not belong to the certificate ${q(paths.cert)}`,
    `put back the ca-key.pem that was created with this ca.pem, or create a new CA with "wss-studio ca init --force"`,
  );
}

function loadCaOrThrow(store: Store): CaInfo {
  const ca = loadCa(store);
  if (!ca)
    throw failure('NO_CA', 'load CA', `no CA in ${q(store.caDir)}`, 'run "wss-studio ca init"');
  return ca;
}

/** The CA or an error that says how to make one. */
export function requireCa(store: Store, action = 'load CA'): CaInfo {
  const ca = loadCa(store);
  if (!ca) {
    throw inputError('NO_CA', action, `there is no CA yet in ${q(store.root)}`, {
      hint: 'create one with "wss-studio ca init" (or import mkcert\'s with "wss-studio ca import-mkcert")',
    });
  }
  return ca;
}

/**
 * The CA's private key, checked against its certificate. Given the `ca` that loadCa/requireCa just
 * returned: the key read and checked with it (when this user could read it), not read and parsed again,
 * so the key always belongs to that very certificate.
 */
export function readCaKey(store: Store, ca?: CaInfo): KeyObject {
  const loaded = ca && loadedKeys.get(ca);
  if (loaded) return loaded;
  const file = caPaths(store).key;
  const pem = readTextFile(file);
  if (pem === undefined) {
    throw failure(
      'CA_KEY_MISSING',
      `read CA key ${q(file)}`,
      'the file does not exist',
      'restore it, or create a new CA with "wss-studio ca init --force"',
    );
  }
  const key = parseCaKey(file, pem);
  const current = loadCa(store);
  if (current) checkKeyMatches(store, current, key);
  return key;
}

/** mkcert's CAROOT: $CAROOT, else its per-OS default. */
export function defaultMkcertCaroot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CAROOT) return env.CAROOT;
  const home = env.HOME || os.homedir();
  if (process.platform === 'darwin')
    return path.join(home, 'Library', 'Application Support', 'mkcert');
  if (process.platform === 'win32')
    return path.join(env.LOCALAPPDATA || path.join(home, 'AppData', 'Local'), 'mkcert');
  return path.join(env.XDG_DATA_HOME || path.join(home, '.local', 'share'), 'mkcert');
}

/** Import mkcert's rootCA.pem + rootCA-key.pem so that users who already trust it keep it. */
export async function importMkcert(
  store: Store,
  caroot?: string,
  opts: { force?: boolean; beforeReplace?: (old: CaInfo) => void } = {},
): Promise<CaInfo> {
  const dir = caroot ?? defaultMkcertCaroot();
  const action = `import mkcert CA from ${q(dir)}`;
  const certFile = path.join(dir, 'rootCA.pem');
  const keyFile = path.join(dir, 'rootCA-key.pem');
  const certPem = readTextFile(certFile);
  if (certPem === undefined) {
    throw inputError('MKCERT_NOT_FOUND', action, `${q(certFile)} does not exist`, {
      field: 'caroot',
      value: dir,
      hint: 'pass the folder "mkcert -CAROOT" prints',
    });
  }
  const keyPem = readTextFile(keyFile);
  if (keyPem === undefined) {
    throw inputError('MKCERT_NOT_FOUND', action, `${q(keyFile)} does not exist`, {
      field: 'caroot',
      value: dir,
      hint: 'mkcert keeps the key beside rootCA.pem; copy it back, or create a new CA with "wss-studio ca init"',
    });
  }
  let x: X509Certificate;
  let key: KeyObject;
  try {
    x = new X509Certificate(certPem);
    key = crypto.createPrivateKey(keyPem);
  } catch (e) {
    throw inputError('MKCERT_INVALID', action, (e as Error).message, {
      field: 'caroot',
      value: dir,
      hint: 'check both files are PEM written by mkcert',
    });
  }
  if (!x.ca) {
    throw inputError('MKCERT_INVALID', action, `${q(certFile)} is not a CA certificate`, {
      field: 'caroot',
      value: dir,
    });
  }
  if (!x.checkPrivateKey(key)) {
    throw inputError('MKCERT_INVALID', action, 'rootCA-key.pem does not belong to rootCA.pem', {
      field: 'caroot',
      value: dir,
    });
  }
  refuseExisting(store, action, !!opts.force);
  const permitted = permittedSubtreesOf(x.raw);
  const meta: CaMeta = {
    schema: 1,
    keyType: keyTypeOf(key),
    constrained: !!permitted,
    permitted: permitted ?? [],
    source: 'mkcert',
    createdAt: new Date().toISOString(),
    importedFrom: dir,
  };
  return writeCaFolder(
    store,
    action,
    x.raw,
    key.export({ type: 'pkcs8', format: 'pem' }) as string,
    meta,
    !!opts.force,
    opts.beforeReplace,
  );
}
