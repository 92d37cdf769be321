import path from 'node:path'
import type { Hex, LocalAccount } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeCore } from '../../core/state/snapshotCodec.js'
import type { ResponseFrame } from '../../shared/protocol/messages.js'
import { createSimSealer } from '../../sim/simSealer.js'
import {
  type AgentSignOk,
  MaliciousHost,
  type SealedSnapshot,
  type TestAgent,
  eip3009,
  paymentPolicy,
  refusalCode,
  signAgentRequest,
  verifyPayment,
} from '../helpers/maliciousHost.js'

const PAYMENTS = 240
const seqOf = (t: string) => (JSON.parse(t) as { seq: number }).seq

/**
 * Attack (tail38, issue 18): a periodic seal is captured in the enclave's writer, encrypted outside it and carried by
 * a LATER persist block (not the one whose entry triggered it). The hostile host drops, keeps only some of, or
 * stores out of order the blocks that carry those late seals, then restarts the enclave on what it kept. Defined
 * outcome: every answer's entry travels in its own answer's block (no answer waits on a seal, none is released on a
 * seal); a block carrying a core comes after every entry up to that core's sealedSeq; a restart from any core the
 * host kept (the one before the payments, a middle one, the newest) with the entries after it counts every released
 * spend (the agent at its 24 h cap stays there); a core kept while an entry it covers was lost does not load.
 */
describe('adversarial: the host drops or reorders the later blocks that carry periodic seals (real enclave)', () => {
  let host: MaliciousHost
  let owner: LocalAccount
  let wallet: Hex
  let agent: TestAgent
  let before: number
  let late: SealedSnapshot[] = []
  /** What the host held when it chose what to keep (each restart below starts from it: one scenario each). */
  let stored: string[] = []
  const arrivals: ResponseFrame[] = []
  const released: Array<{ seq: number; block: ResponseFrame }> = []
  const pay = (value = 1n) => signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value }) })

  beforeAll(async () => {
    host = new MaliciousHost()
    host.env = { BURSAR_SNAPSHOT_EVERY: '32' } // a staggered seal every 2 entries when due: many late seals
    await host.startEnclave()
    const ready = await host.bootstrapHonest()
    if (!ready.ok) throw new Error(`bootstrap refused: ${ready.error.code}`)
    owner = privateKeyToAccount(generatePrivateKey())
    wallet = await host.createWallet(owner)
    ;({ agent } = await host.setupAgent(owner, wallet, paymentPolicy({ perTx: '1000', rolling24h: String(PAYMENTS) })))
    await host.waitAgentFloor()
  }, 60_000)
  afterAll(async () => {
    await host?.stop()
  })

  it(`${PAYMENTS} payments pipelined: late seals ride later blocks, after every entry they cover; each answer carries its own entry`, async () => {
    before = host.snapshots.length
    const seen = new Set(host.entries.map(seqOf)) // the owner acts' entries, all here
    for (let i = 0; i < PAYMENTS; i += 8) {
      const batch = Array.from({ length: 8 }, () => pay())
      const answers = await Promise.all(batch.map((p) => host.agentSign(p).then((r) => (arrivals.push(r), r))))
      for (const [j, r] of answers.entries()) {
        expect(r.ok, refusalCode(r)).toBe(true)
        const ok = (r as { result: AgentSignOk }).result
        expect(await verifyPayment(wallet, batch[j]!.parsed, ok.signature)).toBe(true)
        // Persistence before release: the answer's own block holds its entry.
        expect(r.persist!.entries.map(seqOf)).toContain(ok.receipt.seq)
        released.push({ seq: ok.receipt.seq, block: r })
      }
    }
    expect(refusalCode(await host.agentSign(pay()))).toBe('policy_daily_cap_exceeded')
    late = host.snapshots.slice(before)
    stored = [...host.entries]
    expect(late.length).toBeGreaterThanOrEqual(3)
    // Each block carrying a core: every entry up to the core's sealedSeq arrived before it or in it, and the seal was
    // captured before this block's first entry (it rides a later block than the one that triggered it).
    const sealer = createSimSealer({ keyFile: path.join(host.dataDir, 'sim-sealing.key'), rejectOlderVersions: false })
    let later = 0
    for (const r of arrivals) {
      const seqs = r.persist!.entries.map(seqOf)
      seqs.forEach((s) => seen.add(s))
      if (!r.persist!.sealed) continue
      const core = decodeCore((await sealer.unseal({ blob: r.persist!.sealed.blob, purpose: 'enclave-state', walletId: '' })).plaintext)
      for (let s = 0; s <= core.sealedSeq!; s++) expect(seen.has(s), `entry ${s} arrived before its core`).toBe(true)
      if (seqs.length > 0 && core.sealedSeq! < Math.min(...seqs)) later++
    }
    expect(later).toBeGreaterThanOrEqual(3)
  }, 120_000)

  const restartOn = async (snap: SealedSnapshot | undefined, drop?: number) => {
    await host.restartEnclave()
    const entries = host.entriesAfter(snap?.auditSeq ?? -1, stored).filter((t) => seqOf(t) !== drop)
    return (await host.bootstrap({ snapshot: snap?.blob ?? null, entries })).last
  }
  const atCap = async () => {
    await host.waitAgentFloor()
    expect(refusalCode(await host.agentSign(pay()))).toBe('policy_daily_cap_exceeded')
  }

  it('the host dropped every late seal: a restart on the core before the payments counts every spend', async () => {
    const r = await restartOn(host.snapshots[before - 1])
    expect(r.ok ? 'ok' : r.error.code).toBe('ok')
    await atCap()
  }, 60_000)

  it('the host kept only a middle late seal (dropped the newer ones): a restart on it counts every spend', async () => {
    const r = await restartOn(late[Math.floor(late.length / 2)])
    expect(r.ok ? 'ok' : r.error.code).toBe('ok')
    await atCap()
  }, 60_000)

  it('the host stored a late core but lost an earlier block with an entry it covers: the load is refused, nothing is signed on it', async () => {
    const head = Math.max(...released.map((x) => x.seq))
    const newest = late.filter((s) => s.auditSeq < head - 1).at(-1)!
    const covered = released.map((x) => x.seq).filter((s) => s > newest.auditSeq && s < head)
    expect(covered.length).toBeGreaterThan(0)
    const r = await restartOn(newest, covered[0])
    expect(r.ok).toBe(false)
    expect(refusalCode(await host.agentSign(pay()))).not.toBe('UNEXPECTED_OK')
  }, 60_000)

  it('an honest restart on the newest core after all: every spend counted', async () => {
    const r = await restartOn(late.at(-1))
    expect(r.ok ? 'ok' : r.error.code).toBe('ok')
    await atCap()
  }, 60_000)
})
