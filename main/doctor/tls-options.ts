// The doctor's TLS client options, chosen for the TLS library this process runs on.
//
// The same engine runs in Node (CLI, web mode: OpenSSL 3) and in Electron's main process, whose Node is built
// on BoringSSL. BoringSSL's cipher-string parser accepts only the @STRENGTH command and rejects anything
// else (@SECLEVEL=0 fails with SSL_R_INVALID_COMMAND, so tls.connect throws), and it has no security levels
// at all: its default list already allows TLS 1.0/1.1 with the AES-CBC-SHA suites old servers use. So:
// OpenSSL gets "DEFAULT@SECLEVEL=0" (OpenSSL 3's level 1 refuses TLS 1.0/1.1 and SHA-1 signatures, which
// would hide an old server behind a bare alert); BoringSSL gets no cipher string.
//
// Every OpenSSL-only option the engine passes to tls/crypto lives here (e2e/app-contract.test.ts greps
// main/ for the others). Audited, and accepted by both libraries: minVersion/maxVersion 'TLSv1'..'TLSv1.3',
// ALPNProtocols, servername, ca/cert/key PEM, namedCurve 'prime256v1' (main/pki/ca.ts), the PKCS#12 writer's
// createCipheriv('aes-256-cbc' | 'des-ede3-cbc') and pbkdf2/sha1/sha256 (main/pki/pkcs12.ts).
export type TlsLibrary = 'openssl' | 'boringssl';

interface ProcessLike {
  versions: Record<string, string | undefined>;
  features?: object;
}

/** Which TLS library Node's tls module uses in this process. */
export function tlsLibrary(proc: ProcessLike = process): TlsLibrary {
  // process.features.openssl_is_boringssl: Node >= 22.13/23.9 built against BoringSSL; Electron has always
  // used BoringSSL, whatever its Node reports.
  if (
    (proc.features as { openssl_is_boringssl?: unknown } | undefined)?.openssl_is_boringssl === true
  )
    return 'boringssl';
  if (proc.versions.electron) return 'boringssl';
  if (proc.versions.boringssl) return 'boringssl';
  return 'openssl';
}

export interface ProbeTlsOptions {
  minVersion: 'TLSv1';
  ciphers?: string;
}

/**
 * Options for the doctor's handshakes: accept TLS 1.0 and 1.1 (which Node, browsers and curl refuse) so an
 * old server is named as such (TLS_OLD_VERSION) instead of failing with a bare "protocol version" alert.
 */
export function probeTlsOptions(lib: TlsLibrary = tlsLibrary()): ProbeTlsOptions {
  return lib === 'openssl'
    ? { minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }
    : { minVersion: 'TLSv1' };
}

/**
 * What the doctor cannot check in this runtime, as lines for a step's detail when a handshake failed:
 * empty on OpenSSL. BoringSSL no longer offers RC4, export or (by default) 3DES and DHE suites, so a server
 * that accepts only those fails the handshake here although OpenSSL could still name it.
 */
export function runtimeLimits(lib: TlsLibrary = tlsLibrary()): string[] {
  if (lib === 'openssl') return [];
  return [
    "not checked in this runtime: servers that accept only legacy ciphers (RC4, 3DES, DHE) fail here, because the desktop app's TLS library (BoringSSL) does not offer them; run `wss-studio doctor <url>` in a terminal (OpenSSL) to name such a server",
  ];
}

/** Cipher strings BoringSSL would refuse: any @command other than @STRENGTH (pure, never throws). */
export function boringSslRefuses(ciphers: string): boolean {
  return /@(?!STRENGTH(?![\w=]))/.test(ciphers);
}
