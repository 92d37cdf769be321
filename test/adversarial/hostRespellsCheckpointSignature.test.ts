import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bursarAccount } from '../../agent/bursarAccount.js'
import type { AuditCheckpoint, AuditEntry } from '../../shared/audit/auditEntry.js'
import { AUDIT_CODES } from '../../shared/audit/auditCodes.js'
import { toEd25519PublicKey } from '../../shared/audit/toEd25519PublicKey.js'
import { verifyAuditCheckpoint } from '../../shared/audit/verifyAuditCheckpoint.js'
import { verifyReceipt } from '../../shared/audit/verifyReceipt.js'
import { eip3009, eip3009TypedData, paymentPolicy } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'
import { rewritingProxy } from '../helpers/rewritingProxy.js'

type Answer = Record<string, unknown> & { receipt: { seq: number; walletSeq?: number; entryHash: string; checkpoint: AuditCheckpoint }; auditEntry: AuditEntry }

/** Other spellings of a genuine checkpoint's signature field: same signed bytes, a string the auditor's schema refuses. */
const RESPELL: Record<string, (s: string) => string> = {
  upperCaseSignature: (s) => `0x${s.slice(2, 130).toUpperCase()}${s.slice(130)}`,
  prefix0X: (s) => `0X${s.slice(2)}`,
  upperCasePath: (s) => (s.includes('.') ? `${s.slice(0, 130)}${s.slice(130).toUpperCase()}` : s.toUpperCase()), // a plain one: all of it
  indexLeadingZero: (s) => (s.includes('.') ? `${s.slice(0, 131)}0${s.slice(131)}` : `${s}.00`),
  junkAfterSignature: (s) => `${s.slice(0, 130)}zz${s.slice(130)}`,
  trailingNewline: (s) => `${s}\n`,
}

/**
 * rt33a (red team of turn18): the host hands out a genuine checkpoint — turn form `0x<sig>.<index>.<sibling>…` or
 * plain — spelt another way (upper case, `0X`, `01`, trailing junk). verifyAuditCheckpoint read the field with
 * `Number` and `Buffer.from(…, 'hex')`, which take all of these; only the schema (where a caller ran it) refused them,
 * and the TS SDK's own pattern allowed upper-case signature hex: the agent accepted a receipt that `verifyReceipt`
 * (the auditor, `bursar audit verify --receipts`) calls malformed — its evidence against the host void — and the
 * console (which verifies the host's `/v1/audit/head` without the schema) showed a respelt head as verified. Every
 * verifier now takes exactly the enclave's spelling (CHECKPOINT_SIGNATURE_REGEX).
 */
describe('adversarial: the host respells a genuine checkpoint signature', () => {
  let proxy: Awaited<ReturnType<typeof rewritingProxy>>
  let rewrite: ((a: Answer) => Answer | undefined) | undefined
  let account: ReturnType<typeof bursarAccount>

  const s = stackWithAgentPerFile(paymentPolicy({ perTx: '1000', rolling24h: '100000000' }))
  beforeAll(async () => {
    proxy = await rewritingProxy(s.stack.url, (a) => rewrite?.(a as Answer))
    account = bursarAccount({ host: proxy.url, agentKey: s.agentKey, wallet: s.wallet, timeoutMs: 10_000 })
  })
  afterAll(async () => {
    await proxy?.close()
  })

  const pay = () => account.signTypedData(eip3009TypedData(eip3009({ wallet: s.wallet, value: 1n })) as never)

  it('honest answers pass (a burst: turn checkpoints when answers share a turn, plain ones otherwise)', async () => {
    rewrite = undefined
    const got = await Promise.allSettled(Array.from({ length: 8 }, pay))
    expect(got.every((r) => r.status === 'fulfilled')).toBe(true)
  }, 30_000)

  for (const [name, respell] of Object.entries(RESPELL))
    it(`${name}: the SDK refuses (receipt_invalid), as the auditor refuses the same receipt`, async () => {
      const respelt: Answer[] = []
      rewrite = (a) => {
        const b = { ...a, receipt: { ...a.receipt, checkpoint: { ...a.receipt.checkpoint, signature: respell(a.receipt.checkpoint.signature) } } }
        respelt.push(b)
        return b
      }
      const handed: Hex[] = []
      const got = await Promise.allSettled(Array.from({ length: 4 }, () => pay().then((sig) => (handed.push(sig), sig))))
      rewrite = undefined
      expect(respelt.length).toBe(4)
      expect(handed).toEqual([])
      for (const r of got) expect(r).toMatchObject({ status: 'rejected', reason: { code: 'receipt_invalid' } })
      // The auditor's verdict on such a receipt (the differential the SDK must not open): malformed.
      const a = respelt[0]!
      const v = verifyReceipt({ receipt: a.receipt, entries: [a.auditEntry], publicKey: s.agentKey.receiptPublicKey! })
      expect(v).toMatchObject({ ok: false, code: AUDIT_CODES.receiptMalformed })
    }, 30_000)

  it('extraField: a checkpoint with a field the format does not have is refused by the SDK, as by the auditor', async () => {
    const seen: Answer[] = []
    rewrite = (a) => {
      const b = { ...a, receipt: { ...a.receipt, checkpoint: { ...a.receipt.checkpoint, note: 'host' } as AuditCheckpoint } }
      seen.push(b)
      return b
    }
    const got = await Promise.allSettled(Array.from({ length: 2 }, pay))
    rewrite = undefined
    for (const r of got) expect(r).toMatchObject({ status: 'rejected', reason: { code: 'receipt_invalid' } })
    expect(verifyReceipt({ receipt: seen[0]!.receipt, entries: [seen[0]!.auditEntry], publicKey: s.agentKey.receiptPublicKey! })).toMatchObject({ ok: false, code: AUDIT_CODES.receiptMalformed })
  }, 30_000)

  it("the console's head check (verifyAuditCheckpoint without the schema) refuses the host's head respelt", async () => {
    const head = ((await (await fetch(`${s.stack.url}/v1/audit/head`)).json()) as { checkpoint: AuditCheckpoint }).checkpoint
    const key = toEd25519PublicKey(s.agentKey.receiptPublicKey!)
    expect(verifyAuditCheckpoint(head, key)).toBe(true)
    for (const [name, respell] of Object.entries(RESPELL)) expect([name, verifyAuditCheckpoint({ ...head, signature: respell(head.signature) }, key)]).toEqual([name, false])
    // The head itself respelt (a turn leaf reads it as hex: upper case or a suffix gave the same leaf).
    for (const h of [`0x${head.head.slice(2).toUpperCase()}`, `${head.head}zz`]) expect(verifyAuditCheckpoint({ ...head, head: h }, key)).toBe(false)
  })

  it('afterwards the honest path passes on the same account', async () => {
    rewrite = undefined
    const got = await Promise.allSettled(Array.from({ length: 4 }, pay))
    expect(got.every((r) => r.status === 'fulfilled')).toBe(true)
  }, 30_000)
})
