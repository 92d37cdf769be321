import { afterAll, describe, expect, it } from 'vitest'
import { requestSignature } from '../../agent/requestSignature.js'
import { waitFor } from '../../scripts/lib/startStack.js'
import { eip3009, paymentPolicy } from '../helpers/agentClient.js'
import { type ClusterWithAgent, clusterWithAgent, exitOf, storedEntries } from '../helpers/cluster.js'
import { releasePostgres } from '../helpers/postgres.js'

const policy = paymentPolicy({ perTx: '1000', rolling24h: '5000' })
const env = { BURSAR_LEASE_TTL_MS: '2000' }

/**
 * Scale-out: a host restarted alone finds its enclave still loaded. It may serve again only if nobody wrote after
 * that enclave's audit head (its state is the store's); if another holder served meanwhile, it gives the lease up
 * and exits instead of signing from a state that misses the other holder's spends.
 */
describe('cluster: a host restarted alone next to its still-loaded enclave', () => {
  const clusters: ClusterWithAgent[] = []
  afterAll(async () => {
    for (const c of clusters) await c.cluster.stop()
    releasePostgres()
  })
  const pay = (s: ClusterWithAgent, host: string) =>
    requestSignature({ host, agentKey: s.agentKey, wallet: s.wallet, operation: eip3009({ wallet: s.wallet, value: 1000n }) })

  it('resumes under a new lease when its enclave\'s head is the store\'s newest entry', async () => {
    const s = await clusterWithAgent(policy, { pairs: 1, env })
    clusters.push(s)
    const a = s.cluster.pairs[0]!
    await pay(s, a.url)
    const exit = exitOf(a.host)
    a.host.kill('SIGKILL')
    await exit
    await a.startHost()
    await waitFor(async () => (await fetch(`${a.url}/readyz`, { signal: AbortSignal.timeout(5_000) }).catch(() => null))?.ok === true, 20_000, 'host ready again', a.logs)
    expect(a.logs.join('')).toMatch(/enclave ready under a new lease \(kept running, head \d+ is the store's newest\)/)
    await pay(s, a.url)
    const entries = await storedEntries(s.cluster.databaseUrl)
    expect(entries.filter((e) => e.event === 'sign_allowed')).toHaveLength(2)
    expect(new Set(entries.map((e) => e.storedEpoch))).toEqual(new Set([1, 2]))
  }, 120_000)

  it('exits (lease given up) when another holder wrote after its enclave\'s head', async () => {
    const s = await clusterWithAgent(policy, { pairs: 2, env })
    clusters.push(s)
    const a = (await s.cluster.holder())!.pair
    const b = s.cluster.pairs.find((p) => p !== a)!
    const killed = exitOf(a.host)
    a.host.kill('SIGKILL') // A's enclave keeps running with its state
    await killed
    await waitFor(async () => (await s.cluster.holder())?.pair === b && (await fetch(`${b.url}/readyz`, { signal: AbortSignal.timeout(5_000) })).ok, 20_000, 'B takes over')
    await pay(s, b.url) // B writes after A's enclave's head
    await b.stop()
    await a.startHost()
    expect(await exitOf(a.host, 60_000)).toBe(75)
    expect(a.logs.join('')).toMatch(/lease lost \(epoch 3\): the enclave's audit head \d+ is not the store's \d+ \(another holder served\)/)
    // Nothing was stored by the stale enclave: one chain, every entry under epoch 1 or 2.
    const entries = await storedEntries(s.cluster.databaseUrl)
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i))
    expect(entries.every((e) => e.storedEpoch === 1 || e.storedEpoch === 2)).toBe(true)
  }, 120_000)
})
