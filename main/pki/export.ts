// Export formats and the ready-to-paste commands that go with each.
import crypto, { X509Certificate } from 'node:crypto';
import path from 'node:path';
import { inputError, q } from '../../shared/errors';
import { readJsonFile, type Store } from '../store';
import { caPaths, requireCa } from './ca';
import { getLeaf, readLeafKeyPem } from './leaf';
import { buildPkcs12 } from './pkcs12';

export type CertFormat = 'pem' | 'key' | 'fullchain' | 'der' | 'p12';
export const CERT_FORMATS: CertFormat[] = ['pem', 'key', 'fullchain', 'der', 'p12'];
export type CaFormat = 'pem' | 'der';

export interface Exported {
  data: Buffer;
  suggestedName: string;
  /** Ready-to-paste commands; PATH stands for where the file is written. */
  usage: string[];
  /** Set when a default password was used for PKCS#12. */
  password?: string;
}

/** mkcert's PKCS#12 default password, which Java and Windows tools also expect by default. */
export const DEFAULT_P12_PASSWORD = 'changeit';

const sh = (s: string): string =>
  /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;

/** Where the "use it" commands point: a running server's host and port when there is one. */
export interface UsageTarget {
  host: string;
  port: number;
}

/** The environment variable the PKCS#12 commands read the password from (the CLI reads it too). */
export const P12_PASSWORD_ENV = 'WSS_STUDIO_P12_PASSWORD';

/** Commands that make a client trust the CA in `caFile`, for a server on host:port. */
export function caUsage(
  caFile: string,
  target: UsageTarget = { host: 'localhost', port: 8443 },
): string[] {
  const f = sh(caFile);
  const { port } = target;
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  const sni =
    target.host.includes(':') || /^[\d.]+$/.test(target.host) ? '' : ` -servername ${target.host}`;
  return [
    `wscat -c wss://${host}:${port} --ca ${f}`,
    `curl --cacert ${f} https://${host}:${port}/`,
    `NODE_EXTRA_CA_CERTS=${f} node app.js`,
    `openssl s_client -connect ${host}:${port}${sni} -CAfile ${f}`,
  ];
}

export function leafUsage(
  format: CertFormat,
  file: string,
  keyFile: string,
  caFile: string,
  target: UsageTarget,
): string[] {
  const f = sh(file);
  const k = sh(keyFile);
  const env = P12_PASSWORD_ENV;
  const server: Record<CertFormat, string[]> = {
    pem: [
      `node -e "require('https').createServer({cert: require('fs').readFileSync('${file}'), key: require('fs').readFileSync('${keyFile}')}, (q, s) => s.end('ok')).listen(8443)"`,
      `openssl s_server -accept 8443 -cert ${f} -key ${k} -www`,
    ],
    fullchain: [
      `nginx: ssl_certificate ${f}; ssl_certificate_key ${k};`,
      `openssl s_server -accept 8443 -cert ${f} -key ${k} -www`,
    ],
    key: [`openssl pkey -in ${f} -noout -text   # inspect the private key (keep it secret)`],
    der: [`openssl x509 -inform DER -in ${f} -noout -text`],
    // The password never appears in a command (shell history, screenshots): it is read from $${env}.
    p12: [
      `read -rs ${env} && export ${env}   # type the PKCS#12 password`,
      `openssl pkcs12 -in ${f} -info -noout -passin env:${env}`,
      `node -e "require('tls').createSecureContext({pfx: require('fs').readFileSync('${file}'), passphrase: process.env.${env}})"`,
      `keytool -list -keystore ${f} -storetype PKCS12 -storepass:env ${env}`,
    ],
  };
  return [...server[format], ...caUsage(caFile, target)];
}

interface ExportRecord {
  format: CertFormat;
  /** Where it was written (CLI), or the suggested file name (UI downloads). */
  file: string;
  at: string;
  /** Fingerprint of the certificate exported: a renewal makes the record stale. */
  fingerprint256: string;
}

export interface StaleExport {
  format: CertFormat;
  file: string;
  at: string;
}

const MAX_EXPORT_RECORDS = 50;
const exportsFile = (store: Store, id: string) => path.join(store.certDir(id), 'exports.json');

function readExports(store: Store, id: string): ExportRecord[] {
  let raw: unknown;
  try {
    raw = readJsonFile<unknown>(exportsFile(store, id));
  } catch {
    return []; // A damaged record of exports must never block an export or a renewal.
  }
  const list = (raw as { exports?: unknown })?.exports;
  if (!Array.isArray(list)) return [];
  return list.filter(
    (r): r is ExportRecord =>
      typeof r === 'object' &&
      r !== null &&
      CERT_FORMATS.includes((r as ExportRecord).format) &&
      typeof (r as ExportRecord).file === 'string' &&
      typeof (r as ExportRecord).at === 'string' &&
      typeof (r as ExportRecord).fingerprint256 === 'string',
  );
}

function recordExport(store: Store, id: string, rec: ExportRecord): void {
  // Same file written again replaces its record; the newest MAX_EXPORT_RECORDS are kept.
  const list = [...readExports(store, id).filter((r) => r.file !== rec.file), rec].slice(
    -MAX_EXPORT_RECORDS,
  );
  try {
    store.writeFileAtomic(
      exportsFile(store, id),
      JSON.stringify({ schema: 1, exports: list }, null, 2) + '\n',
      0o600,
    );
  } catch {
    // Best effort: failing to remember an export must not fail the export itself.
  }
}

/** Files exported from an earlier version of this certificate (before its last renewal). */
export function staleExports(store: Store, id: string): StaleExport[] {
  const current = getLeaf(store, id).fingerprint256;
  return readExports(store, id)
    .filter((r) => r.fingerprint256 !== current && r.format !== 'key')
    .map(({ format, file, at }) => ({ format, file, at }));
}

export function exportLeaf(
  store: Store,
  id: string,
  format: CertFormat,
  opts: {
    password?: string;
    legacy?: boolean;
    /** Where the export will be written (recorded so a renewal can say which files are stale). */
    file?: string;
    /** A running server using this certificate: the commands then point at it. */
    target?: UsageTarget;
  } = {},
): Exported {
  const e = buildLeafExport(store, id, format, opts);
  recordExport(store, id, {
    format,
    file: opts.file ?? e.suggestedName,
    at: new Date().toISOString(),
    fingerprint256: getLeaf(store, id).fingerprint256,
  });
  return e;
}

function buildLeafExport(
  store: Store,
  id: string,
  format: CertFormat,
  opts: { password?: string; legacy?: boolean; target?: UsageTarget },
): Exported {
  const action = `export certificate ${q(id)}`;
  if (!CERT_FORMATS.includes(format)) {
    throw inputError('INVALID_FORMAT', action, `format ${q(format)} is not supported`, {
      field: 'format',
      value: format,
      hint: `use one of: ${CERT_FORMATS.join(', ')}`,
    });
  }
  if (opts.password !== undefined && format !== 'p12') {
    throw inputError('INVALID_OPTION', action, 'a password only applies to "p12" exports', {
      field: 'password',
      hint: 'drop "--password", or use "--format p12"',
    });
  }
  const leaf = getLeaf(store, id);
  const ca = requireCa(store, action);
  const base = leaf.id;
  const host =
    leaf.names.find((n) => !n.startsWith('*.') && !n.includes('@') && !n.includes(':')) ??
    'localhost';
  const caFile = caPaths(store).cert;
  const target = opts.target ?? { host, port: 8443 };
  const usage = (name: string) => leafUsage(format, name, `${base}-key.pem`, caFile, target);
  switch (format) {
    case 'pem':
      return {
        data: Buffer.from(leaf.certPem),
        suggestedName: `${base}.pem`,
        usage: usage(`${base}.pem`),
      };
    case 'key':
      return {
        data: Buffer.from(readLeafKeyPem(store, id)),
        suggestedName: `${base}-key.pem`,
        usage: usage(`${base}-key.pem`),
      };
    case 'fullchain':
      return {
        data: Buffer.from(leaf.certPem + ca.certPem),
        suggestedName: `${base}-fullchain.pem`,
        usage: usage(`${base}-fullchain.pem`),
      };
    case 'der':
      return {
        data: new X509Certificate(leaf.certPem).raw,
        suggestedName: `${base}.crt`,
        usage: usage(`${base}.crt`),
      };
    case 'p12': {
      const password = opts.password ?? DEFAULT_P12_PASSWORD;
      const key = crypto.createPrivateKey(readLeafKeyPem(store, id));
      const data = buildPkcs12({
        keyPkcs8Der: key.export({ type: 'pkcs8', format: 'der' }),
        certDer: new X509Certificate(leaf.certPem).raw,
        caCertDers: [ca.certDer],
        password,
        friendlyName: leaf.names[0] ?? leaf.id,
        legacy: !!opts.legacy,
      });
      return {
        data,
        suggestedName: `${base}.p12`,
        usage: usage(`${base}.p12`),
        ...(opts.password === undefined ? { password } : {}),
      };
    }
  }
}

export function exportCa(store: Store, format: CaFormat, target?: UsageTarget): Exported {
  const action = 'export CA';
  if (format !== 'pem' && format !== 'der') {
    throw inputError('INVALID_FORMAT', action, `format ${q(format)} is not supported for the CA`, {
      field: 'format',
      value: format,
      hint: 'use "pem" or "der"',
    });
  }
  const ca = requireCa(store, action);
  const name = format === 'pem' ? 'wss-studio-ca.pem' : 'wss-studio-ca.cer';
  return {
    data: format === 'pem' ? Buffer.from(ca.certPem) : ca.certDer,
    suggestedName: name,
    usage: caUsage(name, target),
  };
}
