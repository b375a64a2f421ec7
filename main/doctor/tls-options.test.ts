// The doctor's TLS options per runtime. Electron's BoringSSL cannot run here, so: the library is detected
// from what Electron's process reports, the BoringSSL options obey BoringSSL's cipher-string grammar (only
// @STRENGTH), they still complete real handshakes, and the doctor run "as Electron" (process.versions.electron
// set, modules reloaded) uses them and says what it cannot check. test:electron proves it in the real app.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { boringSslRefuses, probeTlsOptions, runtimeLimits, tlsLibrary } from './tls-options';
import { makeCa, makeLeaf, startWsServer, type TestCert, type TestServer } from './testing';

describe('tlsLibrary', () => {
  it('is BoringSSL in Electron (process.versions.electron) or a BoringSSL Node build, else OpenSSL', () => {
    expect(tlsLibrary({ versions: { node: '24.11.1', electron: '45.5.0' } })).toBe('boringssl');
    expect(
      tlsLibrary({ versions: { node: '24.1.0' }, features: { openssl_is_boringssl: true } }),
    ).toBe('boringssl');
    expect(tlsLibrary({ versions: { node: '20.20.2', openssl: '3.0.17' } })).toBe('openssl');
    expect(tlsLibrary()).toBe('openssl'); // this test process: plain Node
  });
});

describe('probeTlsOptions', () => {
  it('OpenSSL gets SECLEVEL=0 (TLS 1.0/1.1 named), BoringSSL only what its parser accepts', () => {
    expect(probeTlsOptions('openssl')).toEqual({
      minVersion: 'TLSv1',
      ciphers: 'DEFAULT@SECLEVEL=0',
    });
    const b = probeTlsOptions('boringssl');
    expect(b).toEqual({ minVersion: 'TLSv1' });
    expect(boringSslRefuses(b.ciphers ?? '')).toBe(false);
  });

  it("boringSslRefuses follows BoringSSL's rule: @STRENGTH is the only command", () => {
    expect(boringSslRefuses('DEFAULT@SECLEVEL=0')).toBe(true);
    expect(boringSslRefuses('HIGH:@SECLEVEL=1')).toBe(true);
    expect(boringSslRefuses('ALL:@STRENGTHX')).toBe(true);
    expect(boringSslRefuses('HIGH:!aNULL:@STRENGTH')).toBe(false);
    expect(boringSslRefuses('ECDHE+AESGCM')).toBe(false);
  });

  it('runtimeLimits is empty on OpenSSL and names the unchecked servers and the CLI fallback on BoringSSL', () => {
    expect(runtimeLimits('openssl')).toEqual([]);
    const [line] = runtimeLimits('boringssl');
    expect(line).toMatch(
      /^not checked in this runtime: .*legacy ciphers.*BoringSSL.*wss-studio doctor/,
    );
  });
});

// Every TLS/crypto option that differs between OpenSSL and BoringSSL is built in tls-options.ts only.
describe('audit: no OpenSSL-only TLS option elsewhere in main/', () => {
  const OPENSSL_ONLY =
    /@SECLEVEL|\bciphers\s*:|\bsecureOptions\b|\becdhCurve\b|\bsigalgs\b|\bsecureProtocol\b|\bprivateKeyEngine\b|\bclientCertEngine\b|\bdhparam\b|SSL_OP_/;
  function files(dir: string): string[] {
    return readdirSync(dir).flatMap((f) => {
      const p = path.join(dir, f);
      if (statSync(p).isDirectory()) return files(p);
      return /\.ts$/.test(f) && !/\.test\.ts$/.test(f) ? [p] : [];
    });
  }

  it('finds none outside main/doctor/tls-options.ts', () => {
    const main = path.resolve(__dirname, '..');
    const hits = files(main)
      .filter((f) => !f.endsWith(path.join('doctor', 'tls-options.ts')))
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .map((line, i) => ({ f: path.relative(main, f), i: i + 1, line }))
          .filter(({ line }) => OPENSSL_ONLY.test(line) && !/^\s*(\/\/|\*)/.test(line)),
      );
    expect(hits).toEqual([]);
  });

  it('the audit pattern bites on what defect 1 was', () => {
    expect(OPENSSL_ONLY.test("{ minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }")).toBe(true);
    expect(OPENSSL_ONLY.test('secureOptions: constants.SSL_OP_NO_TLSv1')).toBe(true);
  });
});

describe('the doctor as it runs in Electron (BoringSSL options)', () => {
  let ca: TestCert;
  let modern: TestServer;
  let old: TestServer;
  beforeAll(async () => {
    ca = makeCa();
    modern = await startWsServer({ tls: makeLeaf(ca, { names: ['localhost'] }) });
    old = await startWsServer({
      tls: makeLeaf(ca, { names: ['localhost'] }),
      tlsOptions: { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' },
    });
  });
  afterAll(async () => {
    await modern.close();
    await old.close();
  });
  afterEach(() => {
    delete (process.versions as Record<string, string | undefined>).electron;
    vi.resetModules();
  });

  async function diagnoseAsElectron() {
    Object.defineProperty(process.versions, 'electron', {
      value: '45.5.0',
      configurable: true,
      enumerable: true,
    });
    vi.resetModules();
    const tls = await import('./tls');
    expect(tls.PROBE_TLS_OPTIONS).toEqual({ minVersion: 'TLSv1' });
    return (await import('./diagnose')).diagnose;
  }

  it('checks a modern wss:// server completely', async () => {
    const diagnose = await diagnoseAsElectron();
    const r = await diagnose(`wss://localhost:${modern.port}/`, { caPem: ca.certPem });
    expect(r.codes).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.tls?.protocol).toMatch(/^TLSv1\.[23]$/);
  });

  it('says in the report what it could not check when a handshake fails', async () => {
    // Plain Node stands in for BoringSSL here: without SECLEVEL=0, OpenSSL 3 refuses TLS 1.1 the way
    // BoringSSL refuses a legacy-only cipher server.
    const diagnose = await diagnoseAsElectron();
    const r = await diagnose(`wss://localhost:${old.port}/`, { caPem: ca.certPem });
    const tlsStep = r.steps.find((s) => s.id === 'tls');
    expect(tlsStep?.status).toBe('fail');
    expect(tlsStep?.detail?.join('\n')).toMatch(/not checked in this runtime: .*BoringSSL/);
  });
});
