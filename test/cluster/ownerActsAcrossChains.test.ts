import type { Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { OwnerMarks } from '../../cli/lib/OwnerMarks.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { type Cluster, startCluster } from '../../scripts/lib/startCluster.js'
import { waitFor } from '../../scripts/lib/startStack.js'
import { paymentPolicy } from '../helpers/agentClient.js'
import { pgQuery } from '../helpers/cluster.js'
import { freshDatabase, releasePostgres } from '../helpers/postgres.js'

const TTL_MS = 2_000

async function holderOf(url: string, wallet: string): Promise<{ holder: string; epoch: number } | undefined> {
  const r = await pgQuery<{ holder: string; epoch: string }>(url, 'SELECT holder, epoch FROM wallet_leases WHERE wallet = $1 AND expires_at > clock_timestamp()', [wallet.toLowerCase()])
  return r[0] && { holder: r[0].holder, epoch: Number(r[0].epoch) }
}

/**
 * fix15 (verify15's finding): per-wallet leases, 2 pairs, each enclave on its own chain. The owner talks to ONE host
 * (its marks are per host URL); W is held by the other pair (acts forwarded). Then W's holder is SIGKILLed and the
 * owner's host takes W onto its own chain: the next act's receipt names that chain, whose state version and audit seq
 * are unrelated to the old chain's — before fix15 the CLI refused it as state_rollback_detected. A real rollback on
 * the new chain (a receipt behind what the owner's marks hold for it) is still refused.
 */
describe('owner acts across chains: a wallet moved to another pair is not a rollback', () => {
  let cluster: Cluster
  let databaseUrl: string
  beforeAll(async () => {
    databaseUrl = await freshDatabase()
    cluster = await startCluster({ databaseUrl, pairs: 2, env: { BURSAR_CLUSTER_LEASES: 'wallet', BURSAR_LEASE_TTL_MS: String(TTL_MS) } })
    await cluster.waitReady(60_000)
  }, 120_000)
  afterAll(async () => {
    await cluster?.stop()
    releasePostgres()
  })

  it('acts on W before and after it moves to the owner host\'s pair (another chain) succeed; a receipt behind the marks is refused', async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    const urls = cluster.pairs.map((p) => p.url)
    // A wallet created at pair 1 is claimed by pair 1 (its creator); the owner's host is pair 2.
    const W = (await new OwnerClient(urls[0]!, owner).createWallet('moves')).wallet as Hex
    await waitFor(async () => (await holderOf(databaseUrl, W))?.holder === 'pair-1', 20_000, 'W leased to pair 1')
    const { agentKey } = await setupAgent({ host: urls[0]!, owner, wallet: W, policy: paymentPolicy({ perTx: '1000', rolling24h: '100000' }) })
    const marks = new OwnerMarks(null)
    const client = new OwnerClient(urls[1]!, owner, { marks })
    const freeze = (frozen: boolean) => client.act('FreezeAgent', W, { agentId: agentKey.agentId, frozen })
    const chains = new Set<string>()
    for (const frozen of [true, false, true]) chains.add((await freeze(frozen)).receipt.chain ?? '')
    const before = marks.wallet(client.host, W)!
    expect([...chains]).toEqual([before.chain ?? '']) // '' = the root chain (the pair that started the lineage writes it)

    const epoch = (await holderOf(databaseUrl, W))!.epoch
    cluster.pairs[0]!.signal('SIGKILL')
    await waitFor(async () => {
      const h = await holderOf(databaseUrl, W)
      return h?.holder === 'pair-2' && h.epoch > epoch
    }, 30_000, 'W taken by pair 2')
    // The load follows the takeover: resend until pair 2 serves W (503 lease_not_held / wallet_not_loaded meanwhile).
    let moved: Awaited<ReturnType<typeof freeze>> | undefined
    await waitFor(async () => {
      try {
        moved = await freeze(false)
        return true
      } catch (err) {
        const code = (err as { code?: string }).code
        if (code === 'state_rollback_detected') throw err
        return false
      }
    }, 30_000, 'an owner act on W at pair 2')
    const after = marks.wallet(client.host, W)!
    expect(moved!.receipt.chain ?? '').not.toBe(before.chain ?? '')
    expect(after.chain).toBe(moved!.receipt.chain)
    expect(after.ownerSeq).toBe(before.ownerSeq + 1) // the owner seq follows the wallet across chains
    expect((await freeze(true)).receipt.ownerSeq).toBe(after.ownerSeq + 1)

    // A real rollback still shows: marks holding a newer state of this chain than the enclave's next receipt.
    const now = marks.wallet(client.host, W)!
    marks.record(client.host, W, { ...now, stateVersion: now.stateVersion + 1_000, auditSeq: now.auditSeq + 1_000 })
    await expect(freeze(false)).rejects.toMatchObject({ code: 'state_rollback_detected' })
  }, 120_000)
})
