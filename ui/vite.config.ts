// Vite + vitest config for the Imagesmith frontend (built to ui/dist, loaded by the Tauri shell).
import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  resolve: {
    alias: { $lib: fileURLToPath(new URL('./src/lib', import.meta.url)) },
    // vitest resolves packages for node by default; Svelte must resolve to its browser build there too
    ...(process.env.VITEST ? { conditions: ['browser'] } : {}),
  },
  server: { port: 5173, strictPort: true },
  build: { target: 'safari15', outDir: 'dist', emptyOutDir: true, sourcemap: false },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/test-setup.ts'],
    // jsdom renders of a 1,200-row library take ~2.5 s alone; on CI's 2 cores, with every test file
    // in parallel beside a cargo build, the 5 s default timed out a test that passes (stop 22).
    testTimeout: 30_000,
  },
});
