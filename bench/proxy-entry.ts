// Entry bundled by bench/proxy.mjs with esbuild: the proxy engine plus what the benchmark needs for a cert.
export { ProxyServer } from '../main/proxy/proxy-server';
export { normalizeProxy } from '../main/proxy/validation';
export { FrameLog } from '../main/echo/frame-log';
export { openStore } from '../main/store/index';
export { createCa, issueLeaf, readLeafKeyPem } from '../main/pki/index';
export { withProxyHeap, PROXY_V8_FLAGS } from '../main/proxy/heap';
