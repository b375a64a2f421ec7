// What a Firefox ESR profile trusts beyond its own NSS database, on Linux, and the doctor saying the same:
//   security.enterprise_roots.enabled set in the profile's user.js, the CA only in the system bundle:
//     Firefox refuses (on Linux it reads no OS store) and the doctor says Firefox fails, naming the pref;
//   /etc/firefox/policies/policies.json with Certificates.Install listing the CA file:
//     Firefox accepts and the doctor says Firefox works, naming the policy.
// Firefox sees the system bundle and the policy through a private mount namespace (unshare -m: a bind
// mount and an overlay on /etc that only its process sees); the doctor sees the same files under a temp
// WSS_STUDIO_TRUST_ROOT. The machine's real /etc is never written.
import fs from 'node:fs';
import type https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { DoctorClientVerdict } from '../shared/api';
import type { CaInfo } from '../main/pki';
import { trustStatusAll } from '../main/trust';
import { createFirefoxProfile, firefoxVisit, stopWitness, witnessStudio } from './helpers/firefox';
import { requireTool, runCli, tempDir } from './helpers/tools';

let tmp: ReturnType<typeof tempDir>;
let env: NodeJS.ProcessEnv;
let server: https.Server;
let wss: WebSocketServer;
let port: number;
let ca: CaInfo;
let profile: string;
let root: string;
const events: string[] = [];

async function firefoxVerdict(): Promise<{ v: DoctorClientVerdict; stdout: string }> {
  const url = `wss://localhost:${port}/echo`;
  const j = await runCli(['doctor', url, '--json', '--client', 'firefox'], { env, cwd: tmp.dir });
  const human = await runCli(['doctor', url, '--client', 'firefox'], { env, cwd: tmp.dir });
  const clients = (JSON.parse(j.stdout) as { clients?: DoctorClientVerdict[] }).clients ?? [];
  expect(clients, j.stdout).toHaveLength(1);
  return { v: clients[0] as DoctorClientVerdict, stdout: human.stdout };
}

/** What `trust status` says of the Firefox profile (the doctor and trust status must agree). */
async function firefoxTarget() {
  const [nss] = await trustStatusAll(ca, { stores: ['nss'], context: { env } });
  return nss?.targets?.find((t) => t.path === profile);
}

function visit(shot: string, namespaceSetup: string) {
  return firefoxVisit({
    home: env.HOME as string,
    profile,
    url: `https://localhost:${port}/`,
    shot: path.join(tmp.dir, shot),
    events,
    namespaceSetup,
  });
}

beforeAll(async () => {
  requireTool('firefox-esr');
  requireTool('unshare');
  if (process.getuid?.() !== 0)
    throw new Error('this test needs root for unshare -m (a private mount namespace for Firefox)');
  tmp = tempDir('wss-doctor-ffpolicy-');
  const studio = path.join(tmp.dir, 'studio');
  const w = await witnessStudio(studio, ['localhost'], events);
  ca = w.ca;
  server = w.server;
  port = w.port;
  wss = new WebSocketServer({ server, path: '/echo' });
  const home = path.join(tmp.dir, 'home');
  fs.mkdirSync(home, { recursive: true });
  root = path.join(tmp.dir, 'root');
  // The system bundle holds the CA (the OS trusts it): what enterprise roots would read on macOS/Windows.
  fs.mkdirSync(path.join(root, 'etc/ssl/certs'), { recursive: true });
  fs.writeFileSync(
    path.join(root, 'etc/ssl/certs/ca-certificates.crt'),
    fs.readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8') + ca.certPem,
  );
  env = {
    PATH: process.env.PATH,
    HOME: home,
    WSS_STUDIO_HOME: studio,
    WSS_STUDIO_TRUST_ROOT: root,
  };
  profile = createFirefoxProfile(home, 'entroots');
  fs.writeFileSync(
    path.join(profile, 'user.js'),
    'user_pref("security.enterprise_roots.enabled", true);\n',
  );
}, 120_000);

afterAll(async () => {
  wss?.close();
  await stopWitness(server);
  tmp?.cleanup();
});

describe('Firefox beyond its profile database (Linux)', () => {
  it(
    'enterprise roots set, CA only in the system bundle: Firefox refuses and the doctor says so',
    { timeout: 200_000 },
    async () => {
      const { v, stdout } = await firefoxVerdict();
      expect(v.verdict, stdout).toBe('fails');
      expect(v.name).toBe('Firefox profile entroots');
      expect(v.reason).toContain(
        `security.enterprise_roots.enabled is set (${path.join(profile, 'user.js')}), but Firefox on Linux reads no OS store with it`,
      );
      const bundle = path.join(root, 'etc/ssl/certs/ca-certificates.crt');
      const ff = await visit(
        'entroots.png',
        `mount --bind '${bundle}' /etc/ssl/certs/ca-certificates.crt`,
      );
      expect(ff.outcome, ff.detail).toBe('refused');
      expect(ff.detail).toMatch(/unknown ca/i);
    },
  );

  it(
    '/etc/firefox/policies/policies.json installing the CA: Firefox accepts and the doctor says so',
    { timeout: 200_000 },
    async () => {
      const policy = JSON.stringify({ policies: { Certificates: { Install: [ca.certPath] } } });
      const upper = path.join(tmp.dir, 'etc-upper');
      fs.mkdirSync(path.join(upper, 'firefox/policies'), { recursive: true });
      fs.writeFileSync(path.join(upper, 'firefox/policies/policies.json'), policy);
      fs.mkdirSync(path.join(root, 'etc/firefox/policies'), { recursive: true });
      fs.writeFileSync(path.join(root, 'etc/firefox/policies/policies.json'), policy);

      const { v, stdout } = await firefoxVerdict();
      expect(v.verdict, stdout).toBe('works');
      // trust status reads the policy too, so the doctor's verdict comes from the store status.
      expect(v.reason).toBe(
        `CA "${ca.commonName}" trusted (added at every start by the Firefox policy Certificates.Install: ${ca.certPath}, listed in ${path.join(root, 'etc/firefox/policies/policies.json')})`,
      );
      expect(stdout).toMatch(/^result: this connection would work$/m);
      expect(await firefoxTarget()).toMatchObject({
        state: 'trusted',
        detail: `added at every start by the Firefox policy Certificates.Install: ${ca.certPath}, listed in ${path.join(root, 'etc/firefox/policies/policies.json')}`,
      });

      const work = path.join(tmp.dir, 'etc-work');
      fs.mkdirSync(work);
      const ff = await visit(
        'policy.png',
        `mount -t overlay overlay -o lowerdir=/etc,upperdir='${upper}',workdir='${work}' /etc`,
      );
      expect(ff.outcome, ff.detail).toBe('loaded');

      // A policy listing another CA's file: back to fails (the doctor reads the file, not the name).
      const other = path.join(tmp.dir, 'other.pem');
      fs.writeFileSync(other, fs.readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8'));
      fs.writeFileSync(
        path.join(root, 'etc/firefox/policies/policies.json'),
        JSON.stringify({ policies: { Certificates: { Install: [other] } } }),
      );
      expect((await firefoxVerdict()).v.verdict).toBe('fails');
      expect((await firefoxTarget())?.state).toBe('not-trusted');
    },
  );
});
