// Entry bundled by bench/echo.mjs with esbuild: the echo engine plus what the benchmark needs to make a cert.
export { ServerManager } from '../main/echo/index';
export { openStore } from '../main/store/index';
export { createCa, issueLeaf, readLeafKeyPem } from '../main/pki/index';
