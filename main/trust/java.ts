// Java: the JDK's `cacerts` keystore, changed with `keytool` (from JAVA_HOME, else PATH) and the default
// password. A missing or broken Java must never block anything else (a known mkcert failure: issuance
// aborted because keytool failed), so every path here returns a state instead of throwing.
// Status lists the keystore as PEM (-rfc) and matches our DER exactly, so aliases and locale do not matter.
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { javaInstallHint } from './distro';
import type { StoreChange, StoreStatus, TrustCa, TrustContext, TrustStore } from './types';
import {
  canWrite,
  findOnPath,
  firstLine,
  isExecutable,
  isFile,
  pemBodies,
  serialTag,
  shLine,
} from './util';

export interface JavaSetup {
  keytool: string | null;
  javaHome: string | null;
  cacerts: string | null;
}

export function findJava(ctx: TrustContext): JavaSetup {
  const exe = ctx.platform === 'win32' ? 'keytool.exe' : 'keytool';
  let keytool: string | null = null;
  let javaHome: string | null = ctx.env.JAVA_HOME || null;
  if (javaHome && isExecutable(path.join(javaHome, 'bin', exe))) {
    keytool = path.join(javaHome, 'bin', exe);
  } else {
    keytool = findOnPath('keytool', ctx);
    if (keytool && !javaHome) {
      // /usr/bin/keytool -> /usr/lib/jvm/java-17-openjdk-amd64/bin/keytool: JAVA_HOME is two levels up.
      try {
        javaHome = path.dirname(path.dirname(realpathSync(keytool)));
      } catch {
        javaHome = null;
      }
    }
  }
  let cacerts: string | null = ctx.javaCacerts ?? null;
  if (!cacerts && javaHome) {
    cacerts =
      [
        path.join(javaHome, 'lib', 'security', 'cacerts'),
        path.join(javaHome, 'jre', 'lib', 'security', 'cacerts'), // Java 8 layout
      ].find((p) => isFile(p)) ?? null;
  }
  return { keytool, javaHome, cacerts };
}

/** The keytool alias we use: the serial makes it unique per CA. */
export function javaAlias(ca: TrustCa): string {
  return `wss-studio-ca-${serialTag(ca)}`;
}

/** Entries of `keytool -list -rfc`: alias and the base64 DER of its certificate. */
export function parseKeytoolRfc(text: string): { alias: string; der64: string }[] {
  const out: { alias: string; der64: string }[] = [];
  const chunks = text.split(/^Alias name: /m).slice(1);
  for (const c of chunks) {
    const nl = c.indexOf('\n');
    const alias = (nl === -1 ? c : c.slice(0, nl)).replace(/\r$/, '');
    const first = pemBodies(c)[0];
    if (first) out.push({ alias, der64: first });
  }
  return out;
}

/**
 * Entries of a JKS keystore read straight from the file (format: magic FEEDFEED, version, count, then
 * per entry tag/alias/timestamp and the certificate DER). Debian and older JDKs ship cacerts as JKS.
 * Reading it takes milliseconds where `keytool -list` starts a JVM (about a second), and status runs on
 * every `ca show`. Returns null for anything else (PKCS12), which then goes through keytool.
 */
export function readJksEntries(buf: Buffer): { alias: string; der64: string }[] | null {
  try {
    if (buf.length < 12 || buf.readUInt32BE(0) !== 0xfeedfeed) return null;
    const version = buf.readUInt32BE(4);
    if (version !== 1 && version !== 2) return null;
    let off = 12;
    const utf = () => {
      const n = buf.readUInt16BE(off);
      const v = buf.toString('utf8', off + 2, off + 2 + n);
      off += 2 + n;
      return v;
    };
    const cert = () => {
      if (version === 2) utf(); // certificate type, "X.509"
      const n = buf.readUInt32BE(off);
      const der = buf.subarray(off + 4, off + 4 + n);
      if (der.length !== n) throw new Error('truncated');
      off += 4 + n;
      return der;
    };
    const out: { alias: string; der64: string }[] = [];
    const count = buf.readUInt32BE(8);
    for (let i = 0; i < count; i++) {
      const tag = buf.readUInt32BE(off);
      off += 4;
      const alias = utf();
      off += 8; // creation date
      if (tag === 2) {
        out.push({ alias, der64: cert().toString('base64') });
      } else if (tag === 1) {
        off += 4 + buf.readUInt32BE(off); // protected private key
        const chain = buf.readUInt32BE(off);
        off += 4;
        for (let c = 0; c < chain; c++) cert();
      } else {
        return null;
      }
    }
    return out;
  } catch {
    return null;
  }
}

/** Force English output so parsing does not depend on the user's locale. */
const J_LOCALE = ['-J-Duser.language=en', '-J-Duser.country=US'];

function storeArgs(cacerts: string, ctx: TrustContext): string[] {
  return ['-keystore', cacerts, '-storepass', ctx.javaStorePassword];
}

export function keytoolInstallArgs(ca: TrustCa, cacerts: string, ctx: TrustContext): string[] {
  return ['-importcert', '-noprompt', '-alias', javaAlias(ca), ...storeArgs(cacerts, ctx)];
}

interface Listing {
  status?: StoreStatus;
  setup: JavaSetup;
  ours: string[];
  total: number;
}

const LABEL = 'Java (cacerts)';

async function list(ca: TrustCa, ctx: TrustContext): Promise<Listing> {
  const setup = findJava(ctx);
  const base = { store: 'java' as const, label: LABEL };
  if (!setup.keytool) {
    const state = ctx.env.JAVA_HOME ? 'tool-missing' : 'not-present';
    return {
      setup,
      ours: [],
      total: 0,
      status: {
        ...base,
        state,
        detail: ctx.env.JAVA_HOME
          ? `"keytool" not found in JAVA_HOME ${ctx.env.JAVA_HOME} nor on PATH`
          : 'no Java found (no JAVA_HOME, no keytool on PATH)',
        ...(state === 'tool-missing' ? { fix: javaInstallHint(ctx.platform, ctx.root) } : {}),
      },
    };
  }
  if (!setup.cacerts) {
    return {
      setup,
      ours: [],
      total: 0,
      status: {
        ...base,
        state: 'not-present',
        detail: `no cacerts keystore under ${setup.javaHome ?? 'the Java home'}`,
      },
    };
  }
  const der64 = ca.certDer.toString('base64');
  let fast: { alias: string; der64: string }[] | null = null;
  try {
    fast = readJksEntries(readFileSync(setup.cacerts));
  } catch {
    fast = null; // unreadable here: keytool will say why
  }
  if (fast) {
    const ours = fast.filter((e) => e.der64 === der64).map((e) => e.alias);
    return { setup, ours, total: fast.length };
  }
  const r = await ctx.run(
    setup.keytool,
    [...J_LOCALE, '-list', '-rfc', ...storeArgs(setup.cacerts, ctx)],
    {
      timeoutMs: 60_000,
    },
  );
  if (r.code !== 0) {
    return {
      setup,
      ours: [],
      total: 0,
      status: {
        ...base,
        state: 'error',
        detail: `"${setup.keytool} -list" failed on ${setup.cacerts}: ${
          firstLine(r.stdout, r.stderr) || r.spawnError || `exit ${r.code}`
        }`,
        fix: 'check JAVA_HOME and the keystore password (WSS_STUDIO_JAVA_STOREPASS, default "changeit")',
        targets: [{ label: 'cacerts', path: setup.cacerts, state: 'error' }],
      },
    };
  }
  const entries = parseKeytoolRfc(r.stdout);
  return {
    setup,
    ours: entries.filter((e) => e.der64 === der64).map((e) => e.alias),
    total: entries.length,
  };
}

function statusOf(ca: TrustCa, ctx: TrustContext, l: Listing): StoreStatus {
  if (l.status) return l.status;
  const cacerts = l.setup.cacerts as string;
  const trusted = l.ours.length > 0;
  return {
    store: 'java',
    label: LABEL,
    state: trusted ? 'trusted' : 'not-trusted',
    detail: trusted
      ? `in ${cacerts} as ${l.ours.map((a) => `"${a}"`).join(', ')}`
      : `not in ${cacerts} (${l.total} entries)`,
    ...(trusted ? {} : { fix: installFix(ca, ctx, l.setup) }),
    targets: [{ label: 'cacerts', path: cacerts, state: trusted ? 'trusted' : 'not-trusted' }],
  };
}

function installFix(ca: TrustCa, ctx: TrustContext, s: JavaSetup): string {
  if (s.cacerts && !canWrite(s.cacerts) && ctx.platform !== 'win32') {
    return `sudo ${shLine([s.keytool as string, ...keytoolInstallArgs(ca, s.cacerts, ctx), '-file', ca.certPath])}`;
  }
  return `${ctx.cliName} trust install --stores java`;
}

export const javaStore: TrustStore = {
  id: 'java',
  label: LABEL,

  async detect(ctx) {
    const s = findJava(ctx);
    return s.keytool !== null || Boolean(ctx.env.JAVA_HOME);
  },

  async status(ca, ctx) {
    return statusOf(ca, ctx, await list(ca, ctx));
  },

  async install(ca, ctx) {
    const l = await list(ca, ctx);
    const before = statusOf(ca, ctx, l);
    if (before.state !== 'not-trusted') return { ...before, changed: false };
    const { keytool, cacerts } = l.setup as { keytool: string; cacerts: string };
    if (!canWrite(cacerts)) {
      return {
        ...before,
        state: 'needs-permission',
        detail: `${cacerts} is writable only by root`,
        fix: installFix(ca, ctx, l.setup),
        changed: false,
      };
    }
    const r = await ctx.run(keytool, [...J_LOCALE, ...keytoolInstallArgs(ca, cacerts, ctx)], {
      input: ca.certPem,
      timeoutMs: 60_000,
    });
    const after = statusOf(ca, ctx, await list(ca, ctx));
    if (r.code !== 0) {
      return {
        ...after,
        state: 'error',
        detail: `keytool -importcert failed: ${firstLine(r.stdout, r.stderr) || r.spawnError}`,
        changed: false,
      };
    }
    return { ...after, changed: true };
  },

  async uninstall(ca, ctx) {
    const l = await list(ca, ctx);
    const before = statusOf(ca, ctx, l);
    if (before.state !== 'trusted') {
      const res: StoreChange = { ...before, changed: false };
      if (res.state === 'not-trusted') delete res.fix;
      return res;
    }
    const { keytool, cacerts } = l.setup as { keytool: string; cacerts: string };
    if (!canWrite(cacerts)) {
      const del = l.ours.map(
        (a) => `sudo ${shLine([keytool, '-delete', '-alias', a, ...storeArgs(cacerts, ctx)])}`,
      );
      return {
        ...before,
        state: 'needs-permission',
        detail: `${cacerts} is writable only by root`,
        fix: del.join(' && '),
        changed: false,
      };
    }
    const failures: string[] = [];
    // Sequential: keytool rewrites the whole keystore file on every change.
    for (const alias of l.ours) {
      const r = await ctx.run(
        keytool,
        [...J_LOCALE, '-delete', '-alias', alias, ...storeArgs(cacerts, ctx)],
        {
          timeoutMs: 60_000,
        },
      );
      if (r.code !== 0)
        failures.push(`"${alias}": ${firstLine(r.stdout, r.stderr) || r.spawnError}`);
    }
    const after = statusOf(ca, ctx, await list(ca, ctx));
    delete after.fix;
    if (failures.length) {
      return {
        ...after,
        state: 'error',
        detail: `keytool -delete failed for ${failures.join('; ')}`,
        changed: true,
      };
    }
    return { ...after, changed: true };
  },
};
