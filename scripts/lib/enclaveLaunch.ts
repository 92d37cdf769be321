/**
 * How every launcher starts the enclave process (issue 18, enclave RSS; docs/bench.md "Enclave RSS: launch flags"):
 * scripts/sim.ts (`make sim`, `bursar sim`), startStack (tests, bench), startCluster, the memory bench, and — written
 * out by hand, checked by test/kms/deployNitro.test.ts — deploy/nitro/entrypoint.sh. None of it is enclave code: the
 * trusted closure is unchanged, and an enclave started without them behaves the same, only with more memory.
 *
 * Measured (enclave alone, the bench's 4 wallets x 16 agents, 20,000 payments paced at 1,000/s, 3 interleaved rounds,
 * machine at load 7-19; docs/bench.md): RSS max 140-146 -> 119-127 MB, idle after setup ~100 -> ~95 MB.
 * - `--max-semi-space-size=8`: V8's young generation at most 2 x 8 MB instead of 2 x 16 MB; both semi-spaces fill
 *   under load and stay committed. 4 MB saved ~12 MB more but cost ~+9 % enclave CPU per payment in process (pairs 0.96-1.31; scavenges
 *   x3.7, each copying the in-flight requests); 8 MB (scavenges x1.9) was within the noise (9 pairs 0.84-1.34, median 0.99; load 10-21).
 * - `MALLOC_ARENA_MAX=2`: glibc gives each thread that contends for malloc its own arena (up to 8 per core) and keeps
 *   their freed chunks; V8's worker threads allocate during GC and compilation: -7 to -12 MB under load.
 * `--single-threaded-gc` saved nothing (RSS 150 MB); `--max-old-space-size` turns state growth into a crash.
 * - `MALLOC_MMAP_THRESHOLD_` / `MALLOC_TRIM_THRESHOLD_` = 128 KiB (mem35): glibc's mmap threshold otherwise rises to
 *   the largest block freed (up to 32 MB), so seal-sized buffers (hundreds of KB: plaintext, ciphertext, blob, frame)
 *   come from the main arena and their freed space stays in it (its [heap] mapping was 22.6 MB at the bench's peak).
 *   Fixed at 128 KiB they are mmapped and given back on free: RSS max -5 to -11 MB in 7 interleaved pairs (enclave
 *   alone, 1,000/s, load 6-18); cost: +1-2 minor page faults per payment (15,000 payments: 23-24k -> 39-51k faults,
 *   ~1-2 us, <1 % of the enclave's CPU); CPU pairs 0.74-1.19, median 1.04: noise at that load.
 */
export const ENCLAVE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8']
export const ENCLAVE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '131072' }
