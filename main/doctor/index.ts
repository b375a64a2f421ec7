// Public API of the connection doctor, for the CLI, the Electron IPC binding and the web-mode RPC.
import type {
  DoctorReport as ApiDoctorReport,
  DoctorStep as ApiDoctorStep,
} from '../../shared/api';
import type { DoctorReport, DoctorStep } from './types';

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
export type {
  DiagnoseOptions,
  DoctorReport,
  DoctorStep,
  DoctorTarget,
  StepStatus,
  TlsFacts,
  UpgradeFacts,
} from './types';

// The report crosses IPC and the web-mode RPC as shared/api.ts's DoctorReport and each progress event
// carries a DoctorStep: a compile error here means the engine and the contract drifted apart.
type Assignable<T extends U, U> = T;
export type ContractCheck = [
  Assignable<DoctorReport, ApiDoctorReport>,
  Assignable<DoctorStep, ApiDoctorStep>,
];
