import { describe, expect, it } from 'vitest'
import { memoryRun } from '../../scripts/bench/memoryRun.js'

// Keeps `make bench-memory` from rotting: the same driver (one real simulated enclave process, owner acts, signed
// agent requests as frames, catchUp acks, GC'd heap samples over SIGUSR2) with a few thousand payments; no timing
// or size assertions beyond sanity (the 1,000,000-payment figures are in docs/bench.md).
describe('memory run smoke: payments through one enclave process, its memory and sealed state sampled', () => {
  it('answers every payment, samples RSS and the heap after GC, and sees a sealed blob for every wallet', async () => {
    const r = await memoryRun({ payments: 6_000, wallets: 3, concurrency: 16, agentsPerWallet: 1, samples: 2, log: () => {} })
    expect(r.payments).toBe(6_000)
    expect(r.samples.length).toBe(2)
    expect(r.final.payments).toBe(6_000)
    expect(r.idle.heapUsedMb).toBeGreaterThan(1)
    expect(r.final.heapUsedMb).toBeGreaterThan(1)
    expect(r.rssMaxMb).toBeGreaterThanOrEqual(r.final.rssMb * 0.5)
    expect(r.enclaveCpuUsPerPayment).toBeGreaterThan(0)
    // A periodic seal (every 5,000 entries) covered all three wallets: each has its own blob, holding its spends.
    expect(Object.keys(r.sealedPerWallet)).toHaveLength(3)
    expect(r.final.sealedPerWalletBytes.min).toBeGreaterThan(2_000)
    expect(r.final.sealedCoreBytes).toBeGreaterThan(0)
  }, 120_000)
})
