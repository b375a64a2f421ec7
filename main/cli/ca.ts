// CLI commands for "wss-studio ca ...".
import fs from 'node:fs';
import path from 'node:path';
import { inputError, q } from '../../shared/errors';
import { bool, list, str } from './args';
import type { Command, Io } from './command';
import { writeFileAtomic } from '../store';
import { storeFor } from './home';
import { defaultMkcertCaroot, loadCa, requireCa, DEFAULT_PERMITTED, type KeyType } from '../pki';
import type { CaDto } from '../../shared/api';
import { trustLinesFor } from './trust-hooks';
import { trustedCaHistory } from '../trust/history';
import type { Store } from '../store';
import { cliEngine } from './engine';

type CaFacts = Pick<CaDto, 'commonName' | 'fingerprint256'>;

/** The CA a --force replaces, for the note after it; a damaged one is replaced without a note. */
function currentCa(store: Store): CaFacts | null {
  try {
    return loadCa(store);
  } catch {
    return null;
  }
}

/** After a replacement: name the command that removes the old CA from every trust store. */
function adviseRemoval(store: Store, previous: CaFacts | null, now: CaFacts, io: Io): void {
  if (!previous || previous.fingerprint256 === now.fingerprint256) return;
  const recorded = trustedCaHistory(store).cas.some(
    (c) => c.fingerprint256 === previous.fingerprint256,
  );
  if (!recorded) return;
  io.err(
    `note: the replaced CA ${q(previous.commonName)} (SHA-256 ${previous.fingerprint256}) stays trusted wherever it was installed; its key is gone, but remove it with: wss-studio trust uninstall --all-ours`,
  );
}

export function keyTypeOpt(raw: string | undefined, action: string): KeyType | undefined {
  if (raw === undefined) return undefined;
  if (raw === 'rsa' || raw === 'ecdsa') return raw;
  throw inputError('INVALID_KEY_TYPE', action, `key type ${q(raw)} is not supported`, {
    field: '--key',
    value: raw,
    hint: 'use "--key rsa" or "--key ecdsa"',
  });
}

function printCa(ca: CaDto, io: Io) {
  io.out(`CA:          ${ca.commonName}`);
  io.out(`fingerprint: SHA-256 ${ca.fingerprint256}`);
  io.out(`key:         ${ca.keyType === 'rsa' ? 'RSA' : 'ECDSA P-256'}`);
  io.out(`valid:       ${ca.notBefore.slice(0, 10)} to ${ca.notAfter.slice(0, 10)}`);
  io.out(
    `constraints: ${ca.constrained ? ca.permitted.join(', ') : 'NONE (this CA can sign for any name)'}`,
  );
  io.out(
    `source:      ${ca.source === 'mkcert' ? 'imported from mkcert' : 'created by WSS Studio'}`,
  );
  io.out(`certificate: ${ca.certPath}`);
}

/** Refuse an output path whose folder does not exist, before anything is written. */
export function checkOutFile(file: string | undefined, action: string, io: Io): string {
  if (!file) {
    throw inputError('USAGE', action, 'no output file given', {
      field: '--out',
      hint: 'add "--out FILE"',
    });
  }
  const abs = path.resolve(io.cwd, file);
  const dir = path.dirname(abs);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw inputError('OUT_DIR_MISSING', action, `folder ${q(dir)} does not exist`, {
      field: '--out',
      value: file,
      hint: `create it first ("mkdir -p ${dir}") or choose another path`,
    });
  }
  if (fs.existsSync(abs) && fs.statSync(abs).isDirectory()) {
    throw inputError('OUT_IS_DIR', action, `${q(abs)} is a folder`, {
      field: '--out',
      value: file,
      hint: `give a file name, e.g. ${q(path.join(file, 'ca.pem'))}`,
    });
  }
  return abs;
}

export const commands: Command[] = [
  {
    path: ['ca', 'init'],
    summary: 'create the local CA (name-constrained to local names by default)',
    options: {
      key: {
        type: 'string',
        value: 'rsa|ecdsa',
        help: 'CA key: ECDSA P-256 (default) or RSA-3072',
      },
      unconstrained: {
        type: 'boolean',
        help: 'no name constraints: the CA can sign for ANY name (warned)',
      },
      permit: {
        type: 'list',
        value: 'NAME_OR_CIDR',
        help: 'permitted name or range, repeatable (replaces the defaults)',
      },
      force: {
        type: 'boolean',
        help: 'replace an existing CA (its key is destroyed; see "trust uninstall --all-ours")',
      },
      json: { type: 'boolean', help: 'print the CA as JSON' },
    },
    details: `Default permitted names: ${DEFAULT_PERMITTED.join(', ')}.\nBrowsers and OpenSSL enforce them, so a leaked CA key cannot impersonate real sites.`,
    run: async (p, io) => {
      const action = 'create CA';
      const keyType = keyTypeOpt(str(p, 'key'), action);
      const unconstrained = bool(p, 'unconstrained');
      const store = storeFor(io);
      const json = bool(p, 'json');
      const previous = bool(p, 'force') ? currentCa(store) : null;
      const engine = cliEngine(io, store);
      engine.onProgress((u) => {
        if (!json && u.state === 'running' && u.step !== 'started') io.err(`… ${u.step}`);
      });
      const ca = await engine.handle('ca.create', {
        ...(keyType ? { keyType } : {}),
        constrained: !unconstrained,
        permitted: list(p, 'permit'),
        force: bool(p, 'force'),
      });
      if (unconstrained) {
        io.err(
          'warning: this CA is NOT name-constrained: anyone who obtains its key can impersonate any website to every browser that trusts it. Keep ca-key.pem secret, or re-create it without "--unconstrained".',
        );
      }
      adviseRemoval(store, previous, ca, io);
      if (json) {
        io.out(JSON.stringify(ca, null, 2));
        return 0;
      }
      io.out('Created a new local CA.');
      printCa(ca, io);
      io.out('');
      io.out(
        'next: trust it with "wss-studio trust install", then "wss-studio cert issue localhost 127.0.0.1 ::1"',
      );
      return 0;
    },
  },
  {
    path: ['ca', 'show'],
    summary: 'show the CA and its status in each trust store',
    options: { json: { type: 'boolean', help: 'print as JSON' } },
    run: async (p, io) => {
      const store = storeFor(io);
      const info = requireCa(store, 'show CA');
      const [ca, trust] = await Promise.all([
        cliEngine(io, store).handle('ca.get', {}),
        trustLinesFor(info, io),
      ]);
      if (!ca) throw new Error('the CA disappeared while it was read'); // requireCa found it just now
      if (bool(p, 'json')) {
        // ca.get's result, plus each store's trust status (what "trust status --json" measures).
        io.out(JSON.stringify({ ...ca, trust: trust.json }, null, 2));
        return 0;
      }
      printCa(ca, io);
      if (trust.lines.length) {
        io.out('trust:');
        for (const l of trust.lines) io.out(`  ${l}`);
      }
      return 0;
    },
  },
  {
    path: ['ca', 'export'],
    summary: 'write the CA certificate (PEM or DER) for clients to trust',
    options: {
      format: { type: 'string', value: 'pem|der', help: 'file format (default pem)' },
      out: { type: 'string', value: 'FILE', help: 'where to write it' },
    },
    run: async (p, io) => {
      const action = 'export CA';
      const format = str(p, 'format') ?? 'pem';
      if (format !== 'pem' && format !== 'der') {
        throw inputError(
          'INVALID_FORMAT',
          action,
          `format ${q(format)} is not supported for the CA`,
          {
            field: '--format',
            value: format,
            hint: 'use "--format pem" or "--format der"',
          },
        );
      }
      const out = checkOutFile(str(p, 'out'), action, io);
      const e = await cliEngine(io).handle('ca.export', { format });
      writeFileAtomic(out, Buffer.from(e.dataBase64, 'base64'), 0o644);
      io.out(`wrote ${out}`);
      io.out('use it:');
      for (const u of e.usage) io.out(`  ${u.split(e.suggestedName).join(out)}`);
      return 0;
    },
  },
  {
    path: ['ca', 'import-mkcert'],
    args: '[CAROOT_DIR]',
    summary:
      "import mkcert's CA (rootCA.pem + rootCA-key.pem) to keep the trust you already set up",
    options: {
      force: {
        type: 'boolean',
        help: 'replace an existing CA (its key is destroyed; see "trust uninstall --all-ours")',
      },
      json: { type: 'boolean', help: 'print the CA as JSON' },
    },
    run: async (p, io) => {
      if (p.positionals.length > 1) {
        throw inputError('USAGE', 'import mkcert CA', 'more than one folder given', {
          hint: 'pass one CAROOT folder (see "mkcert -CAROOT")',
        });
      }
      const dir = p.positionals[0]
        ? path.resolve(io.cwd, p.positionals[0])
        : defaultMkcertCaroot(io.env);
      const store = storeFor(io);
      const previous = bool(p, 'force') ? currentCa(store) : null;
      const ca = await cliEngine(io, store).handle('ca.importMkcert', {
        caroot: dir,
        force: bool(p, 'force'),
      });
      adviseRemoval(store, previous, ca, io);
      if (bool(p, 'json')) {
        io.out(JSON.stringify(ca, null, 2));
        return 0;
      }
      io.out('Imported the mkcert CA.');
      printCa(ca, io);
      if (!ca.constrained) {
        io.err(
          'warning: mkcert CAs are not name-constrained; new certificates are checked only for well-formed names.',
        );
      }
      return 0;
    },
  },
];
