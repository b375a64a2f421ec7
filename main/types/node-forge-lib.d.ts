// node-forge's modules loaded one by one (the whole library costs ~35 ms at start-up; asn1 alone ~5 ms).
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
