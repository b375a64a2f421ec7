import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Unit/integration tests sit beside the code (main/**, shared/**, renderer/** pure helpers); browser and end-to-end tests in e2e/.
// Real peers (openssl, certutil, chromium, wscat, python websockets) are slow to start: generous timeouts,
// and files run in parallel forks bounded to the machine's two cores.
export default defineConfig({
  // Renderer state classes (*.svelte.ts) are compiled with the real runes for their unit tests.
  // Same compiler options as renderer/svelte.config.js.
  plugins: [svelte({ compilerOptions: { runes: true }, configFile: false })],
  test: {
    include: [
      'main/**/*.test.ts',
      'shared/**/*.test.ts',
      'renderer/**/*.test.ts',
      'e2e/**/*.test.ts',
      'scripts/**/*.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ['e2e/helpers/global-setup.ts'],
    // Tests talk to loopback only: the lab page must not try the machine's LAN address.
    env: { WSS_STUDIO_LAB_NO_LAN: '1' },
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', './e2e/helpers/summary-reporter.ts'],
  },
});
