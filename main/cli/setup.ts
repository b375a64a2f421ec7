// CLI command "wss-studio setup": the Overview's "Make localhost trusted" button in a terminal. Both run the
// engine task setup.localhost (main/engine/handlers-setup.ts): CA if missing, trust in this platform's
// stores, a localhost certificate (reused while valid). The terminal's server is `wss-studio serve`, so
// the task is run without its server step. Exit codes: 0 done (trust may only warn), 1 a step failed,
// 2 bad input.
import { bool, list, str } from './args';
import type { Command, Io } from './command';
import type { SetupStep, TaskProgress } from '../../shared/api';
import { keyTypeOpt } from './ca';
import { cliEngine } from './engine';
import { storeFor } from './home';
import { Dispatcher } from '../engine/dispatch';
import { requestThrough } from '../engine/request';

const LABELS: Record<SetupStep['id'], string> = {
  ca: 'CA',
  trust: 'trust',
  cert: 'certificate',
  server: 'server',
};

/** One line per step change, as the task reports it. */
function progressPrinter(io: Io): (u: TaskProgress) => void {
  const shown = new Map<string, string>();
  return (u) => {
    if (u.task === 'ca.create' && u.state === 'running' && u.step !== 'started') {
      io.err(`  … ${u.step}`);
      return;
    }
    for (const s of u.setup ?? []) {
      const line = `${LABELS[s.id].padEnd(12)} ${s.state}${s.detail ? `: ${s.detail}` : ''}`;
      if (s.state === 'pending' || shown.get(s.id) === line) continue;
      shown.set(s.id, line);
      io.err(line);
    }
  };
}

export const commands: Command[] = [
  {
    path: ['setup'],
    summary: 'make localhost trusted: CA, trust stores, a certificate for localhost 127.0.0.1 ::1',
    options: {
      stores: {
        type: 'list',
        value: 'LIST',
        help: "comma-separated trust stores to install into (default: this platform's OS store, nss, java)",
      },
      key: {
        type: 'string',
        value: 'rsa|ecdsa',
        help: 'key of a new CA: ECDSA P-256 (default) or RSA-3072 (an existing CA is kept)',
      },
      unconstrained: {
        type: 'boolean',
        help: 'a new CA without name constraints (warned; an existing CA is kept)',
      },
      json: { type: 'boolean', help: 'print the result as JSON (progress still goes to stderr)' },
    },
    details: [
      'The same task as the app\'s "Make localhost trusted". Safe to re-run: it reuses the CA and a',
      'localhost certificate with a day or more left. Progress goes to stderr, one line per step.',
      'Then serve it: wss-studio serve --wss 8443 --cert ID (printed at the end).',
    ].join('\n'),
    run: async (p, io) => {
      const keyType = keyTypeOpt(str(p, 'key'), 'set up localhost');
      const rawStores = list(p, 'stores');
      const stores = rawStores.length
        ? (await import('../trust')).parseStoreList(rawStores)
        : undefined;
      // The task's steps are requests run as this shell would: validated by the contract's schemas.
      const ref: { dispatcher?: Dispatcher } = {};
      const engine = cliEngine(io, storeFor(io), {
        request: (name, input, ctx) => requestThrough(ref.dispatcher!, name, input, ctx),
      });
      ref.dispatcher = new Dispatcher(engine.lookup);
      engine.onProgress(progressPrinter(io));
      const r = await engine.handle('setup.localhost', {
        ...(stores ? { stores } : {}),
        ...(keyType ? { keyType } : {}),
        ...(bool(p, 'unconstrained') ? { constrained: false } : {}),
        server: false,
      });
      if (bool(p, 'json')) {
        io.out(JSON.stringify(r, null, 2));
        return 0;
      }
      for (const s of r.sudo) io.out(`needs root: ${s.sudo}`);
      io.out(`CA:          ${r.ca.commonName} (SHA-256 ${r.ca.fingerprint256})`);
      io.out(`certificate: ${r.leaf.id} for ${r.leaf.names.join(', ')}`);
      io.out(`             ${r.leaf.certPath}`);
      io.out(`             ${r.leaf.keyPath}`);
      io.out(`next: wss-studio serve --wss 8443 --cert ${r.leaf.id}`);
      io.out(
        `      or for your own server: wss-studio cert export ${r.leaf.id} --format fullchain --out localhost.pem`,
      );
      return 0;
    },
  },
];
