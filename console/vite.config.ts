import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

const here = path.dirname(fileURLToPath(import.meta.url))

/**
 * The owner console: a static bundle the host serves (no CDN at runtime). `base: './'` keeps every asset URL
 * relative, so the same files also run from a local copy (see console/README.md).
 */
export default defineConfig({
  root: here,
  base: './',
  logLevel: 'warn',
  resolve: {
    alias: {
      'node:crypto': path.join(here, 'src/nodeCrypto.browser.ts'),
      'node:fs': path.join(here, 'src/nodeStubs.browser.ts'),
      'node:os': path.join(here, 'src/nodeStubs.browser.ts'),
      'node:path': path.join(here, 'src/nodeStubs.browser.ts'),
    },
  },
  build: {
    outDir: path.join(here, '..', 'dist', 'console'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
    reportCompressedSize: false,
  },
})
