import { type TypedDataDefinition, recoverTypedDataAddress } from 'viem'
import { describe, expect, it } from 'vitest'
import { benchEndToEnd } from '../../scripts/bench/benchEndToEnd.js'

// Keeps `make bench` from rotting: the same path (real stack, owner-registered agents, load-generator process,
// signed agent requests over keep-alive HTTP) with a few hundred requests and no timing assertions.
describe('bench smoke: end-to-end path through the real host + enclave', () => {
  it('completes a few hundred x402 requests (session MACs at c=1 and 16, Ed25519 at 16); every answer is a valid wallet signature', async () => {
    const perLevel = 150
    const auth = ['session', 'session', 'ed25519'] as const
    // lat41: a short prewarm at another concurrency than the first level (as make bench's lower levels do) on the same path.
    const r = await benchEndToEnd({ levels: [1, 16, 16], auth: [...auth], requests: perLevel, wallets: 2, agentsPerWallet: 4, collect: perLevel, prewarmMs: 300, prewarmConcurrency: 4 })
    // A MAC the enclave did not accept would be a failed request (session_invalid / session_unknown), not an Ed25519 retry.
    expect(r.levels.map((l) => l.auth)).toEqual(auth)
    expect(r.agents.length).toBe(8)
    expect(new Set(r.agents.map((a) => a.agentId)).size).toBe(8)
    for (const level of r.levels) {
      expect(level.httpClient).toBe(process.env.BENCH_HTTP_CLIENT === 'node' ? 'node' : 'sdk')
      expect(level.errors).toEqual({})
      expect(level.failed).toBe(0)
      expect(level.ok).toBe(perLevel)
      expect(level.samples.length).toBe(perLevel)
      // Independent check of every signature: viem recovers the wallet that the request paid from.
      for (const s of level.samples) {
        const recovered = await recoverTypedDataAddress({ ...(s.typedData as unknown as TypedDataDefinition), signature: s.signature })
        expect(recovered.toLowerCase()).toBe(s.wallet.toLowerCase())
      }
      // Every request carried a fresh EIP-3009 nonce, so every signature is distinct.
      expect(new Set(level.samples.map((s) => s.signature)).size).toBe(perLevel)
    }
    expect(r.rssMaxMb.enclave).toBeGreaterThan(0)
    expect(r.rssMaxMb.host).toBeGreaterThan(0)
  })

  it('the same through the agent SDK transport (httpClient sdk, c1-42): every answer a valid wallet signature', async () => {
    const perLevel = 100
    const r = await benchEndToEnd({ levels: [1, 16], auth: ['session', 'ed25519'], requests: perLevel, wallets: 2, agentsPerWallet: 4, collect: perLevel, httpClient: 'sdk' })
    for (const level of r.levels) {
      expect(level.httpClient).toBe('sdk')
      expect(level.errors).toEqual({})
      expect(level.ok).toBe(perLevel)
      for (const s of level.samples) {
        const recovered = await recoverTypedDataAddress({ ...(s.typedData as unknown as TypedDataDefinition), signature: s.signature })
        expect(recovered.toLowerCase()).toBe(s.wallet.toLowerCase())
      }
      expect(new Set(level.samples.map((s) => s.signature)).size).toBe(perLevel)
    }
  })
})
