import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bursarAccount } from '../../agent/bursarAccount.js'
import type { AuditCheckpoint, AuditEntry } from '../../shared/audit/auditEntry.js'
import { hashAuditEntry } from '../../shared/audit/hashAuditEntry.js'
import { eip3009, eip3009TypedData, paymentPolicy } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'
import { rewritingProxy } from '../helpers/rewritingProxy.js'

type Answer = Record<string, unknown> & { receipt: { seq: number; entryHash: string; checkpoint: AuditCheckpoint } & Record<string, unknown>; auditEntry: AuditEntry }
const parts = (cp: AuditCheckpoint) => cp.signature.split('.')

/**
 * turn18: the answers completing in one enclave turn share ONE Ed25519 signature, over a Merkle root of the turn's
 * block heads; each answer's checkpoint sits at its own entry and carries its own leaf index and path. The SDK
 * remembers a turn signature it verified, so a turn's answers cost one verify. Attacks of a malicious host on that
 * format, each against ONE account that has already verified (cached) genuine turn signatures; every answer of each
 * burst is rewritten and must be refused (receipt_invalid), its signature not handed out:
 *  - relabel: a genuine turn checkpoint of another answer put on this one with this answer's seq and entry hash;
 *  - replayCachedTurnSignature: this answer's own genuine checkpoint, for an entry the host invented (hash recomputed):
 *    the turn's signature is in the SDK's cache, but for the genuine entry's root only;
 *  - moveBetweenTurns: this answer's own leaf index and path under another turn's signature and time;
 *  - siblingCheckpoint: another answer's genuine checkpoint as it is (another seq).
 */
describe('adversarial: the host relabels turn checkpoints (one signature per enclave turn)', () => {
  let proxy: Awaited<ReturnType<typeof rewritingProxy>>
  let rewrite: ((a: Answer) => Answer | undefined) | undefined
  let account: ReturnType<typeof bursarAccount>
  const honestTurns: AuditCheckpoint[] = []

  const s = stackWithAgentPerFile(paymentPolicy({ perTx: '1000', rolling24h: '100000000' }))
  beforeAll(async () => {
    proxy = await rewritingProxy(s.stack.url, (a) => rewrite?.(a as Answer))
    account = bursarAccount({ host: proxy.url, agentKey: s.agentKey, wallet: s.wallet, timeoutMs: 10_000 })
  })
  afterAll(async () => {
    await proxy?.close()
  })

  const pay = () => account.signTypedData(eip3009TypedData(eip3009({ wallet: s.wallet, value: 1n })) as never)
  const burst = (n = 12) => Promise.allSettled(Array.from({ length: n }, pay))

  it('honest bursts: every answer passes; answers of one turn share one signature, each with its own path', async () => {
    rewrite = undefined
    for (let i = 0; i < 6 && honestTurns.length < 2; i++) {
      const from = proxy.answers.length
      const got = await burst()
      expect(got.every((r) => r.status === 'fulfilled')).toBe(true)
      const cps = proxy.answers.slice(from).map((a) => (a as Answer).receipt.checkpoint)
      const bySig = new Map<string, AuditCheckpoint[]>()
      for (const c of cps) if (c.signature.includes('.')) bySig.set(parts(c)[0]!, [...(bySig.get(parts(c)[0]!) ?? []), c])
      for (const turn of bySig.values()) {
        expect(new Set(turn.map((c) => c.signature)).size).toBe(turn.length) // one path each
        if (turn.length > 1 && honestTurns.length < 2) honestTurns.push(turn[0]!)
      }
    }
    expect(honestTurns.length).toBe(2) // two turns of several answers, verified (and cached) by this account
  }, 60_000)

  const refused = async (attack: (a: Answer) => Answer) => {
    let rewritten = 0
    rewrite = (a) => (rewritten++, attack(a))
    const handed: Hex[] = []
    const got = await Promise.allSettled(Array.from({ length: 8 }, () => pay().then((sig) => (handed.push(sig), sig))))
    rewrite = undefined
    expect(rewritten).toBe(8)
    expect(handed).toEqual([])
    for (const r of got) expect(r).toMatchObject({ status: 'rejected', reason: { code: 'receipt_invalid' } })
  }

  it('relabel: another answer’s genuine turn checkpoint with this answer’s seq and entry hash', async () => {
    const other = honestTurns[0]!
    await refused((a) => ({ ...a, receipt: { ...a.receipt, checkpoint: { ...other, seq: a.receipt.seq, head: a.receipt.entryHash } } }))
  })

  it('replayCachedTurnSignature: a turn checkpoint this account verified (cached), its head replaced by an invented entry at its seq', async () => {
    const cached = honestTurns[0]!
    await refused((a) => {
      const e = { ...a.auditEntry, seq: cached.seq, reason: 'invented by the host' }
      const h = hashAuditEntry(e)
      return { ...a, auditEntry: e, receipt: { ...a.receipt, seq: cached.seq, entryHash: h, checkpoint: { ...cached, head: h } } }
    })
  })

  it('inventEntryUnderOwnTurn: this answer’s own genuine checkpoint for an entry the host invented', async () => {
    await refused((a) => {
      const e = { ...a.auditEntry, reason: 'invented by the host' }
      const h = hashAuditEntry(e)
      return { ...a, auditEntry: e, receipt: { ...a.receipt, entryHash: h, checkpoint: { ...a.receipt.checkpoint, head: h } } }
    })
  })

  it('moveBetweenTurns: this answer’s own index and path under another turn’s signature and time', async () => {
    const other = honestTurns[1]!
    await refused((a) => {
      const own = a.receipt.checkpoint
      const path = own.signature.includes('.') ? parts(own).slice(1) : ['0']
      return { ...a, receipt: { ...a.receipt, checkpoint: { ...own, time: other.time, signature: [parts(other)[0], ...path].join('.') } } }
    })
  })

  it('siblingCheckpoint: another answer’s genuine checkpoint as it is', async () => {
    const other = honestTurns[0]!
    await refused((a) => ({ ...a, receipt: { ...a.receipt, checkpoint: other } }))
  })

  it('afterwards the honest path passes on the same account', async () => {
    rewrite = undefined
    const got = await burst(4)
    expect(got.every((r) => r.status === 'fulfilled')).toBe(true)
  })
})
