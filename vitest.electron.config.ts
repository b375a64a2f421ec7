import { defineConfig } from 'vitest/config';

// `npm run test:electron` only (scripts/test-electron.mjs): the desktop app on the real Electron binary.
// Kept out of vitest.config.ts's include so `npm test` never needs the binary.
export default defineConfig({
  test: {
    include: ['e2e/**/*.electron.ts'],
    testTimeout: 120_000,
    hookTimeout: 150_000,
    fileParallelism: false,
    env: { WSS_STUDIO_LAB_NO_LAN: '1' },
  },
});
