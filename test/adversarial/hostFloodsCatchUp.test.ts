import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CATCH_UP_RESEND_BURST_BYTES, CATCH_UP_RESEND_BYTES_PER_S } from '../../enclave/Enclave.js'
import type { ResponseFrame } from '../../shared/protocol/messages.js'
import { type AgentSignOk, type EnclaveConnection, MaliciousHost, type TestAgent, eip3009, paymentPolicy, refusalCode, signAgentRequest, startWithAgent, verifyPayment } from '../helpers/maliciousHost.js'

const resentBytes = (r: ResponseFrame) => (r.ok ? (r.persist?.entries.reduce((a, t) => a + Buffer.byteLength(t), 0) ?? 0) + (r.persist?.sealed?.blob.length ?? 0) : 0)

/**
 * Attack: the host sends `catchUp` in a loop — each answer re-sends every entry the enclave keeps unstored and the
 * newest sealed blobs (up to one 16 MiB frame), so a loop on a few connections kept the enclave encoding hundreds of
 * MiB while agents waited. Fix (fix35): re-sending is paid from a byte budget (CATCH_UP_RESEND_BURST_BYTES, refilled
 * at CATCH_UP_RESEND_BYTES_PER_S); a catchUp beyond it still forgets what the host says it stored and answers at once,
 * re-sending nothing (`resent: 0`: what it kept stays kept for a later catchUp). The honest host's catchUps (one per
 * connect, an ack every 2 s) stay far inside it. Payments keep being answered and signed within policy meanwhile.
 */
describe('adversarial: the host floods catchUp while agents pay (real enclave)', () => {
  let host: MaliciousHost
  let wallet: Hex
  let agent: TestAgent
  const pay = (value = 1n) => signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value }) })

  beforeAll(async () => {
    ;({ host, wallet, agent } = await startWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '1000000000' })))
    await host.waitAgentFloor()
  })
  afterAll(async () => {
    await host?.stop()
  })

  it('4 connections loop catchUp over ~8 MiB kept: re-sent bytes stay within the budget, payments go on, nothing is lost', async () => {
    // ~8 MiB of unstored entries: denials with 2.3 KB of agent text each (the host stores nothing, acks nothing).
    const context = { resourceUrl: `https://x.example/${'u'.repeat(2000)}`, reason: 'r'.repeat(280) }
    const denials: Array<Promise<ResponseFrame>> = []
    for (let i = 0; i < 3_400; i++) {
      denials.push(host.agentSign(signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 5_000n }), context })))
      if (i % 500 === 499) await Promise.all(denials.slice(-500))
    }
    expect(new Set((await Promise.all(denials)).map(refusalCode))).toEqual(new Set(['policy_per_tx_cap_exceeded']))

    const conns: EnclaveConnection[] = await Promise.all([0, 1, 2, 3].map(() => host.connect()))
    let resent = 0
    let answers = 0
    let withEntries = 0
    const PER_CONN = 12
    const t0 = Date.now()
    const loops = conns.map(async (c) => {
      for (let i = 0; i < PER_CONN; i++) {
        const r = await c.call({ type: 'catchUp', storedThrough: -1, snapshotVersion: 0 })
        expect(r.ok).toBe(true)
        answers++
        resent += resentBytes(r)
        if (r.ok && r.persist!.entries.length > 0) withEntries++
      }
    })
    // Meanwhile the honest connection pays, one after another, until the loops end.
    const latencies: number[] = []
    let looping = true
    const payments = (async () => {
      while (looping) {
        const p = pay()
        const s0 = Date.now()
        const r = await host.agentSign(p)
        latencies.push(Date.now() - s0)
        expect(r.ok).toBe(true)
        expect(await verifyPayment(wallet, p.parsed, (r as { result: AgentSignOk }).result.signature)).toBe(true)
      }
    })()
    await Promise.all(loops)
    const elapsedMs = Date.now() - t0
    looping = false
    await payments
    for (const c of conns) c.close()
    const budget = CATCH_UP_RESEND_BURST_BYTES + (CATCH_UP_RESEND_BYTES_PER_S * elapsedMs) / 1000
    const mib = (b: number) => (b / 2 ** 20).toFixed(1)
    console.log(
      `catchUp flood: ${answers} catchUps in ${elapsedMs} ms, ${withEntries} re-sent entries, ${mib(resent)} MiB re-sent (budget ${mib(budget)} MiB); ` +
        `${latencies.length} payments meanwhile, max ${Math.max(...latencies)} ms, median ${latencies.sort((a, b) => a - b)[latencies.length >> 1]} ms`,
    )
    expect(answers).toBe(4 * PER_CONN)
    expect(resent).toBeLessThanOrEqual(budget)
    expect(latencies.length).toBeGreaterThan(0)
    expect(Math.max(...latencies)).toBeLessThan(10_000)

    // Nothing was dropped: once the budget has refilled, one catchUp re-sends every kept entry (3,400 denials + payments).
    let all: ResponseFrame | null = null
    const until = Date.now() + 15_000
    while (Date.now() < until) {
      const r = await host.call({ type: 'catchUp', storedThrough: -1, snapshotVersion: 0 })
      if (r.ok && r.persist!.entries.length > 0) {
        all = r
        break
      }
      await new Promise((r) => setTimeout(r, 250))
    }
    expect(all?.ok && all.persist!.entries.length).toBeGreaterThanOrEqual(3_400 + latencies.length)
  }, 180_000)
})
