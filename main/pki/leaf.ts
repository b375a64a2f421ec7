// Over 400 lines: leaf issue / renew / list / delete share the validation and the store's pair-changes-together rule.
// Leaf certificates: validation, issuance, listing, renewal, deletion.
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { LeafDto } from '../../shared/api';
import { failure, inputError, q } from '../../shared/errors';
import {
  LeafMetaSchema,
  readJsonFileAs,
  readTextFile,
  removeDir,
  discardStaged,
  stageDir,
  switchDir,
  writeFileDurable,
  type LeafMeta,
  type Store,
} from '../store';
import { generateKey, readCaKey, requireCa, userAtHost, type CaInfo, type KeyType } from './ca';
import { checkName, parseConstraint, permittedBy, type Constraint, type NameCheck } from './names';
import {
  authorityKeyIdentifier,
  basicConstraintsLeaf,
  buildCertificate,
  extKeyUsage,
  keyIdentifier,
  keyUsage,
  OID,
  randomSerial,
  subjectAltName,
  subjectKeyIdentifier,
  subjectKeyIdOf,
  subjectNameOf,
} from './x509';

/**
 * Names per certificate. 100 is the limit public CAs apply (Let's Encrypt, CA/B Forum practice), so
 * every TLS client handles it; with names of typical length the certificate stays a few KB. 50,000
 * names made an 866 KB certificate that OpenSSL refuses to load.
 */
export const MAX_NAMES = 100;

/** Apple's limit for certificates from a user-installed CA (support.apple.com/HT210176): 825 days. */
export const MAX_LEAF_DAYS = 825;

/**
 * A leaf as the engine reads it from its folder: the wire's LeafDto without the usages, which
 * main/engine/dto.ts reads from the certificate itself when it converts one for the wire.
 */
export type LeafInfo = Omit<LeafDto, 'issuer' | 'keyUsage' | 'extKeyUsage'>;

export interface IssueOptions {
  names: string[];
  keyType?: KeyType;
  client?: boolean;
  days?: number;
}

function constraintsOf(ca: CaInfo | null): Constraint[] | null {
  if (!ca || !ca.constrained) return null;
  return ca.permitted.map((p) => parseConstraint(p).constraint).filter((c): c is Constraint => !!c);
}

/** Per-name verdicts for live validation (the UI) and for issuance; never throws. */
export function checkNames(names: string[], ca: CaInfo | null): NameCheck[] {
  const constraints = constraintsOf(ca);
  const seen = new Set<string>();
  return names.map((n) => {
    const c = checkName(n);
    if (c.error) return c;
    if (seen.has(c.normalized as string)) {
      return { ...c, warning: `${q(c.normalized)} is listed twice; it is included once` };
    }
    seen.add(c.normalized as string);
    if (constraints && !permittedBy(c, constraints)) {
      return {
        input: n,
        normalized: c.normalized,
        kind: c.kind,
        code: 'NAME_NOT_PERMITTED',
        error: `${q(c.normalized)} is outside the CA's name constraints (${ca!.permitted.join(', ')})`,
        hint:
          'use a local name such as "app.test" or "app.localhost" (map it in /etc/hosts), or create a CA that permits it: ' +
          `"wss-studio ca init --force --permit ${c.kind === 'wildcard' ? (c.normalized as string).slice(1) : c.normalized}" ` +
          '(add the defaults you still want), or "--unconstrained"',
      };
    }
    return c;
  });
}

function validateIssue(
  opts: IssueOptions,
  ca: CaInfo,
  action: string,
): { names: NameCheck[]; warnings: string[]; days: number; keyType: KeyType } {
  if (!Array.isArray(opts.names) || opts.names.length === 0) {
    throw inputError('NO_NAMES', action, 'no names given', {
      field: 'names',
      hint: 'list the host names and addresses to cover, e.g. "localhost 127.0.0.1 ::1"',
    });
  }
  if (opts.names.length > MAX_NAMES) {
    throw inputError(
      'TOO_MANY_NAMES',
      action,
      `${opts.names.length} names given, a certificate holds at most ${MAX_NAMES}`,
      {
        field: 'names',
        value: opts.names.length,
        hint: `split them over several certificates, or use a wildcard such as "*.app.test" for many subdomains`,
      },
    );
  }
  const keyType = opts.keyType ?? 'ecdsa';
  if (keyType !== 'rsa' && keyType !== 'ecdsa') {
    throw inputError('INVALID_KEY_TYPE', action, `key type ${q(keyType)} is not supported`, {
      field: 'key',
      value: keyType,
      hint: 'use "rsa" (RSA-2048) or "ecdsa" (P-256)',
    });
  }
  const days = opts.days ?? MAX_LEAF_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > MAX_LEAF_DAYS) {
    throw inputError('INVALID_DAYS', action, `validity of ${q(days)} days is out of range`, {
      field: 'days',
      value: days,
      hint: `choose 1 to ${MAX_LEAF_DAYS} days (${MAX_LEAF_DAYS} is Apple's limit for locally trusted certificates)`,
    });
  }
  const verdicts = checkNames(opts.names, ca);
  const bad = verdicts.filter((v) => v.error);
  if (bad.length) {
    const first = bad[0]!;
    const more =
      bad.length > 1
        ? ` (and ${bad.length - 1} more: ${bad
            .slice(1)
            .map((b) => q(b.input))
            .join(', ')})`
        : '';
    throw inputError(first.code ?? 'INVALID_NAME', action, `${first.error}${more}`, {
      field: 'names',
      value: first.input,
      ...(first.hint ? { hint: first.hint } : {}),
    });
  }
  const unique: NameCheck[] = [];
  const seen = new Set<string>();
  for (const v of verdicts) {
    if (seen.has(v.normalized as string)) continue;
    seen.add(v.normalized as string);
    unique.push(v);
  }
  return {
    names: unique,
    warnings: verdicts.filter((v) => v.warning).map((v) => v.warning as string),
    days,
    keyType,
  };
}

/**
 * A file or folder name from a certificate name that can never leave its folder whatever the name
 * holds (URIs carry "/" and "..", emails "@"): only [A-Za-z0-9._+-], no leading dot, bounded length.
 */
export function safeFileName(name: string, max = 40): string {
  const s = name
    .replace(/^\*\./, 'wildcard.')
    .replace(/[^a-z0-9._+-]/gi, '_')
    .replace(/^\.+/, '')
    .slice(0, max);
  return s || 'cert';
}

function slug(name: string): string {
  return safeFileName(name).replace(/\+/g, '_');
}

function leafPaths(store: Store, id: string) {
  const dir = store.certDir(id);
  return {
    dir,
    cert: path.join(dir, 'cert.pem'),
    key: path.join(dir, 'key.pem'),
    meta: path.join(dir, 'meta.json'),
  };
}

/**
 * The subject CN: the first name, as clients that still show CN expect. Except one case: a leaf with no
 * DNS name from a name-constrained CA. OpenSSL checks a CN that looks like a host name ("127.0.0.1" does)
 * against the DNS constraints whenever the leaf has no DNS SAN, and refuses it ("permitted subtree
 * violation"); browsers ignore CN entirely. There the CN is left out, as mkcert always does.
 */
function cnFor(names: NameCheck[], ca: CaInfo): string | undefined {
  const hasDns = names.some((n) => n.kind === 'dns' || n.kind === 'wildcard');
  if (!hasDns && ca.constrained) return undefined;
  return names[0]!.normalized as string;
}

async function signLeaf(
  store: Store,
  ca: CaInfo,
  names: NameCheck[],
  keyType: KeyType,
  client: boolean,
  days: number,
) {
  const caKey = readCaKey(store, ca);
  const { privateKey, publicKey } = await generateKey(keyType, 2048);
  const spkiDer = publicKey.export({ type: 'spki', format: 'der' });
  const caSpki = new X509Certificate(ca.certDer).publicKey.export({ type: 'spki', format: 'der' });
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + days * 86_400_000);
  const caEnd = new Date(ca.notAfter);
  const serial = randomSerial();
  const der = buildCertificate({
    serial,
    issuer: subjectNameOf(ca.certDer),
    subject: [
      ['O', 'WSS Studio development certificate'],
      ['OU', userAtHost()],
      ...(cnFor(names, ca) ? [['CN', cnFor(names, ca) as string] as ['CN', string]] : []),
    ],
    notBefore,
    notAfter: notAfter > caEnd ? caEnd : notAfter,
    spkiDer,
    extensions: [
      keyUsage(keyType === 'rsa' ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature']),
      // emailProtection when an email name is present, as mkcert does (its cert.go): S/MIME clients
      // (Thunderbird, Outlook) refuse an email certificate without it; TLS clients ignore it.
      extKeyUsage([
        OID.serverAuth,
        ...(client ? [OID.clientAuth] : []),
        ...(names.some((n) => n.kind === 'email') ? [OID.emailProtection] : []),
      ]),
      basicConstraintsLeaf(),
      subjectKeyIdentifier(keyIdentifier(spkiDer)),
      authorityKeyIdentifier(subjectKeyIdOf(ca.certDer, caSpki)),
      subjectAltName(names),
    ],
    signingKey: caKey,
  });
  return {
    certPem: new X509Certificate(der).toString(),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    serialHex: serial.toString('hex').toUpperCase(),
  };
}

/**
 * Write a certificate, its key and metadata as one folder and switch it in under the store lock
 * (main/store/folders.ts): the key and the certificate change together, whatever moment a crash hits.
 * The folder is written and fsynced before the lock is taken (stageDir: the fsyncs run in parallel),
 * so the lock is held only for the checks and the switch.
 * `mustExist` (renewal) refuses when the certificate was deleted meanwhile by another process.
 */
async function writeLeaf(
  store: Store,
  action: string,
  id: string,
  certPem: string,
  keyPem: string,
  meta: LeafMeta,
  mustExist: boolean,
): Promise<void> {
  const p = leafPaths(store, id);
  const staged = await stageDir(p.dir, [
    { name: 'key.pem', data: keyPem, mode: 0o600 },
    { name: 'cert.pem', data: certPem, mode: 0o644 },
    { name: 'meta.json', data: JSON.stringify(meta, null, 2) + '\n', mode: 0o600 },
  ]);
  try {
    await store.change(action, () => {
      if (mustExist && !fs.existsSync(p.meta)) throw notFound(action, id);
      // A new id is the first name plus 32 bits of a random serial: never replace a namesake.
      if (!mustExist && fs.existsSync(p.dir)) {
        throw failure('CERT_EXISTS', action, `${q(p.dir)} already exists`, 'issue it again');
      }
      // A renewal keeps what else the folder records about the certificate (exports.json: the files
      // exported before, which the renewal notes name as stale), copied under the lock so that an
      // export recorded meanwhile is not lost.
      const extras = mustExist
        ? fs
            .readdirSync(p.dir, { withFileTypes: true })
            .filter((f) => f.isFile() && !['key.pem', 'cert.pem', 'meta.json'].includes(f.name))
        : [];
      switchDir(
        staged,
        extras.length
          ? (dir) => {
              for (const f of extras) {
                writeFileDurable(
                  path.join(dir, f.name),
                  fs.readFileSync(path.join(p.dir, f.name)),
                  0o600,
                );
              }
            }
          : undefined,
      );
    });
  } finally {
    discardStaged(staged); // nothing left when it was switched in
  }
}

function notFound(action: string, id: string) {
  return inputError('CERT_NOT_FOUND', action, `there is no certificate with id ${q(id)}`, {
    field: 'id',
    value: id,
    hint: 'run "wss-studio cert list" to see the ids',
  });
}

export async function issueLeaf(
  store: Store,
  opts: IssueOptions,
): Promise<{ leaf: LeafInfo; warnings: string[] }> {
  const action = 'issue certificate';
  const ca = requireCa(store, action);
  const v = validateIssue(opts, ca, action);
  const client = !!opts.client;
  const signed = await signLeaf(store, ca, v.names, v.keyType, client, v.days);
  const id = `${slug(v.names[0]!.normalized as string)}-${signed.serialHex.slice(0, 8).toLowerCase()}`;
  const meta: LeafMeta = {
    schema: 1,
    id,
    names: v.names.map((n) => n.normalized as string),
    keyType: v.keyType,
    client,
    days: v.days,
    caFingerprint256: ca.fingerprint256,
    createdAt: new Date().toISOString(),
  };
  await writeLeaf(store, action, id, signed.certPem, signed.keyPem, meta, false);
  const warnings = [...v.warnings];
  const leaf = toInfo(store, id, meta, signed.certPem); // what was just written, not read back
  if (new Date(leaf.notAfter) < new Date(Date.now() + v.days * 86_400_000 - 86_400_000)) {
    warnings.push(
      `the certificate ends with the CA on ${leaf.notAfter.slice(0, 10)}, sooner than ${v.days} days`,
    );
  }
  return { leaf, warnings };
}

function toInfo(store: Store, id: string, meta: LeafMeta, certPem: string): LeafInfo {
  const p = leafPaths(store, id);
  let x: X509Certificate;
  try {
    x = new X509Certificate(certPem);
  } catch (e) {
    throw failure(
      'STORE_CORRUPT',
      `read certificate ${q(p.cert)}`,
      (e as Error).message,
      `delete it with "wss-studio cert delete ${id}" and issue it again`,
    );
  }
  return {
    id,
    names: meta.names,
    commonName: meta.names[0] ?? '',
    keyType: meta.keyType,
    client: meta.client,
    notBefore: new Date(x.validFrom).toISOString(),
    notAfter: new Date(x.validTo).toISOString(),
    serialHex: x.serialNumber.toUpperCase(),
    fingerprint256: x.fingerprint256,
    certPem: x.toString(),
    caFingerprint256: meta.caFingerprint256,
    certPath: p.cert,
    keyPath: p.key,
  };
}

const ID_RE = /^[a-z0-9._-]{1,80}$/i;

/** An id names a folder under certs/: never a path, never a temp folder (they start with "."). */
function checkId(action: string, id: string): void {
  if (typeof id !== 'string' || !ID_RE.test(id) || id.startsWith('.')) {
    throw inputError('CERT_NOT_FOUND', action, `${q(id)} is not a certificate id`, {
      field: 'id',
      value: id,
      hint: 'run "wss-studio cert list" to see the ids',
    });
  }
}

export function getLeaf(store: Store, id: string): LeafInfo {
  return loadLeaf(store, id).info;
}

/** A leaf's stored metadata and what its certificate says, from one read of each file. */
function loadLeaf(store: Store, id: string): { meta: LeafMeta; info: LeafInfo } {
  const action = `read certificate ${q(id)}`;
  checkId(action, id);
  const p = leafPaths(store, id);
  const meta = readJsonFileAs(p.meta, LeafMetaSchema);
  const pem = readTextFile(p.cert);
  if (meta === undefined || pem === undefined) throw notFound(action, id);
  return { meta, info: toInfo(store, id, meta, pem) };
}

export function readLeafKeyPem(store: Store, id: string): string {
  const leaf = getLeaf(store, id);
  const pem = readTextFile(leaf.keyPath);
  if (pem === undefined) {
    throw failure(
      'KEY_MISSING',
      `read key of certificate ${q(id)}`,
      `${q(leaf.keyPath)} does not exist`,
      `renew it with "wss-studio cert renew ${id}"`,
    );
  }
  return pem;
}

/** A certificate folder that cannot be read: listed with its path and why, never hiding the others. */
export interface DamagedLeaf {
  id: string;
  path: string;
  error: string;
}

export function listLeaves(store: Store): LeafInfo[] {
  return scanLeaves(store).leaves;
}

/** Every certificate, plus the folders that are damaged (corrupt or missing files). */
export function scanLeaves(store: Store): { leaves: LeafInfo[]; damaged: DamagedLeaf[] } {
  let ids: string[];
  try {
    ids = fs.readdirSync(store.certsDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { leaves: [], damaged: [] };
    throw failure('STORE_UNREADABLE', `read ${q(store.certsDir)}`, (e as Error).message);
  }
  const leaves: LeafInfo[] = [];
  const damaged: DamagedLeaf[] = [];
  for (const id of ids.sort()) {
    if (id.startsWith('.')) continue; // temp folders of a change in progress (main/store/folders.ts)
    const p = leafPaths(store, id);
    try {
      const meta = readJsonFileAs(p.meta, LeafMetaSchema);
      const pem = readTextFile(p.cert);
      if (!meta || !pem) {
        const missing = [!meta && 'meta.json', !pem && 'cert.pem'].filter(Boolean).join(' and ');
        throw new Error(`${missing} missing`);
      }
      leaves.push(toInfo(store, id, meta, pem));
    } catch (e) {
      damaged.push({ id, path: p.dir, error: (e as Error).message });
    }
  }
  leaves.sort((a, b) => a.notBefore.localeCompare(b.notBefore) || a.id.localeCompare(b.id));
  return { leaves, damaged };
}

/** Same names and options, new key, new serial, new dates; same id. */
export async function renewLeaf(store: Store, id: string): Promise<LeafInfo> {
  const action = `renew certificate ${q(id)}`;
  const { meta, info: leaf } = loadLeaf(store, id);
  const ca = requireCa(store, action);
  const v = validateIssue(
    { names: leaf.names, keyType: meta.keyType, client: meta.client, days: meta.days },
    ca,
    action,
  );
  const signed = await signLeaf(store, ca, v.names, v.keyType, meta.client, v.days);
  await writeLeaf(
    store,
    action,
    id,
    signed.certPem,
    signed.keyPem,
    { ...meta, caFingerprint256: ca.fingerprint256, renewedAt: new Date().toISOString() },
    true,
  );
  return getLeaf(store, id);
}

/** Delete a certificate folder as a whole. A damaged one (unreadable files) can be deleted too. */
export async function deleteLeaf(store: Store, id: string): Promise<void> {
  const action = `delete certificate ${q(id)}`;
  checkId(action, id);
  const dir = leafPaths(store, id).dir;
  await store.change(action, () => {
    if (!fs.existsSync(dir)) throw notFound(action, id);
    removeDir(dir);
  });
}
