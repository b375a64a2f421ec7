// Public types of the proxy engine: the wire types of shared/api.ts (plain JSON), named for main/proxy.
export type {
  ProxyDefinitionDto as ProxyDefinition,
  ProxyDto as ProxyStatus,
  TargetHealth,
  TargetHealthState,
  ProxyAddResult,
} from '../../shared/api';

/** A definition as given by a caller: every field but publicUrl/target optional. */
export interface ProxyInput {
  id?: string;
  name?: string;
  publicUrl?: string;
  target?: string;
  certId?: string | null;
  bindHost?: string;
  preserveHost?: boolean;
  rewriteRedirects?: boolean;
  targetVerify?: boolean;
  enabled?: boolean;
}
