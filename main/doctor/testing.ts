// Test peers for the doctor's tests (not shipped: only *.test.ts import this file).
// Certificates are made with node-forge so a test can pick any dates (expired, not yet valid) and add name
// constraints, which the product's CA code rightly refuses to produce. Keys come from node:crypto (fast).
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import forge from 'node-forge';
import { WebSocketServer } from 'ws';

export interface TestCert {
  certPem: string;
  keyPem: string;
}

let keyCache: { pub: string; priv: string }[] = [];
function rsaKey(i: number): { pub: string; priv: string } {
  while (keyCache.length <= i) {
    const k = generateKeyPairSync('rsa', { modulusLength: 2048 });
    keyCache = [
      ...keyCache,
      {
        pub: k.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        priv: k.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      },
    ];
  }
  return keyCache[i] as { pub: string; priv: string };
}

let serial = 1;
const DAY = 86_400_000;

export function makeCa(
  opts: { cn?: string; keyIndex?: number; permittedDns?: string[] } = {},
): TestCert {
  const key = rsaKey(opts.keyIndex ?? 0);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(key.pub);
  cert.serialNumber = (0x1000 + serial++).toString(16);
  cert.validity.notBefore = new Date(Date.now() - DAY);
  cert.validity.notAfter = new Date(Date.now() + 365 * DAY);
  const attrs = [{ name: 'commonName', value: opts.cn ?? 'Doctor Test CA' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  const exts: object[] = [
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ];
  if (opts.permittedDns) {
    const a = forge.asn1;
    const subtrees = opts.permittedDns.map((d) =>
      a.create(a.Class.UNIVERSAL, a.Type.SEQUENCE, true, [
        a.create(a.Class.CONTEXT_SPECIFIC, 2, false, d),
      ]),
    );
    const nc = a.create(a.Class.UNIVERSAL, a.Type.SEQUENCE, true, [
      a.create(a.Class.CONTEXT_SPECIFIC, 0, true, subtrees),
    ]);
    exts.push({ id: '2.5.29.30', critical: true, value: a.toDer(nc).getBytes() });
  }
  cert.setExtensions(exts);
  cert.sign(forge.pki.privateKeyFromPem(key.priv), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: key.priv };
}

/** A server certificate. names: DNS names or IPs; dates default to yesterday .. +30 days. */
export function makeLeaf(
  ca: TestCert | 'self',
  opts: { names: string[]; notBefore?: Date; notAfter?: Date; cn?: string },
): TestCert {
  const key = rsaKey(9);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(key.pub);
  cert.serialNumber = (0x2000 + serial++).toString(16);
  cert.validity.notBefore = opts.notBefore ?? new Date(Date.now() - DAY);
  cert.validity.notAfter = opts.notAfter ?? new Date(Date.now() + 30 * DAY);
  cert.setSubject([{ name: 'commonName', value: opts.cn ?? opts.names[0] ?? 'leaf' }]);
  const issuer = ca === 'self' ? null : forge.pki.certificateFromPem(ca.certPem);
  cert.setIssuer(issuer ? issuer.subject.attributes : cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: opts.names.map((n) => (net.isIP(n) ? { type: 7, ip: n } : { type: 2, value: n })),
    },
  ]);
  const signKey = ca === 'self' ? key.priv : ca.keyPem;
  cert.sign(forge.pki.privateKeyFromPem(signKey), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: key.priv };
}

export interface TestServer {
  port: number;
  close: () => Promise<void>;
}

/**
 * A ws echo server on 127.0.0.1, port 0. path: where upgrades are accepted (others get 404, like a
 * router would). tls: serve wss with this certificate. protocols: accepted subprotocols.
 */
export async function startWsServer(
  opts: {
    tls?: TestCert;
    path?: string;
    protocols?: string[];
    allowOrigin?: string;
    /** Default 127.0.0.1; '::1' for IPv6 tests. */
    host?: string;
    /** Extra TLS server options, e.g. { maxVersion: 'TLSv1.1' } for an outdated server. */
    tlsOptions?: https.ServerOptions;
  } = {},
): Promise<TestServer> {
  const server = opts.tls
    ? https.createServer({ cert: opts.tls.certPem, key: opts.tls.keyPem, ...opts.tlsOptions }, page)
    : http.createServer(page);
  const wss = new WebSocketServer({
    noServer: true,
    ...(opts.protocols
      ? {
          handleProtocols: (offered: Set<string>) =>
            opts.protocols?.find((p) => offered.has(p)) ?? false,
        }
      : {}),
  });
  wss.on('connection', (ws) => ws.on('message', (d, bin) => ws.send(d, { binary: bin })));
  server.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '/').split('?')[0];
    if (opts.path && path !== opts.path) {
      socket.end(
        'HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found',
      );
      return;
    }
    if (opts.allowOrigin && req.headers.origin !== opts.allowOrigin) {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  return listen(
    server,
    async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
    },
    opts.host,
  );
}

function page(_req: http.IncomingMessage, res: http.ServerResponse) {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('a page\n');
}

/** A raw TCP server: onConnection gets every socket (for handshakes that misbehave on purpose). */
export async function startRawServer(onConnection: (s: net.Socket) => void): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onConnection(s);
  });
  return listen(server, async () => {
    for (const s of sockets) s.destroy();
  });
}

async function listen(
  server: net.Server,
  beforeClose: () => Promise<void>,
  host = '127.0.0.1',
): Promise<TestServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: async () => {
      await beforeClose();
      (server as http.Server).closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A port nothing listens on: bind port 0, note it, close it. */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
