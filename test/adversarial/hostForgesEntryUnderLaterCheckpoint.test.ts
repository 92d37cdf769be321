import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bursarAccount } from '../../agent/bursarAccount.js'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { hashAuditEntry } from '../../shared/audit/hashAuditEntry.js'
import { eip3009, eip3009TypedData, paymentPolicy } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'
import { rewritingProxy } from '../helpers/rewritingProxy.js'

const AMOUNT = 1_000n
type Answer = Record<string, unknown> & { receipt: Record<string, unknown>; auditEntry: AuditEntry }

/**
 * Attack (red team rt31b on sdk15 + turn15): the SDK accepted a receipt whose checkpoint sits at a later seq than its
 * entry (`signed: false`) on the entry's hash alone — nothing the enclave signed covers that entry. A malicious host
 * therefore writes any entry it likes at a seq below a genuine checkpoint (here: the real answer's checkpoint, one seq
 * above the entry the host invents; a denied request in between made room) and the SDK raises its marks on it: the
 * forged thread can continue the agent's marks whatever the enclave really ran (a rolled-back enclave hidden behind
 * fabricated entries). Since turn15 every answer's checkpoint is at its own entry, so a checkpoint above the entry is
 * refused: receipt_invalid, the signature is not handed out.
 */
describe('adversarial: the host forges the receipt entry under a later genuine checkpoint', () => {
  let proxy: Awaited<ReturnType<typeof rewritingProxy>>
  let rewrite: ((a: Answer) => Answer | undefined) | undefined

  const s = stackWithAgentPerFile(paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * 100n).toString() }))
  beforeAll(async () => {
    proxy = await rewritingProxy(s.stack.url, (a) => rewrite?.(a as Answer))
  })
  afterAll(async () => {
    await proxy?.close()
  })

  const account = () => bursarAccount({ host: proxy.url, agentKey: s.agentKey, wallet: s.wallet, timeoutMs: 10_000 })
  const pay = (value = AMOUNT) => account().signTypedData(eip3009TypedData(eip3009({ wallet: s.wallet, value })) as never)

  it('an entry one seq below the genuine checkpoint, invented by the host (hash recomputed): receipt_invalid', async () => {
    rewrite = undefined
    await pay()
    const first = proxy.answers.at(-1) as Answer
    await expect(pay(AMOUNT * 2n)).rejects.toBeTruthy() // denied: an entry with no receipt, the chain moves on
    let forgedSeq = -1
    rewrite = (a) => {
      const e = { ...a.auditEntry, seq: a.auditEntry.seq - 1, reason: 'invented by the host' }
      forgedSeq = e.seq
      return { ...a, auditEntry: e, receipt: { ...a.receipt, seq: e.seq, entryHash: hashAuditEntry(e) } }
    }
    let handedOut: Hex | undefined
    await expect(pay().then((sig) => (handedOut = sig))).rejects.toMatchObject({ code: 'receipt_invalid' })
    expect(handedOut).toBeUndefined()
    expect(forgedSeq).toBeGreaterThan(first.auditEntry.seq) // the forgery lay above the marks: only the new check stops it
  })

  it('afterwards the honest path passes, every receipt signed at its own entry', async () => {
    rewrite = undefined
    const seen: boolean[] = []
    await bursarAccount({ host: proxy.url, agentKey: s.agentKey, wallet: s.wallet, onReceipt: (r) => seen.push(r.receiptCheck!.signed) })
      .signTypedData(eip3009TypedData(eip3009({ wallet: s.wallet, value: AMOUNT })) as never)
    expect(seen).toEqual([true])
  })
})
