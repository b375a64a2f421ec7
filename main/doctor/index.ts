// Public API of the connection doctor, for the CLI, the Electron IPC binding and the web-mode RPC.
export { diagnose } from './diagnose';
export { caFromStore, type CaSource } from './ca-source';
export {
  clientSummary,
  DOCTOR_CLIENTS,
  judgeClients,
  type ClientOptions,
  type DoctorClient,
  type DoctorClientVerdict,
} from './clients';
export { CODES, STEP_TITLES, codeTable, type CodeDoc, type DoctorCode, type StepId } from './codes';
export { isLoopbackHost, checkMixedContent, parseOrigin } from './mixed-content';
export { checkUrl } from './url';
export type * from './types';
