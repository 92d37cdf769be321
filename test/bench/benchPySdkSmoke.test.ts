import { recoverTypedDataAddress } from 'viem'
import { describe, expect, it } from 'vitest'
import { EIP3009_FIELDS } from '../../shared/schemas/eip3009Types.js'
import { benchPySdk } from '../../scripts/bench/benchPySdk.js'
import { summarizePySdk } from '../../scripts/bench/summarizePySdk.js'

// Keeps the Python SDK part of `make bench`'s SDK section from rotting: the same processes (real host + enclave, one
// Python agent process from .venv importing `bursar`) with a fixed count of operations and no timing assertion.
describe('bench smoke: the Python SDK part (bursar in a Python process against the real host + enclave)', () => {
  it('signs payments at 1 and N threads in flight with no failure; every signature is the wallet’s (checked by viem)', async () => {
    const count = 40
    const r = await benchPySdk({ pairs: 1, count, concurrency: 8, collect: 20, profileMs: 1 })
    expect(r.pairs).toHaveLength(1)
    const p = r.pairs[0]!
    for (const run of [p.raw, p.c1, p.cN]) {
      expect(run.errors).toEqual({})
      expect(run.failed).toBe(0)
      expect(run.n).toBe(count)
      expect(run.cpuUsPerOp).toBeGreaterThan(0)
    }
    expect(r.samples).toHaveLength(20)
    for (const s of r.samples) {
      const m = s.message
      const message = { ...m, value: BigInt(m.value), validAfter: BigInt(m.validAfter), validBefore: BigInt(m.validBefore) }
      const types = { TransferWithAuthorization: EIP3009_FIELDS }
      expect(await recoverTypedDataAddress({ domain: s.domain, types, primaryType: 'TransferWithAuthorization', message, signature: s.signature })).toBe(r.wallet)
    }
    expect(new Set(r.samples.map((s) => s.signature)).size).toBe(20)
    expect(r.profile?.sdkC1.top.length).toBeGreaterThan(0)
    const summary = summarizePySdk(r)
    expect(summary.goals).toHaveLength(4)
    expect(summary.rows.length).toBeGreaterThan(4)
  }, 120_000)
})
