import { randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { type Cluster, startCluster } from '../../scripts/lib/startCluster.js'
import { freshDatabase, releasePostgres } from '../helpers/postgres.js'

/**
 * KNOWN LIMIT (rt32a, reproduced by fix35; NOTES): per-wallet leases, 2 pairs, each enclave on its own chain started
 * from the same root core. A CreateWallet's nonce is remembered only in the state of the chain that applied it, so
 * the same signed act sent again to the other pair (by the host, or anyone who saw it within its 10-minute window)
 * passes that enclave's replay check and makes a second wallet for the owner (a fresh random key, no funds; it
 * counts against the owner's wallet limit). One pair refuses the resend (`owner_act_replayed`); the other does not.
 * `it.fails`: this test records the bug and must be flipped to `it` by the fix (governance's nonce check: see
 * NOTES fix35 for what it needs).
 */
describe('known limit: a replayed CreateWallet on another pair’s chain', () => {
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

  it.fails('the same signed act at the other pair is refused (owner_act_replayed), not a second wallet', async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    const message = { owner: owner.address, label: 'once', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()) }
    const body = await signOwnerAct({ account: owner, primaryType: 'CreateWallet', message })
    const [a, b] = cluster.pairs.map((p) => p.url) as [string, string]
    const first = await send(a, body)
    expect(first.status, JSON.stringify(first.json)).toBe(200)
    expect(first.json.wallet).toMatch(/^0x[0-9a-fA-F]{40}$/)
    // The same pair remembers the nonce.
    expect((await send(a, body)).json.code).toBe('owner_act_replayed')
    // The other pair's chain started from a root core without it.
    const again = await send(b, body)
    expect(again.json.wallet ?? null, `a second wallet ${again.json.wallet} for one signed CreateWallet`).toBeNull()
    expect(again.json.code).toBe('owner_act_replayed')
  }, 60_000)
})
