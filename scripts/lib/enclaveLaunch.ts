/**
 * How every launcher starts the enclave process (issue 18, enclave RSS; docs/bench.md "Enclave RSS: launch flags"):
 * scripts/sim.ts (`make sim`, `bursar sim`), startStack (tests, bench), startCluster, the memory bench, and — written
 * out by hand, checked by test/kms/deployNitro.test.ts — deploy/nitro/entrypoint.sh. None of it is enclave code: the
 * trusted closure is unchanged, and an enclave started without them behaves the same, only with more memory.
 *
 * - `--max-semi-space-size=4`: V8's young generation at most 2 × 4 MB instead of 2 × 16 MB. The 16 MB semi-spaces
 *   fill under load and stay committed: −24 to −28 MB of RSS under load, −10 to −14 MB idle. 2 MB cost ~+14 % CPU
 *   per payment (measured), 4 MB is within the noise.
 * - `MALLOC_ARENA_MAX=2`: glibc gives each thread that contends for malloc its own arena (up to 8 per core) and keeps
 *   their freed chunks; with V8's worker threads allocating during GC and compilation, 2 arenas save ~5–8 MB.
 */
export const ENCLAVE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4']
export const ENCLAVE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' }
