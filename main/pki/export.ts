// Export formats and the ready-to-paste commands that go with each.
import crypto, { X509Certificate } from 'node:crypto';
import { inputError, q } from '../../shared/errors';
import type { Store } from '../store';
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

/** Commands that make a client trust the CA in `caFile`, for a server on host:port. */
export function caUsage(caFile: string, host = 'localhost', port = 8443): string[] {
  const f = sh(caFile);
  return [
    `wscat -c wss://${host}:${port} --ca ${f}`,
    `curl --cacert ${f} https://${host}:${port}/`,
    `NODE_EXTRA_CA_CERTS=${f} node app.js`,
    `openssl s_client -connect ${host}:${port} -servername ${host} -CAfile ${f}`,
  ];
}

export function leafUsage(
  format: CertFormat,
  file: string,
  keyFile: string,
  caFile: string,
  host: string,
): string[] {
  const f = sh(file);
  const k = sh(keyFile);
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
    p12: [
      `openssl pkcs12 -in ${f} -info -noout -passin pass:PASSWORD`,
      `node -e "require('tls').createSecureContext({pfx: require('fs').readFileSync('${file}'), passphrase: 'PASSWORD'})"`,
      `keytool -list -keystore ${f} -storetype PKCS12 -storepass PASSWORD`,
    ],
  };
  return [...server[format], ...caUsage(caFile, host)];
}

export function exportLeaf(
  store: Store,
  id: string,
  format: CertFormat,
  opts: { password?: string; legacy?: boolean } = {},
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
  const usage = (name: string) => leafUsage(format, name, `${base}-key.pem`, caFile, host);
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
        usage: usage(`${base}.p12`).map((u) => u.replace(/PASSWORD/g, password)),
        ...(opts.password === undefined ? { password } : {}),
      };
    }
  }
}

export function exportCa(store: Store, format: CaFormat): Exported {
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
    usage: caUsage(name),
  };
}
