// Web mode: the same UI as the desktop app, served to a browser on 127.0.0.1 (see server.ts).
export { startWebServer, buildHint, RPC_MAX_PAYLOAD } from './server';
export type { ApiHost, WebServer, WebServerOptions } from './server';
export { findRendererDir } from './paths';
export { openBrowser } from './open';
export { checkRequest, allowedHosts, contentSecurityPolicy, isLoopbackHost } from './security';
