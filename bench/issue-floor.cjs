// bench/issue-floor: a lower bound for "cert issue" in any Node CLI, used by bench/certs.mjs. The work
// wss-studio cannot skip, in plain Node with nothing else loaded: read and parse the CA certificate and
// key, generate an ECDSA P-256 key, sign ~400 bytes with the CA key, and write four files (cert, key, and
// the two output copies) atomically (temp file, fsync, rename). It builds no real certificate, checks no
// names, takes no lock and answers no trust question, so the real command can only be slower.
//   WSS_STUDIO_HOME=<home with a CA> node bench/issue-floor.cjs <out-dir>
'use strict';
const { X509Certificate, createPrivateKey, generateKeyPairSync, sign } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ca = path.join(process.env.WSS_STUDIO_HOME, 'ca');
const caCert = new X509Certificate(fs.readFileSync(path.join(ca, 'ca.pem')));
const caKey = createPrivateKey(fs.readFileSync(path.join(ca, 'ca-key.pem')));
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const tbs = Buffer.concat([
  caCert.raw.subarray(0, 200),
  publicKey.export({ type: 'spki', format: 'der' }),
]);
const sig = sign('sha256', tbs, caKey);
const files = {
  'cert.pem': Buffer.concat([tbs, sig]).toString('base64'),
  'key.pem': privateKey.export({ type: 'pkcs8', format: 'pem' }),
};
const out = process.argv[2];
for (const [name, text] of Object.entries({
  ...files,
  'copy.pem': files['cert.pem'],
  'copy-key.pem': files['key.pem'],
})) {
  const tmp = path.join(out, `.${name}.${process.pid}.tmp`);
  const fd = fs.openSync(tmp, 'w', 0o600);
  fs.writeSync(fd, text);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, path.join(out, `floor-${name}`));
}
