import { type Hex, hashTypedData } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requestSignature } from '../../agent/requestSignature.js'
import { waitFor } from '../../scripts/lib/startStack.js'
import { eip3009, paymentPolicy, verifyEip3009 } from '../helpers/agentClient.js'
import { type ClusterWithAgent, clusterWithAgent, storedEntries } from '../helpers/cluster.js'
import { releasePostgres } from '../helpers/postgres.js'

const AMOUNT = 1_000n
/** Failovers in one run: 1 in `make test`; `make test-cluster` runs 5. */
const CYCLES = Number(process.env.BURSAR_CLUSTER_FAILOVERS ?? 1)
const PER_CYCLE = 40
const ALLOWED = PER_CYCLE * (CYCLES + 1) + 20
const WORKERS = 8
const TTL_MS = 2_000

/**
 * Failover (issue 15): 8 workers pay through all three hosts (round robin) while the pair holding the wallet
 * group's lease is SIGKILLed — host and enclave — every PER_CYCLE signatures (the supervisor restarts it as a
 * standby on the same port). Another pair takes the lease once it expires, loads the newest snapshot and audit tail
 * from PostgreSQL and serves; the SDK resends the same signed bytes meanwhile. Every signature an agent received is
 * on the stored log exactly once, the cap holds exactly, and the time to recover is reported for each failover.
 */
describe(`cluster failover: SIGKILL of the lease holder under load (${CYCLES}×)`, () => {
  let s: ClusterWithAgent
  beforeAll(async () => {
    s = await clusterWithAgent(paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * BigInt(ALLOWED)).toString() }), {
      env: { BURSAR_LEASE_TTL_MS: String(TTL_MS) },
      supervise: true,
    })
  }, 120_000)
  afterAll(async () => {
    await s?.cluster.stop()
    releasePostgres()
  })

  it('loses no signature, signs none twice, holds the cap exactly; reports the time to recover', async () => {
    const urls = s.cluster.pairs.map((p) => p.url)
    const received: { operation: ReturnType<typeof eip3009>; signature: Hex; signedHash: string; at: number }[] = []
    const unknown: string[] = []
    let unavailable = 0
    let capReached = false
    let killerDone = false
    const kills: { at: number; epoch: number; pair: number }[] = []
    /** Every operation's outcome by its EIP-712 hash (what a sign_allowed entry names), for the diagnosis on failure. */
    const outcomes = new Map<string, string>()
    const worker = async (w: number) => {
      for (let i = 0; !capReached; i++) {
        // Paced by the failovers: at most PER_CYCLE + 10 signatures past the last kill until every failover happened
        // (so each kill lands under load and the cap stays ahead), then run into the cap.
        while (!killerDone && received.length >= PER_CYCLE * (kills.length + 1) + 10) await new Promise((r) => setTimeout(r, 20))
        const operation = eip3009({ wallet: s.wallet, value: AMOUNT })
        const opHash = hashTypedData(operation.typedData as Parameters<typeof hashTypedData>[0]).toLowerCase()
        const t0 = performance.now()
        outcomes.set(opHash, `worker ${w} in flight since ${Math.round(t0)}`)
        try {
          const r = await requestSignature({ host: urls[(w + i) % urls.length]!, agentKey: s.agentKey, wallet: s.wallet, operation })
          received.push({ operation, signature: r.signature as Hex, signedHash: r.signedHash.toLowerCase(), at: performance.now() })
          outcomes.set(opHash, `signed (${Math.round(t0)}–${Math.round(performance.now())} ms)`)
        } catch (err) {
          const code = String((err as { code?: string }).code)
          outcomes.set(opHash, `${code} (${Math.round(t0)}–${Math.round(performance.now())} ms): ${String((err as Error).message).split('\n')[0]}; details ${String((err as { details?: unknown }).details)}`)
          if (code === 'policy_daily_cap_exceeded') capReached = true
          // Refused at connect by a pair that is restarting: nothing was sent, nothing can be signed.
          else if (code === 'enclave_unavailable') unavailable++
          else unknown.push(`${code}: ${(err as Error).message.split('\n')[0]}`)
        }
      }
    }
    const killer = async () => {
      for (let c = 0; c < CYCLES; c++) {
        await waitFor(() => received.length >= PER_CYCLE * (c + 1) || capReached, 120_000, `${PER_CYCLE * (c + 1)} signatures`)
        if (capReached) return
        const h = (await s.cluster.holder())!
        kills.push({ at: performance.now(), epoch: h.epoch, pair: h.pair.index + 1 })
        h.pair.signal('SIGKILL')
        // The next failover only once a new holder serves and the killed pair is back as a standby for 2.5 s
        // (a freshly started enclave refuses requests issued before its start + 2 s).
        await waitFor(async () => ((await s.cluster.holder())?.epoch ?? 0) > h.epoch, 60_000, 'a new holder')
        await waitFor(async () => (await fetch(`${h.pair.url}/v1/cluster`).catch(() => null))?.ok === true, 60_000, 'the killed pair restarted')
        await new Promise((r) => setTimeout(r, 2_500))
      }
    }
    const killerThenGo = () => killer().finally(() => (killerDone = true))
    await Promise.all([...Array.from({ length: WORKERS }, (_, w) => worker(w)), killerThenGo()])

    const entries = await storedEntries(s.cluster.databaseUrl)
    const recoveries = kills.map((k) => {
      const firstNew = entries.find((e) => (e.storedEpoch ?? 0) > k.epoch && e.event === 'sign_allowed')!
      const got = received.find((r) => r.signedHash === firstNew.signedHash!.toLowerCase())!
      return Math.round(got.at - k.at)
    })
    console.log(
      `[cluster failover] ${kills.length} SIGKILLs of the holder (pairs ${kills.map((k) => k.pair).join(', ')}); first signature decided by the new holder ` +
        `reached its agent ${recoveries.join(', ')} ms after each kill (lease TTL ${TTL_MS} ms); ${received.length} signed, ` +
        `${unavailable} refused at connect by a restarting pair, ${unknown.length} unknown outcomes`,
    )
    if (unknown.length > 0 || recoveries.some((r) => r > 2 * TTL_MS + 3_000)) {
      for (const p of s.cluster.pairs) console.log(p.logs.join('').split('\n').filter((l) => /lease|exit|ready|refus/i.test(l)).map((l) => `pair ${p.index + 1}: ${l}`).join('\n'))
    }
    // Diagnosis: every allowed entry not received exactly once, with what its agent saw.
    const receivedHashes = new Set(received.map((r) => r.signedHash))
    const seen = new Map<string, number>()
    for (const e of entries) if (e.event === 'sign_allowed') seen.set(e.signedHash!.toLowerCase(), (seen.get(e.signedHash!.toLowerCase()) ?? 0) + 1)
    const odd = entries.filter((e) => e.event === 'sign_allowed' && (!receivedHashes.has(e.signedHash!.toLowerCase()) || seen.get(e.signedHash!.toLowerCase())! > 1))
    if (odd.length > 0 || received.length !== ALLOWED) {
      console.log(`[cluster failover] kills at ${kills.map((k) => `${Math.round(k.at)} ms (epoch ${k.epoch}, pair ${k.pair})`).join(', ')}`)
      for (const e of odd)
        console.log(`[cluster failover] allowed seq ${e.seq} epoch ${e.storedEpoch} request ${e.requestId} at ${e.time}: stored ${seen.get(e.signedHash!.toLowerCase())}×, agent saw: ${outcomes.get(e.signedHash!.toLowerCase()) ?? 'not sent by a worker'}`)
      for (const p of s.cluster.pairs) console.log(p.logs.join('').split('\n').filter((l) => l.trim()).slice(-60).map((l) => `pair ${p.index + 1}: ${l}`).join('\n'))
    }
    expect(unknown).toEqual([])
    expect(kills).toHaveLength(CYCLES)

    // Exactly the cap, every signature received once, all of them on the stored log once, none stored unreceived.
    expect(received).toHaveLength(ALLOWED)
    expect(new Set(received.map((r) => r.signedHash)).size).toBe(ALLOWED)
    for (const r of received) expect(await verifyEip3009(s.wallet, r.operation, r.signature)).toBe(true)
    const allowed = entries.filter((e) => e.event === 'sign_allowed' && e.agentId === s.agentKey.agentId).map((e) => e.signedHash!.toLowerCase())
    expect(allowed.sort()).toEqual(received.map((r) => r.signedHash).sort())
    // One gapless chain; the epoch that stored each entry never goes back; one epoch per holder.
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i))
    const epochs = entries.map((e) => e.storedEpoch ?? 0)
    expect(epochs).toEqual([...epochs].sort((a, b) => a - b))
    expect(new Set(epochs).size).toBe(CYCLES + 1)
  }, 300_000)
})
