import { configDefaults, defineConfig } from 'vitest/config'

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
    // The cluster failover test runs in `make test-cluster` (BURSAR_TEST_CLUSTER=1): under a loaded 2-core machine it
    // once ended with a signature stored but not received (99 of 100; NOTES.md, issue 15), being investigated.
    // clusterHostRestart hung once in a fresh-clone run beside another suite (its cluster never stopped): same.
    exclude: [...configDefaults.exclude, ...(process.env.BURSAR_TEST_CLUSTER === '1' ? [] : ['test/cluster/clusterFailover.test.ts', 'test/cluster/clusterHostRestart.test.ts'])],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/globalSetup.ts'],
  },
})
