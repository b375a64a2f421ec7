// Over 400 lines: the cert command group (issue, list, show, renew, rm, export) shares its flag parsing and printing; a file per subcommand would scatter them.
// CLI commands for "wss-studio cert ...".
import fs from 'node:fs';
import path from 'node:path';
import { inputError, q } from '../../shared/errors';
import { bool, intOpt, str } from './args';
import type { Command, Io } from './command';
import { writeFileAtomic, writeFilesAtomic } from '../store';
import type { LeafDto, RenewalNotes } from '../../shared/api';
import { daysLeft } from '../../shared/validity';
import {
  CERT_FORMATS,
  deleteLeaf,
  loadCa,
  readLeafKeyPem,
  scanLeaves,
  MAX_LEAF_DAYS,
  safeFileName,
  type CertFormat,
} from '../pki';
import { cliEngine } from './engine';
import { leafDto } from '../engine/dto';
import { checkOutFile, keyTypeOpt } from './ca';
import { storeFor } from './home';
import { untrustedStoresFor } from './trust-hooks';

/**
 * mkcert's file naming: first name, "+N" for the other names, "_wildcard" for "*". Any character that
 * is not [A-Za-z0-9._+-] becomes "_" (mkcert only replaces ":"), so a URI or email name can never
 * name a file outside --out-dir ("uri:x:/../../tmp/evil" gives "x__.._.._tmp_evil.pem").
 */
export function mkcertBaseName(names: string[], client: boolean): string {
  let base = safeFileName((names[0] as string).replace(/^\*/, '_wildcard'), 100);
  if (names.length > 1) base += `+${names.length - 1}`;
  if (client) base += '-client';
  return base;
}

function describe(l: LeafDto, io: Io, currentCa?: string) {
  const left = daysLeft(l.notAfter);
  io.out(`id:          ${l.id}`);
  io.out(`names:       ${l.names.join(', ')}`);
  io.out(
    `key:         ${l.keyType === 'rsa' ? 'RSA-2048' : 'ECDSA P-256'}${l.client ? ' (server + client auth)' : ''}`,
  );
  io.out(
    `valid:       ${l.notBefore.slice(0, 10)} to ${l.notAfter.slice(0, 10)} (${left.expired ? 'EXPIRED' : `${left.days} day${left.days === 1 ? '' : 's'} left`})`,
  );
  io.out(`fingerprint: SHA-256 ${l.fingerprint256}`);
  if (currentCa && currentCa !== l.caFingerprint256) {
    io.out(`warning:     issued by a previous CA; renew it with "wss-studio cert renew ${l.id}"`);
  }
  io.out(`certificate: ${l.certPath}`);
  io.out(`key file:    ${l.keyPath}`);
}

export const commands: Command[] = [
  {
    path: ['cert', 'issue'],
    args: 'NAME...',
    summary: 'issue a certificate for host names, wildcards and IP addresses',
    options: {
      key: {
        type: 'string',
        value: 'rsa|ecdsa',
        help: 'key type: ECDSA P-256 (default) or RSA-2048',
      },
      client: { type: 'boolean', help: 'also valid for client authentication (mTLS)' },
      days: {
        type: 'string',
        value: 'N',
        help: `validity in days, 1..${MAX_LEAF_DAYS} (default ${MAX_LEAF_DAYS})`,
      },
      'out-dir': {
        type: 'string',
        value: 'DIR',
        help: 'where to write NAME.pem and NAME-key.pem (default: current folder)',
      },
      json: { type: 'boolean', help: 'print the result as JSON' },
    },
    details:
      'Names: "localhost", "app.test", "*.app.test", "127.0.0.1", "::1", IDN ("café.test", stored as punycode),\n"user@app.test" (email), "uri:spiffe://app.test/x" (URI). The first name becomes the subject CN.',
    run: async (p, io) => {
      const action = 'issue certificate';
      const keyType = keyTypeOpt(str(p, 'key'), action);
      const days = intOpt(p, 'days', 1, MAX_LEAF_DAYS, 'wss-studio cert issue');
      const outDir = path.resolve(io.cwd, str(p, 'out-dir') ?? '.');
      if (!fs.existsSync(outDir) || !fs.statSync(outDir).isDirectory()) {
        throw inputError('OUT_DIR_MISSING', action, `folder ${q(outDir)} does not exist`, {
          field: '--out-dir',
          value: str(p, 'out-dir'),
          hint: `create it first ("mkdir -p ${outDir}") or choose another folder`,
        });
      }
      if (p.positionals.length === 0) {
        throw inputError('NO_NAMES', action, 'no names given', {
          field: 'NAME',
          hint: 'list the names to cover, e.g. "wss-studio cert issue localhost 127.0.0.1 ::1"',
        });
      }
      try {
        fs.accessSync(outDir, fs.constants.W_OK);
      } catch {
        throw inputError('OUT_DIR_READONLY', action, `folder ${q(outDir)} is not writable`, {
          field: '--out-dir',
          value: str(p, 'out-dir') ?? '.',
          hint: 'choose a folder you can write to',
        });
      }
      const store = storeFor(io);
      // Ask the trust stores (read-only probes, ~0.1 s; from the trust-state cache when nothing they read
      // changed) while the key is generated and signed. The same CA signs the leaf (issueLeaf refuses when
      // there is none).
      const ca = loadCa(store);
      const trustP = ca
        ? untrustedStoresFor(ca, io, store)
            .then((untrusted) => ({ untrusted }))
            .catch(() => ({ untrusted: [] as string[] }))
        : Promise.resolve({ untrusted: [] as string[] });
      const { leaf, warnings } = await cliEngine(io, store).handle('cert.issue', {
        names: p.positionals,
        ...(keyType ? { keyType } : {}),
        client: bool(p, 'client'),
        ...(days !== undefined ? { days } : {}),
      });
      const base = mkcertBaseName(leaf.names, leaf.client);
      const certOut = path.join(outDir, `${base}.pem`);
      const keyOut = path.join(outDir, `${base}-key.pem`);
      // The file names cannot leave outDir (mkcertBaseName); should writing still fail (disk full),
      // the certificate is taken back out of the store so nothing half-done is left behind.
      try {
        if (path.dirname(certOut) !== outDir || path.dirname(keyOut) !== outDir) {
          throw new Error(`output name ${q(base)} leaves ${q(outDir)}`); // unreachable by construction
        }
        await writeFilesAtomic([
          { file: certOut, data: leaf.certPem, mode: 0o644 },
          { file: keyOut, data: readLeafKeyPem(store, leaf.id), mode: 0o600 },
        ]);
      } catch (e) {
        fs.rmSync(certOut, { force: true });
        await deleteLeaf(store, leaf.id);
        throw e;
      }
      const trust = await trustP;
      // Every warning printed on stderr is also in --json's "warnings" (it used to miss the trust one).
      const allWarnings = trust.untrusted.length
        ? [
            ...warnings,
            `the CA is not trusted by ${trust.untrusted.join(', ')}; browsers there will reject this certificate until you run "wss-studio trust install"`,
          ]
        : warnings;
      for (const w of allWarnings) io.err(`warning: ${w}`);
      if (bool(p, 'json')) {
        // cert.issue's result ({ leaf, warnings }), plus the two files this command wrote.
        io.out(
          JSON.stringify(
            { leaf, warnings: allWarnings, files: { cert: certOut, key: keyOut } },
            null,
            2,
          ),
        );
        return 0;
      }
      io.out(`Issued a certificate for ${leaf.names.map((n) => q(n)).join(', ')}.`);
      describe(leaf, io);
      io.out(`wrote:       ${certOut}`);
      io.out(`             ${keyOut}`);
      return 0;
    },
  },
  {
    path: ['cert', 'list'],
    summary: 'list issued certificates',
    options: { json: { type: 'boolean', help: 'print as JSON' } },
    run: async (p, io) => {
      // One read of the certificate folders for both lists (the cert.list and cert.damaged handlers would
      // read them twice: 1.8x the CPU time of this command with 60 certificates); --json is cert.list's result,
      // made by the same conversion (leafDto).
      const store = storeFor(io);
      const ca = loadCa(store);
      const { leaves, damaged } = scanLeaves(store);
      // A damaged folder never hides the others: it is named (stderr in both modes) with its path.
      for (const d of damaged) {
        io.err(
          `warning: certificate ${q(d.id)} is damaged (${d.error}); folder ${q(d.path)}; remove it with "wss-studio cert delete ${d.id}"`,
        );
      }
      if (bool(p, 'json')) {
        io.out(JSON.stringify(leaves.map(leafDto), null, 2));
        return 0;
      }
      if (leaves.length === 0 && damaged.length === 0) {
        io.out(
          'no certificates yet: issue one with "wss-studio cert issue localhost 127.0.0.1 ::1"',
        );
        return 0;
      }
      const rows = leaves.map((l) => {
        const left = daysLeft(l.notAfter);
        const oldCa = ca && ca.fingerprint256 !== l.caFingerprint256;
        const state = left.expired ? 'EXPIRED' : oldCa ? 'old CA' : `${left.days}d`;
        return [l.id, l.keyType, state, l.names.join(' ')];
      });
      const all = [...rows, ...damaged.map((d) => [d.id, '-', 'DAMAGED', d.path])];
      const w = [0, 1, 2].map((i) =>
        Math.max(...all.map((r) => r[i]!.length), ['ID', 'KEY', 'EXPIRES'][i]!.length),
      );
      io.out(
        ['ID'.padEnd(w[0]!), 'KEY'.padEnd(w[1]!), 'EXPIRES'.padEnd(w[2]!), 'NAMES'].join('  '),
      );
      for (const d of damaged) rows.push([d.id, '-', 'DAMAGED', d.path]);
      for (const r of rows)
        io.out([r[0]!.padEnd(w[0]!), r[1]!.padEnd(w[1]!), r[2]!.padEnd(w[2]!), r[3]].join('  '));
      return 0;
    },
  },
  {
    path: ['cert', 'show'],
    args: 'ID',
    summary: 'show one certificate',
    options: { json: { type: 'boolean', help: 'print as JSON (includes the PEM)' } },
    run: async (p, io) => {
      const id = oneId(p.positionals, 'show certificate');
      const engine = cliEngine(io);
      const leaf = await engine.handle('cert.get', { id });
      if (bool(p, 'json')) {
        io.out(JSON.stringify(leaf, null, 2));
        return 0;
      }
      const ca = await engine.handle('ca.get', {});
      describe(leaf, io, ca?.fingerprint256);
      return 0;
    },
  },
  {
    path: ['cert', 'export'],
    args: 'ID',
    summary: 'write a certificate as PEM, key, full chain, DER or PKCS#12',
    options: {
      format: { type: 'string', value: CERT_FORMATS.join('|'), help: 'what to write' },
      out: { type: 'string', value: 'FILE', help: 'where to write it' },
      password: {
        type: 'string',
        value: 'PW',
        help: 'PKCS#12 password (default "changeit"; or set WSS_STUDIO_P12_PASSWORD)',
      },
      legacy: {
        type: 'boolean',
        help: 'PKCS#12 readable by Windows 7 and Java 8 (3DES, SHA-1 MAC)',
      },
    },
    run: async (p, io) => {
      const id = oneId(p.positionals, 'export certificate');
      const action = `export certificate ${q(id)}`;
      const format = str(p, 'format');
      if (!format || !CERT_FORMATS.includes(format as CertFormat)) {
        throw inputError(
          'INVALID_FORMAT',
          action,
          format ? `format ${q(format)} is not supported` : 'no format given',
          {
            field: '--format',
            ...(format ? { value: format } : {}),
            hint: `use "--format" with one of: ${CERT_FORMATS.join(', ')}`,
          },
        );
      }
      if (bool(p, 'legacy') && format !== 'p12') {
        throw inputError('INVALID_OPTION', action, '"--legacy" only applies to "--format p12"', {
          field: '--legacy',
        });
      }
      const out = checkOutFile(str(p, 'out'), action, io);
      const password = str(p, 'password') ?? io.env.WSS_STUDIO_P12_PASSWORD;
      // cert.export as the app runs it; `file` is recorded so a later renewal names this file as stale.
      const e = await cliEngine(io).handle('cert.export', {
        id,
        format: format as CertFormat,
        ...(password !== undefined ? { password } : {}),
        legacy: bool(p, 'legacy'),
        file: out,
      });
      writeFileAtomic(
        out,
        Buffer.from(e.dataBase64, 'base64'),
        format === 'key' || format === 'p12' ? 0o600 : 0o644,
      );
      io.out(`wrote ${out}`);
      if (e.password) io.out(`password: ${e.password} (the default; choose one with --password)`);
      io.out('use it:');
      for (const u of e.usage) io.out(`  ${u.split(e.suggestedName).join(out)}`);
      return 0;
    },
  },
  {
    path: ['cert', 'renew'],
    args: 'ID',
    summary: 'renew a certificate: same names, new key and dates',
    options: { json: { type: 'boolean', help: 'print as JSON' } },
    run: async (p, io) => {
      const id = oneId(p.positionals, 'renew certificate');
      const { renewal, ...leaf } = await cliEngine(io).handle('cert.renew', { id });
      if (bool(p, 'json')) {
        io.out(JSON.stringify({ ...leaf, renewal }, null, 2));
        return 0;
      }
      io.out(`Renewed ${q(id)}.`);
      describe(leaf, io);
      printRenewal(leaf.id, renewal, io);
      return 0;
    },
  },
  {
    path: ['cert', 'delete'],
    args: 'ID',
    summary: 'delete a certificate and its key',
    options: {},
    run: async (p, io) => {
      const id = oneId(p.positionals, 'delete certificate');
      await cliEngine(io).handle('cert.delete', { id });
      io.out(`Deleted ${q(id)}.`);
      return 0;
    },
  },
];

function oneId(pos: string[], action: string): string {
  if (pos.length !== 1) {
    throw inputError(
      'USAGE',
      action,
      pos.length === 0 ? 'no certificate id given' : 'more than one id given',
      {
        field: 'ID',
        hint: 'pass one id from "wss-studio cert list"',
      },
    );
  }
  return pos[0] as string;
}

function printRenewal(id: string, r: RenewalNotes, io: Io): void {
  if (r.servers.length) {
    io.out(
      `Servers using it: ${r.servers.map((s) => `${q(s.id)}${s.running ? ' (on)' : ''}`).join(', ')}.`,
    );
  }
  io.out(
    `A running server keeps serving the old certificate until it restarts: restart it on the app's Servers screen, or stop "wss-studio serve --cert ${id}" and run it again.`,
  );
  if (r.staleExports.length) {
    io.out('Files exported before this renewal are now stale; export them again:');
    for (const e of r.staleExports) {
      io.out(
        `  ${e.file} (${e.format}, exported ${e.at}): wss-studio cert export ${id} --format ${e.format} --out ${e.file}`,
      );
    }
  }
}
