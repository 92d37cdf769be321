import type { Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { requestSignature } from '../../agent/requestSignature.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { preferredHost } from '../../host/cluster/placement.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { type Cluster, type ClusterPair, startCluster } from '../../scripts/lib/startCluster.js'
import { waitFor } from '../../scripts/lib/startStack.js'
import { eip3009, paymentPolicy, postSign, signedBody, waitAgentFloor } from '../helpers/agentClient.js'
import { exitOf, pgQuery as query } from '../helpers/cluster.js'
import { freshDatabase, releasePostgres } from '../helpers/postgres.js'

const AMOUNT = 1_000n
const ALLOWED = 10
const BEFORE_PAUSE = 3
const NODES = ['pair-1', 'pair-2']

/**
 * Attack / fault (issue 15 step 4, per-wallet leases): the pair holding wallet W's lease is paused (SIGSTOP) past
 * it, the other pair takes W's lease (epoch + 1), loads W and spends the rest of the agent's cap; then the stale
 * pair resumes with requests for W waiting on it. Its enclave still holds W and believes budget is left. With the
 * host's local lease clock and renewal refusals switched off (test hook), only the database's per-wallet fencing
 * (`bursar_fence_wallets`, in the persist's own statement) stands: nothing it decides for W is stored or released.
 */
describe('adversarial: a stale wallet lease holder resumes after another pair took the wallet', () => {
  let cluster: Cluster
  let databaseUrl: string
  let W: Hex
  let agentKey: AgentKey
  beforeAll(async () => {
    databaseUrl = await freshDatabase()
    cluster = await startCluster({
      databaseUrl,
      pairs: 2,
      env: { BURSAR_CLUSTER_LEASES: 'wallet', BURSAR_LEASE_TTL_MS: '2000', BURSAR_TEST_ONLY_DB_FENCING: '1' },
    })
    await cluster.waitReady(60_000)
    const owner = privateKeyToAccount(generatePrivateKey())
    W = (await new OwnerClient(cluster.pairs[0]!.url, owner).createWallet('stale')).wallet
    agentKey = (await setupAgent({ host: cluster.pairs[1]!.url, owner, wallet: W, policy: paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * BigInt(ALLOWED)).toString() }) })).agentKey
    await waitAgentFloor()
  }, 120_000)
  afterAll(async () => {
    await cluster?.stop()
    releasePostgres()
  })

  it('cannot store or release a signature for the wallet it lost; the cap holds exactly', async () => {
    const pay = (host: string) => requestSignature({ host, agentKey, wallet: W, operation: eip3009({ wallet: W, value: AMOUNT }) })
    // W settles on its preferred pair (its creator hands it back if that is the other one).
    const w = W.toLowerCase()
    const holderRow = async () => (await query<{ holder: string; epoch: string }>(databaseUrl, 'SELECT holder, epoch FROM wallet_leases WHERE wallet = $1 AND expires_at > clock_timestamp()', [w]))[0]
    await waitFor(async () => (await holderRow())?.holder === preferredHost(w, NODES), 30_000, 'W on its preferred pair')
    const before = (await holderRow())!
    const a = cluster.pairs.find((p) => `pair-${p.index + 1}` === before.holder)!
    const b = cluster.pairs.find((p) => p !== a) as ClusterPair
    const served = async (p: ClusterPair) => ((await (await fetch(`${p.url}/v1/cluster`, { headers: { authorization: `Bearer ${cluster.auditToken}` } })).json()) as { held: { wallet: string }[] }).held.some((h) => h.wallet === w)
    await waitFor(() => served(a), 20_000, 'W loaded on its holder')
    const fromA = []
    for (let i = 0; i < BEFORE_PAUSE; i++) fromA.push(await pay(a.url))

    a.signal('SIGSTOP')
    await waitFor(() => served(b), 20_000, 'the other pair takes and loads W')
    const after = (await holderRow())!
    expect(Number(after.epoch)).toBeGreaterThan(Number(before.epoch))
    const fromB = []
    for (let i = BEFORE_PAUSE; i < ALLOWED; i++) fromB.push(await pay(b.url))
    await expect(pay(b.url)).rejects.toMatchObject({ code: 'policy_daily_cap_exceeded' })

    // Requests for W straight to the stale host, queued while it is paused; its enclave would still sign 7 of them.
    const stale = Array.from({ length: 5 }, () => signedBody({ agentKey, wallet: W, operation: eip3009({ wallet: W, value: AMOUNT }) }))
    const answers = stale.map((body) => postSign(a.url, body).catch((err: Error) => ({ status: 0, json: { code: `network: ${err.message}` } })))
    const hostExit = exitOf(a.host, 60_000)
    a.signal('SIGCONT')
    const got = await Promise.all(answers)
    for (const g of got) {
      expect(g.status).not.toBe(200)
      expect((g.json as Record<string, unknown>).signature).toBeUndefined()
    }
    expect(await hostExit).toBe(75) // crash-only: the stale pair stops; its enclave is never used again
    expect(a.logs.join('')).toMatch(/wallet lease lost: wallet lease of 0x[0-9a-f]{40} is no longer held: persist refused/)
    // The stale holder cannot hand W's lease back either (its epoch is not the row's).
    const released = await query(databaseUrl, "UPDATE wallet_leases SET expires_at = clock_timestamp() WHERE wallet = $1 AND holder = $2 AND epoch = $3 AND expires_at > clock_timestamp() RETURNING 1", [w, before.holder, Number(before.epoch)])
    expect(released).toEqual([])

    const entries = (await query<{ body: string }>(databaseUrl, 'SELECT body FROM audit_entries ORDER BY chain, seq')).map((r) => JSON.parse(r.body) as { event: string; agentId?: string; signedHash?: string })
    const allowed = entries.filter((e) => e.event === 'sign_allowed' && e.agentId === agentKey.agentId)
    expect(allowed.map((e) => e.signedHash!.toLowerCase()).sort()).toEqual([...fromA, ...fromB].map((r) => r.signedHash.toLowerCase()).sort())
  }, 120_000)
})
