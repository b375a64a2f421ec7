// node-forge's modules loaded one by one (only main/pki/asn1.test.ts still uses forge: as the reference encoder).
declare module 'node-forge/lib/asn1' {
  import type forge from 'node-forge';
  const asn1: typeof forge.asn1;
  export = asn1;
}
declare module 'node-forge/lib/util' {
  import type forge from 'node-forge';
  const util: typeof forge.util;
  export = util;
}
