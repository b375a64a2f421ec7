import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import svelteConfig from './svelte.config.js';

const here = path.dirname(fileURLToPath(import.meta.url));

// The renderer is one static build (dist/renderer) used by both the Electron window and web mode.
export default defineConfig({
  root: here,
  base: './',
  plugins: [svelte(svelteConfig)],
  build: {
    outDir: path.join(here, '..', 'dist', 'renderer'),
    emptyOutDir: true,
    target: 'es2022',
  },
});
