import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requestSignature } from '../../agent/requestSignature.js'
import { eip3009, paymentPolicy, pool, runCli, verifyEip3009 } from '../helpers/agentClient.js'
import { type ClusterWithAgent, clusterWithAgent, storedEntries } from '../helpers/cluster.js'
import { releasePostgres } from '../helpers/postgres.js'

const AMOUNT = 1_000n
const ALLOWED = 41
const REQUESTS = 1_000

/**
 * Scale-out (issue 15): 3 host + enclave pairs on one PostgreSQL. 1,000 payments for one agent, at once, spread
 * over all three hosts: the two standbys forward to the lease holder, whose single writer decides them all, so
 * exactly cap / amount are signed — each verified by viem and on the stored audit log exactly once.
 */
describe('cluster: 3 pairs, 1,000 parallel payments for one agent over all hosts stop exactly at the cap', () => {
  let s: ClusterWithAgent
  beforeAll(async () => {
    s = await clusterWithAgent(paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * BigInt(ALLOWED)).toString() }))
  }, 120_000)
  afterAll(async () => {
    await s?.cluster.stop()
    releasePostgres()
  })

  it(`signs exactly ${ALLOWED} of ${REQUESTS}; every signature verifies and is stored once; the rest are cap refusals`, async () => {
    const urls = s.cluster.pairs.map((p) => p.url)
    const t0 = performance.now()
    const results = await pool(Array.from({ length: REQUESTS }, (_, i) => i), 128, async (i) => {
      const operation = eip3009({ wallet: s.wallet, value: AMOUNT })
      try {
        const r = await requestSignature({ host: urls[i % urls.length]!, agentKey: s.agentKey, wallet: s.wallet, operation })
        return { ok: true as const, operation, signature: r.signature as Hex, signedHash: r.signedHash }
      } catch (err) {
        return { ok: false as const, code: String((err as { code?: string }).code) }
      }
    })
    const ms = performance.now() - t0
    console.log(`[cluster cap] ${REQUESTS} payments over ${urls.length} hosts in ${ms.toFixed(0)} ms (${((REQUESTS / ms) * 1000).toFixed(0)}/s)`)
    const signed = results.filter((r) => r.ok)
    const refused = results.filter((r) => !r.ok)
    expect(signed).toHaveLength(ALLOWED)
    expect(new Set(refused.map((r) => r.code))).toEqual(new Set(['policy_daily_cap_exceeded']))
    for (const r of signed) expect(await verifyEip3009(s.wallet, r.operation, r.signature)).toBe(true)

    const entries = await storedEntries(s.cluster.databaseUrl)
    const allowed = entries.filter((e) => e.event === 'sign_allowed' && e.agentId === s.agentKey.agentId)
    expect(allowed).toHaveLength(ALLOWED)
    expect(new Set(allowed.map((e) => e.signedHash!.toLowerCase()))).toEqual(new Set(signed.map((r) => r.signedHash.toLowerCase())))
    // One chain, gapless, written under one epoch.
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i))
    expect(new Set(entries.map((e) => e.storedEpoch))).toEqual(new Set([1]))
  }, 180_000)

  it('bursar audit verify accepts the whole cluster\'s chain through a standby host', async () => {
    const holder = (await s.cluster.holder())!.pair
    const standby = s.cluster.pairs.find((p) => p !== holder)!
    const ready = (await (await fetch(`${standby.url}/readyz`)).json()) as { receiptPublicKey: string }
    const r = await runCli(['audit', 'verify', '--host', standby.url, '--public-key', ready.receiptPublicKey, '--token', s.cluster.auditToken])
    expect(r.code, r.stdout + r.stderr).toBe(0)
  }, 60_000)
})
