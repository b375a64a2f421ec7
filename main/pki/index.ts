// The certificate engine's public surface. Shells (CLI, web mode, Electron) import only from here.
export type { KeyType, CaInfo, CreateCaOptions } from './ca';
export { createCa, loadCa, requireCa, importMkcert, defaultMkcertCaroot, caPaths } from './ca';
export type { LeafInfo, IssueOptions, DamagedLeaf } from './leaf';
export {
  issueLeaf,
  listLeaves,
  scanLeaves,
  getLeaf,
  readLeafKeyPem,
  renewLeaf,
  deleteLeaf,
  checkNames,
  MAX_LEAF_DAYS,
  MAX_NAMES,
  safeFileName,
} from './leaf';
export type { CertFormat, CaFormat, Exported, StaleExport, UsageTarget } from './export';
export {
  exportLeaf,
  exportCa,
  caUsage,
  leafUsage,
  CERT_FORMATS,
  DEFAULT_P12_PASSWORD,
  P12_PASSWORD_ENV,
  staleExports,
} from './export';
export { reusableLeaf, REUSE_MARGIN_MS } from './reuse';
export type { ReuseCandidate, ReuseWanted } from './reuse';
export type { NameCheck, NameKind } from './names';
export { DEFAULT_PERMITTED, checkName } from './names';
