import { type Hex, isAddressEqual, recoverTypedDataAddress } from 'viem'
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
 * Attack (issue 15, sdk15): a malicious host between the agent SDK and the real host + enclave lets the enclave sign,
 * then rewrites the audit receipt that comes with the signature — to hide where (or whether) the decision sits in the
 * enclave's chain: another seq or walletSeq, an entry edited (with or without its hash recomputed), the receipt of an
 * earlier payment replayed, the entry left out. Each must end in `receipt_invalid` and the signature must not reach
 * the caller (the call throws). The honest answer through the same proxy passes, and its signature is the wallet's
 * (checked with viem).
 */
describe('adversarial: the host rewrites a field of the receipt an agent gets with its signature', () => {
  let proxy: Awaited<ReturnType<typeof rewritingProxy>>
  let rewrite: ((a: Answer) => Answer | undefined) | undefined
  let earlier: Answer | undefined

  const s = stackWithAgentPerFile(paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * 100n).toString() }))
  beforeAll(async () => {
    proxy = await rewritingProxy(s.stack.url, (a) => rewrite?.(a as Answer))
  })
  afterAll(async () => {
    await proxy?.close()
  })

  const account = () => bursarAccount({ host: proxy.url, agentKey: s.agentKey, wallet: s.wallet, timeoutMs: 10_000 })
  const pay = async () => {
    const typed = eip3009TypedData(eip3009({ wallet: s.wallet, value: AMOUNT }))
    return { typed, signature: await account().signTypedData(typed as never) }
  }
  const rehash = (a: Answer, edit: (e: AuditEntry, r: Record<string, unknown>) => void): Answer => {
    edit(a.auditEntry, a.receipt)
    a.receipt.entryHash = hashAuditEntry(a.auditEntry)
    return a
  }

  it('an honest answer passes with the checks on (the key from the key file), and its signature is the wallet’s', async () => {
    expect(s.agentKey.receiptPublicKey).toMatch(/^0x[0-9a-f]+$/)
    rewrite = undefined
    const { typed, signature } = await pay()
    expect(isAddressEqual(await recoverTypedDataAddress({ ...typed, signature } as never), s.wallet)).toBe(true)
    earlier = structuredClone(proxy.answers.at(-1)) as Answer
    expect(earlier.auditEntry.requestId).toMatch(/^[0-9a-f]{32}$/)
  })

  const attacks: [string, (a: Answer) => Answer][] = [
    ['receipt seq moved up', (a) => ({ ...a, receipt: { ...a.receipt, seq: (a.receipt.seq as number) + 1 } })],
    ['receipt walletSeq moved up', (a) => ({ ...a, receipt: { ...a.receipt, walletSeq: (a.receipt.walletSeq as number) + 1 } })],
    ['entry and receipt moved to a later seq, hash recomputed', (a) => rehash(a, (e, r) => { e.seq += 5; r.seq = e.seq })],
    ['entry and receipt walletSeq rewritten, hash recomputed', (a) => rehash(a, (e, r) => { e.walletSeq = (e.walletSeq ?? 0) + 3; r.walletSeq = e.walletSeq })],
    ['entry requestId rewritten (hash not recomputed)', (a) => ({ ...a, auditEntry: { ...a.auditEntry, requestId: 'f'.repeat(32) } })],
    ['entry reason rewritten, hash recomputed', (a) => rehash(a, (e) => { e.reason = 'rewritten by the host' })],
    ['receipt and entry of an earlier payment replayed', (a) => ({ ...a, receipt: earlier!.receipt, auditEntry: earlier!.auditEntry })],
    ['entry left out', (a) => { const { auditEntry: _, ...rest } = a; return rest as Answer }],
    ['checkpoint signature bit flipped', (a) => {
      const c = a.receipt.checkpoint as { signature: string }
      const last = Number.parseInt(c.signature.slice(-1), 16) ^ 1
      return { ...a, receipt: { ...a.receipt, checkpoint: { ...c, signature: `${c.signature.slice(0, -1)}${last.toString(16)}` } } }
    }],
  ]
  for (const [name, attack] of attacks) {
    it(`${name}: receipt_invalid, the signature is not handed out`, async () => {
      let handedOut: Hex | undefined
      rewrite = attack
      await expect(pay().then((r) => (handedOut = r.signature))).rejects.toMatchObject({ code: 'receipt_invalid', name: 'ReceiptInvalidError' })
      expect(handedOut).toBeUndefined()
      // The enclave did sign (the host saw a genuine answer): only the receipt check stopped it.
      expect(proxy.answers.at(-1)?.signature).toMatch(/^0x[0-9a-f]{130}$/)
    })
  }

  it('afterwards the honest path still passes (the refused receipts left the marks where the genuine ones put them)', async () => {
    rewrite = undefined
    await pay()
  })
})
