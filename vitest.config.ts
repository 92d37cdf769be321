import { configDefaults, defineConfig } from 'vitest/config'

/**
 * Unit tests: in-process code under test, no stack, no shared module state between files. They run without
 * per-file isolation (project 'unit', isolate: false): each worker process imports viem, zod, the codecs once and
 * runs many files, instead of a fresh process and module graph per file (suite15, measured at load ~8: these 108 files
 * 220 s → 129 s wall on 2 workers, CPU 155 s → 95 s, import 84 s → 17 s). A file that mocks a module
 * (vi.mock), stubs globals or needs a fresh process goes to ISOLATED below.
 */
const UNIT = ['core/**/*.test.ts', 'governance/**/*.test.ts', 'sim/**/*.test.ts', 'enclave/**/*.test.ts', 'host/**/*.test.ts', 'shared/**/*.test.ts', 'agent/**/*.test.ts', 'cli/**/*.test.ts', 'scripts/**/*.test.ts', 'console/**/*.test.ts']
const ISOLATED = [
  'enclave/sign/generateSignerKey.test.ts', // vi.mock('node:crypto')
  // Real PostgreSQL (test/helpers/postgres.ts: one throwaway cluster per test process, released per file) and lease
  // timing: failed once run non-isolated on a machine at load 19; kept on a fresh process each.
  'host/storage/Store.test.ts',
  'host/enclave/EnclaveGateway.test.ts',
  'host/cluster/WalletLeaseKeeper.test.ts',
]

/**
 * suite39: the adversarial files (~190: each starts its own stack of real processes on free ports and temp dirs, or
 * drives an in-process enclave it builds itself) run without per-file isolation too: a worker imports viem, zod and the
 * helpers once for many files instead of a fresh process and module graph per file. Measured on 24 of them (two
 * subsets), A/B interleaved, 3 pairs at load 11–20: CPU (user+sys of the whole run) 55–97 s isolated → 40–61 s not
 * (−30 to −40 %), wall 145–206 s → 107–127 s; all 193 files (489 tests) passed non-isolated twice (load 16–20, 4–13).
 * A file that changes process-wide state restores it (process.env: replayAcrossSealAndStandbyLoad). BURSAR_TEST_ISOLATE=1 isolates them again (a fresh process per file).
 *
 * suite40: the other stack files (project 'stacks': test/integration, e2e, browser, cluster, fuzz, vectors, kms, bench,
 * soak, devchain; 86 files) likewise. A/B on 10 integration files, interleaved, 2 pairs at load 8–10: CPU (user+sys of
 * the run with its children) 26.8 / 27.7 s isolated → 19.8 / 19.8 s not (−26–29 %), wall 53 / 40 s → 31 / 34 s; all
 * 86 files (304 tests) passed non-isolated (load 8–11, 528 s wall). None changes process-wide state without restoring
 * it (hostCrashBeforePersist restores its process.env flag); the files that need a fresh process are the ISOLATED
 * project's (vi.mock of node:crypto, PostgreSQL lease timing).
 */
const ADVERSARIAL = ['test/adversarial/**/*.test.ts']

/** What every project shares (a project does not inherit these from the root unless it `extends`, which would run the
 * global setup once more per project). */
const common = {
  testTimeout: 60_000,
  hookTimeout: 60_000,
  pool: 'forks' as const,
}

export default defineConfig({
  test: {
    // The cluster tests run in `make test` again (issue 15: the failover test's 99 of 100 was an SDK retry and a
    // catchUp race, both fixed; every cluster wait and teardown is bounded). `make test-cluster` runs 5 failovers.
    ...common,
    // Two files at a time (vitest's default is one fewer than the cores: 1 on CI's 2-core machine, which ran all 270
    // files one after another). Most test time is waiting on spawned hosts, enclaves, CLIs and browsers, not CPU in
    // the worker: at stop 33's fresh clone both workers were busy the whole 720 s (stack files 1,180 s + unit 81 s)
    // while vitest used ~1.3 of the 2 cores. Each stack file starts its own stacks on free ports/temp dirs (suite40:
    // in a worker process it shares with other files, as adversarial's do, see above). Shared build outputs are made once by the global setup (test/globalSetup.ts) or
    // swapped in atomically; `npm pack` (test/e2e/npmPackage.test.ts) builds in a copy of the checkout, never in dist/.
    // A child told its port in advance is retried on EADDRINUSE (scripts/lib/freePort.ts); Chromium and PostgreSQL
    // install one apt-get at a time. BURSAR_TEST_WORKERS overrides it. 3 is the next lever (~1,440 worker-seconds over
    // 3 instead of 2) but stays off until shown not to add flakes on an idle 2-core machine: suite34 could only try it
    // at load 13-23 (other sessions), where 2 of 3 runs of the 20 heaviest stack files failed on load (NOTES, suite34).
    maxWorkers: Number(process.env.BURSAR_TEST_WORKERS ?? 2),
    globalSetup: ['test/globalSetup.ts'],
    projects: [
      { test: { ...common, name: 'unit', include: UNIT, exclude: [...configDefaults.exclude, ...ISOLATED], isolate: false } },
      { test: { ...common, name: 'adversarial', include: ADVERSARIAL, isolate: process.env.BURSAR_TEST_ISOLATE === '1' } },
      { test: { ...common, name: 'stacks', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...ADVERSARIAL], isolate: process.env.BURSAR_TEST_ISOLATE === '1' } },
      { test: { ...common, name: 'isolated', include: ISOLATED } },
    ],
  },
})
