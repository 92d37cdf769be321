import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

/** Runs only the attestation suites, without the repo's global build step (which builds the whole enclave). */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../../', import.meta.url)),
    include: [
      'shared/attestation/**/*.test.ts',
      'enclave/nsm/**/*.test.ts',
      'cli/commands/attestation.test.ts',
      'test/vectors/**/*.test.ts',
    ],
    testTimeout: 60_000,
    pool: 'forks',
  },
})
