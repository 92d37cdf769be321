import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: [
      'core/**/*.test.ts',
      'sim/**/*.test.ts',
      'enclave/**/*.test.ts',
      'host/**/*.test.ts',
      'shared/**/*.test.ts',
      'agent/**/*.test.ts',
      'cli/**/*.test.ts',
      'scripts/**/*.test.ts',
      'test/**/*.test.ts',
      'console/**/*.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/globalSetup.ts'],
  },
})
