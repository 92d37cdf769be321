import type { Hex } from 'viem'
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { requestSignature } from '../../agent/requestSignature.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { FORWARDED } from '../../host/cluster/forward.js'
import { preferredHost } from '../../host/cluster/placement.js'
import { OWNER_LIMITS } from '../../shared/owner/ownerLimits.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { type Cluster, type ClusterPair, startCluster } from '../../scripts/lib/startCluster.js'
import { waitFor } from '../../scripts/lib/startStack.js'
import { eip3009, paymentPolicy, signedBody, waitAgentFloor } from '../helpers/agentClient.js'
import { freshDatabase, releasePostgres } from '../helpers/postgres.js'

const NODES = ['pair-1', 'pair-2']

/**
 * Attack (agent / stranger, issue 15 step 4 forwarding by wallet): the router reads the wallet from the body before
 * parsing (a top-level `wallet` first, then the signed request's), the enclave from the signed request only. A body
 * naming wallet Y (held HERE) at the top level and wallet X (held by the other pair) in its signed request is served
 * here by an enclave that does not hold X; and a request carrying the forwarded header as if it came from a peer.
 * Defence confirmed: the local enclave refuses X (no signature, no entry naming X, so no persist the per-wallet
 * fence would refuse: the pair does not crash); the forged forwarded header is answered 503 lease_not_held, never
 * forwarded again (no loop); the same request sent plainly is forwarded and signed.
 */
describe('adversarial: a body names one wallet to the router and another to the enclave', () => {
  let cluster: Cluster
  let X: Hex
  let Y: Hex
  let agentKey: AgentKey
  let here: ClusterPair
  beforeAll(async () => {
    cluster = await startCluster({ databaseUrl: await freshDatabase(), pairs: 2, env: { BURSAR_CLUSTER_LEASES: 'wallet', BURSAR_LEASE_TTL_MS: '2000' } })
    await cluster.waitReady(60_000)
    // An owner holds at most OWNER_LIMITS.walletsPerOwner wallets, and all of one owner's can prefer the same pair
    // (1 run in 8 with 4): the next wallets then get a new owner. X's owner sets up the agent.
    const made: { wallet: Hex; owner: PrivateKeyAccount }[] = []
    const on = (pair: string) => made.find((m) => preferredHost(m.wallet.toLowerCase(), NODES) === pair)
    while (!(on('pair-1') && on('pair-2'))) {
      const mine = made.length % OWNER_LIMITS.walletsPerOwner
      const owner = mine === 0 ? privateKeyToAccount(generatePrivateKey()) : made.at(-1)!.owner
      made.push({ wallet: (await new OwnerClient(cluster.pairs[0]!.url, owner).createWallet(`w${made.length}`)).wallet, owner })
    }
    const owner = on('pair-1')!.owner
    X = on('pair-1')!.wallet
    Y = on('pair-2')!.wallet
    here = cluster.pairs[1]! // pair-2: holds Y, not X
    const held = async (p: ClusterPair, w: Hex) =>
      ((await (await fetch(`${p.url}/v1/cluster`, { headers: { authorization: `Bearer ${cluster.auditToken}` } })).json()) as { held: { wallet: string }[] }).held.some((h) => h.wallet === w.toLowerCase())
    await waitFor(async () => (await held(cluster.pairs[0]!, X)) && (await held(here, Y)), 30_000, 'X on pair-1, Y on pair-2')
    agentKey = (await setupAgent({ host: cluster.pairs[0]!.url, owner, wallet: X, policy: paymentPolicy({ perTx: '1000', rolling24h: '10000' }) })).agentKey
    await waitAgentFloor()
  }, 120_000)
  afterAll(async () => {
    await cluster?.stop()
    releasePostgres()
  })

  it('no signature for X from the pair that does not hold it, no crash, no forwarding loop', async () => {
    const post = async (body: unknown, headers: Record<string, string> = {}) => {
      const r = await fetch(`${here.url}/v1/agent/sign`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
      return { status: r.status, json: (await r.json()) as Record<string, unknown> }
    }
    const op = () => eip3009({ wallet: X, value: 1_000n })
    const mislabelled = await post({ ...signedBody({ agentKey, wallet: X, operation: op() }), wallet: Y })
    expect(mislabelled.status).not.toBe(200)
    expect(mislabelled.json.signature).toBeUndefined()
    const looped = await post(signedBody({ agentKey, wallet: X, operation: op() }), { [FORWARDED]: 'pair-1' })
    expect(looped).toMatchObject({ status: 503, json: { code: 'lease_not_held' } })
    // pair-2 still runs and forwards X's plain request to pair-1, which signs it.
    const ok = await requestSignature({ host: here.url, agentKey, wallet: X, operation: op() })
    expect(ok.signature).toMatch(/^0x[0-9a-f]{130}$/)
    expect(((await (await fetch(`${here.url}/v1/cluster`)).json()) as { role: string }).role).toBe('running')
  }, 30_000)
})
