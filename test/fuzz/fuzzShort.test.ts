import { describe, expect, it } from 'vitest'
import { runFuzz } from './runFuzz.js'

/**
 * The short fuzz run (the full one is `make fuzz`, 1,000,000 inputs): every
 * in-process target (frames, request and owner-act schemas, the enclave's
 * decoder, policies, attestation documents, KMS CMS and blobs) plus frames
 * into a live enclave. No crash (only typed refusals), no hang, bounded RSS,
 * and the live enclave still signs an honest payment afterwards.
 */
describe('fuzz (short): 25,000 deterministic inputs', () => {
  it('0 crashes, 0 hangs, bounded memory; the live enclave stays up and honest traffic signs', async () => {
    const f = await runFuzz({ seed: Number(process.env.SEED ?? 1), count: 25_000, live: 1_500, workers: 2 })
    expect(f.findings).toEqual([])
    expect(f.live?.crashes).toEqual([])
    expect(f).toMatchObject({ inputs: 25_000, crashes: 0, hangs: 0 })
    expect(f.peakRssMb).toBeLessThan(1024)
    expect(f.live).toMatchObject({ enclaveAlive: true, honestAfter: true })
    // Every target ran, and the live enclave saw deep inputs (re-signed agent requests that reached decoding/policy).
    expect(f.targets.every((t) => t.inputs > 0)).toBe(true)
    expect(Object.keys(f.live?.codes ?? {}).length).toBeGreaterThan(5)
  }, 150_000)
})
