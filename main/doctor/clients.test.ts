// Per-client verdicts without a browser: which CA a chain is judged against, Node's roots with and without
// NODE_EXTRA_CA_CERTS, a client asked for but absent, a problem every client refuses, and the sentence.
// (e2e/doctor-clients.test.ts checks the same verdicts against Chromium, Firefox and a real node.)
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFixture, tempContext, type Fixture } from '../trust/testing';
import { clientSummary, judgeClients, nodeVerdict, pickAnchor } from './clients';
import type { DoctorClientVerdict } from '../../shared/api';

let fx: Fixture;
let leaf: X509Certificate;
let ca: X509Certificate;
beforeAll(async () => {
  fx = await makeFixture('wss-doctor-clients-');
  leaf = new X509Certificate(fx.leaf.certPem);
  ca = new X509Certificate(fx.ca.certPem);
});
afterAll(() => fx?.cleanup());

describe('pickAnchor', () => {
  it('is our CA when it issued the chain, a public root when one signed it, else nothing', () => {
    expect(pickAnchor([leaf], ca)).toMatchObject({ ours: true, public: false });
    expect(pickAnchor([leaf], null)).toBeNull();
    // The CA alone, self-signed at the top of the chain, anchors itself (not ours when not given).
    expect(pickAnchor([ca], null)).toMatchObject({ ours: false, public: false });
    const isrg = tls.rootCertificates.find((p) =>
      p.includes('MIIFazCCA1OgAwIBAgIRAIIQz7DSQONZRGPgu2OCiwAw'),
    );
    expect(isrg, 'ISRG Root X1 in Node bundled roots').toBeDefined();
    expect(pickAnchor([new X509Certificate(isrg as string)], ca)).toMatchObject({
      ours: false,
      public: true,
    });
  });
});

describe('nodeVerdict', () => {
  const anchor = () => pickAnchor([leaf], ca);
  it('fails without NODE_EXTRA_CA_CERTS and says which variable and file fix it', () => {
    const v = nodeVerdict([leaf], anchor(), {}, fx.ca.certPath);
    expect(v).toMatchObject({
      verdict: 'fails',
      label: 'Node (bundled roots)',
      command: `export NODE_EXTRA_CA_CERTS=${fx.ca.certPath}`,
    });
    expect(v.reason).toContain('NODE_EXTRA_CA_CERTS is not set');
  });
  it('works when NODE_EXTRA_CA_CERTS holds the CA; an unreadable file is named', () => {
    const w = nodeVerdict([leaf], anchor(), { NODE_EXTRA_CA_CERTS: fx.ca.certPath }, 'x');
    expect(w).toMatchObject({
      verdict: 'works',
      reason: `CA "${fx.ca.commonName}" is in ${fx.ca.certPath}`,
    });
    const missing = path.join(fx.tmp, 'nope.pem');
    const u = nodeVerdict([leaf], anchor(), { NODE_EXTRA_CA_CERTS: missing }, 'x');
    expect(u.verdict).toBe('fails');
    expect(u.reason).toBe(
      `NODE_EXTRA_CA_CERTS=${missing} cannot be read (ENOENT); Node ignores it with a warning`,
    );
    const other = path.join(fx.tmp, 'other.pem');
    writeFileSync(other, tls.rootCertificates[0] as string);
    const o = nodeVerdict([leaf], anchor(), { NODE_EXTRA_CA_CERTS: other }, fx.ca.certPath);
    expect(o.verdict).toBe('fails');
    expect(o.fix).toContain(`append the CA to ${other}`);
  });
});

describe('judgeClients', () => {
  const ctx = () => tempContext(fx.tmp, { env: { PATH: '', HOME: path.join(fx.tmp, 'home') } });
  it('names a client asked for but absent as unknown, never as working', async () => {
    const v = await judgeClients({
      chain: [leaf],
      ourCa: ca,
      universal: null,
      opts: { only: ['java', 'chrome'], context: ctx() },
    });
    expect(v.map((x) => [x.client, x.verdict, x.reason])).toEqual([
      ['chrome', 'unknown', 'no Chrome/Chromium trust store found on this machine'],
      ['java', 'unknown', 'no Java trust store found on this machine'],
    ]);
  });
  it('on macOS, --client chrome means the keychain row (Chrome reads the OS store there)', async () => {
    const calls: string[] = [];
    const v = await judgeClients({
      chain: [leaf],
      ourCa: ca,
      universal: null,
      opts: {
        only: ['chrome'],
        context: {
          ...ctx(),
          platform: 'darwin',
          run: async (file, args) => {
            calls.push([file, ...args].join(' '));
            return { code: null, stdout: '', stderr: '', spawnError: 'ENOENT' };
          },
        },
      },
    });
    expect(v.map((x) => x.client)).toEqual(['macos']);
    expect(v[0]?.label).toBe('Safari, Chrome, curl (macOS keychains)');
    expect(calls.length).toBeGreaterThan(0);
  });

  it('turns a trusted client into a failing one when the certificate itself is wrong', async () => {
    const env = { PATH: '', HOME: path.join(fx.tmp, 'home'), NODE_EXTRA_CA_CERTS: fx.ca.certPath };
    const v = await judgeClients({
      chain: [leaf],
      ourCa: ca,
      universal: 'the certificate does not cover this host',
      opts: { only: ['node'], context: { ...ctx(), env } },
    });
    expect(v).toMatchObject([
      {
        client: 'node',
        verdict: 'fails',
        reason: 'the certificate does not cover this host (its CA is trusted here)',
      },
    ]);
  });
});

describe('clientSummary', () => {
  const row = (name: string, verdict: DoctorClientVerdict['verdict'], extra = {}) =>
    ({
      client: 'chrome',
      name,
      label: name,
      verdict,
      reason: 'x',
      ...extra,
    }) as DoctorClientVerdict;
  it('says who works, who fails with the fix (command or words), who cannot be told', () => {
    const rows = [
      row('Chrome/Chromium', 'works'),
      row('curl/openssl/Python/Go', 'works'),
      row('Firefox profile default-esr', 'fails', {
        reason: 'CA "X" not installed (missing)',
        fix: 'Install the WSS Studio CA into the NSS database',
        command: 'wss-studio trust install --stores nss',
      }),
      row('Node', 'fails', {
        client: 'node',
        reason: 'CA "X" is not among the bundled roots and NODE_EXTRA_CA_CERTS is not set',
        command: 'export NODE_EXTRA_CA_CERTS=/h/ca.pem',
        fix: 'Start Node with NODE_EXTRA_CA_CERTS=/h/ca.pem',
      }),
      row('Java', 'unknown'),
    ];
    expect(clientSummary(rows)).toBe(
      'works in Chrome/Chromium and curl/openssl/Python/Go; fails in Firefox profile default-esr (CA not installed: wss-studio trust install --stores nss) and in Node (set NODE_EXTRA_CA_CERTS=/h/ca.pem); cannot tell for Java',
    );
    expect(clientSummary(rows, false)).toContain(
      'Firefox profile default-esr (CA not installed: Install the WSS Studio CA into the NSS database)',
    );
  });
});
