import type { Hex, LocalAccount } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { requestSignature } from '../../agent/requestSignature.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { preferredHost } from '../../host/cluster/placement.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { type Cluster, startCluster } from '../../scripts/lib/startCluster.js'
import { waitFor } from '../../scripts/lib/startStack.js'
import { eip3009, paymentPolicy, pool, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'
import { pgQuery } from '../helpers/cluster.js'
import { freshDatabase, releasePostgres } from '../helpers/postgres.js'

const AMOUNT = 1_000n
const ALLOWED = 41
const REQUESTS = 1_000
const TTL_MS = 2_000
const NODES = ['pair-1', 'pair-2', 'pair-3']

type Row = { chain: string; seq: number; event: string; wallet: string | null; agentId: string | null; signedHash?: string }

/** Every stored entry of every chain (read directly). */
async function rows(url: string): Promise<Row[]> {
  return (await pgQuery<{ chain: string; seq: string; body: string }>(url, 'SELECT chain, seq, body FROM audit_entries ORDER BY chain, seq')).map((x) => ({
    ...(JSON.parse(x.body) as Row),
    chain: x.chain,
    seq: Number(x.seq),
  }))
}

async function leases(url: string): Promise<Map<string, { holder: string; epoch: number }>> {
  const r = await pgQuery<{ wallet: string; holder: string; epoch: string }>(url, 'SELECT wallet, holder, epoch FROM wallet_leases WHERE expires_at > clock_timestamp()')
  return new Map(r.map((x) => [x.wallet, { holder: x.holder, epoch: Number(x.epoch) }]))
}

/**
 * Per-wallet leases (issue 15 step 4), real processes: 3 host + enclave pairs on one PostgreSQL, each enclave on its
 * own audit chain. 20 wallets are created through all three hosts and placed over the pairs by rendezvous hashing
 * (each pair holds some; the stored leases show it); 1,000 parallel payments for one agent spread over all three
 * hosts are forwarded to the wallet's holder and stop exactly at the cap; then the pair holding that wallet is
 * SIGKILLed under load, another pair takes the wallet's lease and loads it, and every signature received is on the
 * stored log exactly once with the cap held exactly.
 */
describe('cluster, per-wallet leases: placement over 3 pairs, the cap across hosts, failover of one wallet', () => {
  let cluster: Cluster
  let databaseUrl: string
  const wallets: Hex[] = []
  let owner: LocalAccount
  let agentKey: AgentKey
  let W: Hex
  beforeAll(async () => {
    databaseUrl = await freshDatabase()
    cluster = await startCluster({ databaseUrl, pairs: 3, supervise: true, env: { BURSAR_CLUSTER_LEASES: 'wallet', BURSAR_LEASE_TTL_MS: String(TTL_MS) } })
    await cluster.waitReady(60_000)
    try {
      await setup()
    } catch (err) {
      dump()
      throw err
    }
  }, 180_000)
  const setup = async () => {
    const urls = cluster.pairs.map((p) => p.url)
    for (let o = 0; o < 5; o++) {
      const who = privateKeyToAccount(generatePrivateKey())
      if (o === 0) owner = who
      for (let i = 0; i < 4; i++) wallets.push((await new OwnerClient(urls[(o * 4 + i) % 3]!, who).createWallet(`w${o}.${i}`)).wallet)
    }
    W = wallets[0]!
    agentKey = (await setupAgent({ host: urls[2]!, owner, wallet: W, policy: paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * BigInt(ALLOWED)).toString() }) })).agentKey
    await waitAgentFloor()
  }
  const dump = () => {
    for (const p of cluster.pairs) console.log(p.logs.join('').split('\n').filter((l) => /lease|lost|exit|refus|handed|loaded|lineage|chain/i.test(l)).slice(-40).map((l) => `pair ${p.index + 1}: ${l.slice(0, 400)}`).join('\n'))
  }
  afterAll(async () => {
    await cluster?.stop()
    releasePostgres()
  })

  it('places the 20 wallets over all three pairs by rendezvous hashing (the stored leases show it)', async () => {
    await waitFor(
      async () => {
        const l = await leases(databaseUrl)
        return wallets.every((w) => l.get(w.toLowerCase())?.holder === preferredHost(w, NODES))
      },
      60_000,
      'every wallet held by its preferred pair',
    )
    const l = await leases(databaseUrl)
    const per = NODES.map((n) => wallets.filter((w) => l.get(w.toLowerCase())?.holder === n).length)
    console.log(`[cluster wallets] wallets per pair: ${per.join(', ')}`)
    for (const n of per) expect(n).toBeGreaterThan(0)
    // Each host says which wallets it serves; together exactly the 20.
    const held = await Promise.all(cluster.pairs.map(async (p) => ((await (await fetch(`${p.url}/v1/cluster`, { headers: { authorization: `Bearer ${cluster.auditToken}` } })).json()) as { held: { wallet: string }[] }).held.map((h) => h.wallet)))
    expect(held.flat().sort()).toEqual(wallets.map((w) => w.toLowerCase()).sort())
  }, 90_000)

  it(`${REQUESTS} parallel payments for one agent over all three hosts stop exactly at the cap; each pair writes its own chain`, async () => {
    const urls = cluster.pairs.map((p) => p.url)
    const t0 = performance.now()
    const results = await pool(Array.from({ length: REQUESTS }, (_, i) => i), 128, async (i) => {
      const operation = eip3009({ wallet: W, value: AMOUNT })
      try {
        const r = await requestSignature({ host: urls[i % urls.length]!, agentKey, wallet: W, operation })
        return { ok: true as const, operation, signature: r.signature as Hex, signedHash: r.signedHash }
      } catch (err) {
        return { ok: false as const, code: String((err as { code?: string }).code) }
      }
    })
    console.log(`[cluster wallets] ${REQUESTS} payments over ${urls.length} hosts in ${(performance.now() - t0).toFixed(0)} ms`)
    const signed = results.filter((r) => r.ok)
    expect(signed.length).toBe(ALLOWED)
    expect(new Set(results.filter((r) => !r.ok).map((r) => r.code))).toEqual(new Set(['policy_daily_cap_exceeded']))
    for (const r of signed.slice(0, 20)) expect(await verifyEip3009(W, r.operation, r.signature)).toBe(true)
    const entries = await rows(databaseUrl)
    const allowed = entries.filter((e) => e.event === 'sign_allowed' && e.agentId === agentKey.agentId)
    expect(allowed.map((e) => e.signedHash!.toLowerCase()).sort()).toEqual(signed.map((r) => r.signedHash.toLowerCase()).sort())
    // Three chains besides the (idle) root one, each gapless.
    const chains = new Map<string, number[]>()
    for (const e of entries) chains.set(e.chain, [...(chains.get(e.chain) ?? []), e.seq])
    expect([...chains.keys()].filter((c) => c !== '').length).toBeGreaterThanOrEqual(2)
    for (const seqs of chains.values()) expect(seqs).toEqual(seqs.map((_, i) => i))
  }, 180_000)

  it('failover of one wallet: its holder pair SIGKILLed under load; another takes its lease, loads it and serves; nothing lost or doubled, the cap holds', async () => {
    const CAP = 80
    const W2 = wallets[1]!
    const agent2 = (await setupAgent({ host: cluster.pairs[0]!.url, owner, wallet: W2, policy: paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * BigInt(CAP)).toString() }) })).agentKey
    await waitAgentFloor()
    const urls = cluster.pairs.map((p) => p.url)
    const received: { signature: Hex; signedHash: string; at: number; operation: ReturnType<typeof eip3009> }[] = []
    const unknown: string[] = []
    let capReached = false
    let unavailable = 0
    const worker = async (w: number) => {
      for (let i = 0; !capReached; i++) {
        const operation = eip3009({ wallet: W2, value: AMOUNT })
        try {
          const r = await requestSignature({ host: urls[(w + i) % urls.length]!, agentKey: agent2, wallet: W2, operation })
          received.push({ signature: r.signature as Hex, signedHash: r.signedHash.toLowerCase(), at: performance.now(), operation })
        } catch (err) {
          const code = String((err as { code?: string }).code)
          if (code === 'policy_daily_cap_exceeded') capReached = true
          else if (code === 'enclave_unavailable') unavailable++
          else unknown.push(`${code}: ${String((err as { requestId?: string }).requestId).slice(-8)} ${(err as Error).message.split('\n')[0]}`)
        }
      }
    }
    let kill: { at: number; pair: number; epoch: number } | null = null
    const killer = async () => {
      await waitFor(() => received.length >= 30 || capReached, 60_000, '30 signatures')
      const row = (await leases(databaseUrl)).get(W2.toLowerCase())!
      const pair = cluster.pairs.find((p) => `pair-${p.index + 1}` === row.holder)!
      kill = { at: performance.now(), pair: pair.index + 1, epoch: row.epoch }
      pair.signal('SIGKILL')
    }
    await Promise.all([...Array.from({ length: 8 }, (_, w) => worker(w)), killer()])
    const k = kill! as { at: number; pair: number; epoch: number }
    const firstAfter = received.find((r) => r.at > k.at + 1)
    const recovery = firstAfter ? Math.round(firstAfter.at - k.at) : -1
    const after = (await leases(databaseUrl)).get(W2.toLowerCase())
    console.log(`[cluster wallets] SIGKILL of pair ${k.pair} holding W2 (epoch ${k.epoch}): first signature after it reached its agent in ${recovery} ms (TTL ${TTL_MS} ms); W2 now on ${after?.holder} epoch ${after?.epoch}; ${received.length} signed, ${unavailable} refused at connect, ${unknown.length} unknown`)
    // fix15: no resend ends "maybe signed". It did in 4 of 5 runs before: the killed pair came back with a fresh
    // enclave, retook W2 (its preferred host) and refused the resends issued before its start (request_before_enclave_start).
    expect(unknown).toEqual([])
    expect(after!.epoch).toBeGreaterThan(k.epoch)
    expect(received).toHaveLength(CAP)
    expect(new Set(received.map((r) => r.signedHash)).size).toBe(CAP)
    for (const r of received.slice(-10)) expect(await verifyEip3009(W2, r.operation, r.signature)).toBe(true)
    const allowed = (await rows(databaseUrl)).filter((e) => e.event === 'sign_allowed' && e.agentId === agent2.agentId).map((e) => e.signedHash!.toLowerCase())
    expect(allowed.sort()).toEqual(received.map((r) => r.signedHash).sort())
  }, 240_000)
})
