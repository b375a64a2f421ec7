// Web mode: the same UI as the desktop app, served to a browser on 127.0.0.1 (see server.ts).
export { startWebServer, buildHint, RPC_MAX_PAYLOAD, WEB_LIMITS } from './server';
export { parseRpcMessage } from './rpc';
export type { ApiHost, WebServer, WebServerOptions } from './server';
export { findRendererDir } from './paths';
export { openBrowser } from './open';
export {
  checkHttp,
  checkRpc,
  allowedHosts,
  contentSecurityPolicy,
  isLoopbackHost,
} from './security';
