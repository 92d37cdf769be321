import { randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { type Cluster, startCluster } from '../../scripts/lib/startCluster.js'
import { auditChainOf } from '../helpers/auditChainOf.js'
import { freshDatabase, releasePostgres } from '../helpers/postgres.js'

/**
 * rt32a (reproduced by fix35, fixed by gov36): per-wallet leases, 2 pairs, each enclave on its own chain started from
 * the same root core. A CreateWallet's nonce is remembered only in the state of the chain that applied it, so the same
 * signed act sent again to the other pair (by the host, or anyone who saw it within its 10-minute window) used to pass
 * that enclave's replay check and make a second wallet for the owner. Now the act names the audit chain it was signed
 * for (`auditChain`: core id ‖ chain id, from GET /v1/attestation) and governance refuses it on any other chain
 * (`owner_act_wrong_chain`). One pair refuses the resend as `owner_act_replayed`, the other as `owner_act_wrong_chain`.
 */
describe('a replayed CreateWallet on another pair’s chain', () => {
  let cluster: Cluster
  beforeAll(async () => {
    cluster = await startCluster({ databaseUrl: await freshDatabase(), pairs: 2, env: { BURSAR_CLUSTER_LEASES: 'wallet', BURSAR_LEASE_TTL_MS: '2000' } })
    await cluster.waitReady(60_000)
  }, 120_000)
  afterAll(async () => {
    await cluster?.stop()
    releasePostgres()
  })

  const send = async (url: string, body: unknown) => {
    const r = await fetch(`${url}/v1/owner/acts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return { status: r.status, json: (await r.json()) as { wallet?: string; code?: string } }
  }
  const wallets = async (url: string) => {
    const r = await fetch(`${url}/v1/wallets`, { headers: { authorization: `Bearer ${cluster.auditToken}` } })
    return ((await r.json()) as { wallets: Array<{ owner: string }> }).wallets
  }

  it('the same signed act at the other pair is refused (owner_act_wrong_chain), not a second wallet', async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    const [a, b] = cluster.pairs.map((p) => p.url) as [string, string]
    const [chainA, chainB] = [await auditChainOf(a), await auditChainOf(b)]
    // Same lineage (core id, the first 16 bytes), two chains.
    expect(chainA.slice(0, 34)).toBe(chainB.slice(0, 34))
    expect(chainA).not.toBe(chainB)
    const message = { owner: owner.address, label: 'once', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: chainA }
    const body = await signOwnerAct({ account: owner, primaryType: 'CreateWallet', message })
    const first = await send(a, body)
    expect(first.status, JSON.stringify(first.json)).toBe(200)
    expect(first.json.wallet).toMatch(/^0x[0-9a-fA-F]{40}$/)
    // The same pair remembers the nonce.
    expect((await send(a, body)).json.code).toBe('owner_act_replayed')
    // The other pair's chain started from a root core without it: the act names pair A's chain.
    const again = await send(b, body)
    expect(again.json.wallet ?? null, `a second wallet ${again.json.wallet} for one signed CreateWallet`).toBeNull()
    expect([again.status, again.json.code]).toEqual([409, 'owner_act_wrong_chain'])
    const mine = (ws: Array<{ owner: string }>) => ws.filter((w) => w.owner.toLowerCase() === owner.address.toLowerCase()).length
    expect(mine(await wallets(a)) + mine(await wallets(b))).toBe(1)
    // The honest path at B: an act signed for B's chain makes the owner's wallet there.
    const forB = await signOwnerAct({ account: owner, primaryType: 'CreateWallet', message: { ...message, nonce: `0x${randomBytes(32).toString('hex')}`, auditChain: chainB } })
    const second = await send(b, forB)
    expect(second.status, JSON.stringify(second.json)).toBe(200)
  }, 60_000)
})
