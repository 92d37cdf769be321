import pg from 'pg'
import type { Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { requestSignature } from '../../agent/requestSignature.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { type Cluster, startCluster } from '../../scripts/lib/startCluster.js'
import { waitFor } from '../../scripts/lib/startStack.js'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { eip3009, paymentPolicy, postSign, signedBody, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'
import { exitOf } from '../helpers/cluster.js'
import { freshDatabase, releasePostgres } from '../helpers/postgres.js'

const AMOUNT = 1_000n
const policy = paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * 100n).toString() })

/**
 * Scale-out by static partition (issue 15): two wallet groups on one PostgreSQL, each in its own schema. Pairs 1 and
 * 3 serve group g1 (a holder and a standby), pair 2 serves g2. Each group signs for its own wallets with its own
 * chain; a wallet is unknown to the other group's enclave; a failover in g1 does not stop g2.
 */
describe('cluster: two wallet groups share one PostgreSQL', () => {
  let cluster: Cluster
  const groups: Record<'g1' | 'g2', { wallet: Hex; agentKey: AgentKey }> = {} as never
  beforeAll(async () => {
    cluster = await startCluster({ databaseUrl: await freshDatabase(), pairs: 3, groups: ['g1', 'g2'], env: { BURSAR_LEASE_TTL_MS: '2000' } })
    for (const [g, pair] of [['g1', cluster.pairs[2]!], ['g2', cluster.pairs[1]!]] as const) {
      expect(pair.group).toBe(g)
      const owner = privateKeyToAccount(generatePrivateKey())
      const { wallet } = await new OwnerClient(pair.url, owner).createWallet(g)
      const { agentKey } = await setupAgent({ host: pair.url, owner, wallet, policy })
      groups[g] = { wallet, agentKey }
    }
    await waitAgentFloor()
  }, 120_000)
  afterAll(async () => {
    await cluster?.stop()
    releasePostgres()
  })
  const pay = (g: 'g1' | 'g2', host: string) => {
    const { wallet, agentKey } = groups[g]
    const operation = eip3009({ wallet, value: AMOUNT })
    return requestSignature({ host, agentKey, wallet, operation }).then(async (r) => {
      expect(await verifyEip3009(wallet, operation, r.signature)).toBe(true)
      return r
    })
  }
  const chain = async (schema: string) => {
    const c = new pg.Client({ connectionString: cluster.databaseUrl })
    await c.connect()
    try {
      return (await c.query<{ body: string }>(`SELECT body FROM ${schema}.audit_entries ORDER BY seq`)).rows.map((r) => JSON.parse(r.body) as AuditEntry)
    } finally {
      await c.end()
    }
  }

  it('each group signs its own wallets on its own chain; the other group does not know them; a g1 failover leaves g2 serving', async () => {
    const [p1, p2, p3] = cluster.pairs as [Cluster['pairs'][0], Cluster['pairs'][0], Cluster['pairs'][0]]
    for (const host of [p1.url, p3.url]) await pay('g1', host)
    for (let i = 0; i < 2; i++) await pay('g2', p2.url)
    // A g1 wallet at g2's host: its enclave never saw it (no forwarding across groups).
    const g1Key = groups.g1
    const wrong = await postSign(p2.url, signedBody({ agentKey: g1Key.agentKey, wallet: g1Key.wallet, operation: eip3009({ wallet: g1Key.wallet, value: AMOUNT }) }))
    expect(wrong.json.signature).toBeUndefined()
    expect(wrong.json.code).toBe('wallet_not_found')

    // g1's holder dies (not restarted); g2 keeps signing at once; g1's standby takes over.
    const h1 = (await Promise.all([p1, p3].map(async (p) => ((await (await fetch(`${p.url}/v1/cluster`)).json()) as { role: string }).role === 'holder')))
    const holder = h1[0] ? p1 : p3
    const standby = holder === p1 ? p3 : p1
    const gone = exitOf(holder.host)
    holder.signal('SIGKILL')
    await gone
    await pay('g2', p2.url)
    await waitFor(async () => (await fetch(`${standby.url}/readyz`)).ok, 30_000, 'g1 standby takes over', standby.logs)
    await pay('g1', standby.url)

    const [c1, c2] = [await chain('g_g1'), await chain('g_g2')]
    for (const [c, g, allowed] of [[c1, 'g1', 3], [c2, 'g2', 3]] as const) {
      expect(c.map((e) => e.seq)).toEqual(c.map((_, i) => i)) // its own gapless chain from seq 0
      const wallets = new Set(c.filter((e) => e.wallet).map((e) => e.wallet!.toLowerCase()))
      expect(wallets).toEqual(new Set([groups[g].wallet.toLowerCase()]))
      expect(c.filter((e) => e.event === 'sign_allowed')).toHaveLength(allowed)
    }
  }, 120_000)
})
