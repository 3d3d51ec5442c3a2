import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// The lab page: relative paths so the built files work from any static host.
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [preact()],
  build: { outDir: '../dist/web', emptyOutDir: true, chunkSizeWarningLimit: 1024 },
});
