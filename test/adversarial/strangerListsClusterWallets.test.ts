import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { type Cluster, startCluster } from '../../scripts/lib/startCluster.js'
import { waitFor } from '../../scripts/lib/startStack.js'
import { freshDatabase, releasePostgres } from '../helpers/postgres.js'

/**
 * Attack (stranger, issue 15 step 4 per-wallet mode): `GET /v1/cluster` answered anyone with every wallet lease row
 * (every wallet address of the cluster, its holder and the holder's internal URL) and the wallets this host serves:
 * the enumeration strangerReadsAllWallets closed for `GET /v1/wallets` (owner or operator token only), open again
 * through the cluster view, plus the cluster's internal topology.
 *
 * Fix: without the operator token (`Authorization: Bearer <BURSAR_AUDIT_TOKEN>`) the view says only the mode, this
 * host's node name, its role and how many wallets it serves; the lists need the operator token.
 */
describe('adversarial: a stranger lists every wallet of a per-wallet cluster through /v1/cluster', () => {
  let cluster: Cluster
  let wallet: string
  beforeAll(async () => {
    cluster = await startCluster({ databaseUrl: await freshDatabase(), pairs: 1, env: { BURSAR_CLUSTER_LEASES: 'wallet', BURSAR_LEASE_TTL_MS: '2000' } })
    await cluster.waitReady(60_000)
    wallet = (await new OwnerClient(cluster.pairs[0]!.url, privateKeyToAccount(generatePrivateKey())).createWallet('private')).wallet.toLowerCase()
  }, 90_000)
  afterAll(async () => {
    await cluster?.stop()
    releasePostgres()
  })

  it('answers a stranger without wallet addresses or host URLs; the operator still sees every holder', async () => {
    const url = cluster.pairs[0]!.url
    const operator = { authorization: `Bearer ${cluster.auditToken}` }
    const view = async (headers: Record<string, string> = {}) => (await fetch(`${url}/v1/cluster`, { headers })).json() as Promise<Record<string, unknown>>
    const leased = async () => ((await view(operator)).leases as { wallet: string }[] | undefined)?.some((l) => l.wallet === wallet) === true
    await waitFor(leased, 15_000, 'the wallet\'s lease in the operator view')
    expect(await view(operator)).toMatchObject({ mode: 'wallet', role: 'running', held: [{ wallet }] })
    for (const headers of [{}, { authorization: 'Bearer not-the-token' }] as Record<string, string>[]) {
      const seen = await view(headers)
      const text = JSON.stringify(seen)
      expect(text).not.toContain(wallet)
      expect(text).not.toMatch(/0x[0-9a-f]{40}/i)
      expect(text).not.toContain('http')
      expect(seen).toMatchObject({ mode: 'wallet', role: 'running', served: 1 })
    }
  }, 30_000)
})
