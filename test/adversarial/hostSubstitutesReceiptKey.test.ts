import { generateKeyPairSync, sign } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bursarAccount } from '../../agent/bursarAccount.js'
import { auditCheckpointMessage } from '../../shared/audit/auditCheckpointMessage.js'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { hashAuditEntry } from '../../shared/audit/hashAuditEntry.js'
import { eip3009, eip3009TypedData, paymentPolicy } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'
import { rewritingProxy } from '../helpers/rewritingProxy.js'

const AMOUNT = 1_000n

/**
 * Attack (issue 15, sdk15): the host substitutes its own receipt key — it re-signs every checkpoint with a key it
 * holds (and would serve that key as the enclave's), so it can hand the agent any receipt it likes (here: an entry
 * moved far ahead of the real chain, which would also lift the agent's marks out of reach of the real enclave). The
 * SDK verifies only under the key it was configured with (the key file's receiptPublicKey, written by the owner's
 * CLI): `receipt_invalid`. And an SDK configured with no key never takes one from the host: `receipt_key_missing` at
 * construction, before anything is sent.
 */
describe('adversarial: the host re-signs receipts with a receipt key of its own', () => {
  let proxy: Awaited<ReturnType<typeof rewritingProxy>>
  const host = generateKeyPairSync('ed25519')
  const hostKeyHex = Buffer.from(host.publicKey.export({ format: 'der', type: 'spki' })).toString('hex')

  const s = stackWithAgentPerFile(paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * 100n).toString() }))
  beforeAll(async () => {
    proxy = await rewritingProxy(s.stack.url, (a) => {
      const entry = { ...(a.auditEntry as AuditEntry) }
      entry.seq += 1_000
      const entryHash = hashAuditEntry(entry)
      const cp = { seq: entry.seq, head: entryHash, time: Date.now() }
      const signature = `0x${sign(null, auditCheckpointMessage(cp), host.privateKey).toString('hex')}`
      return { ...a, auditEntry: entry, receipt: { ...(a.receipt as object), seq: entry.seq, entryHash, checkpoint: { ...cp, signature } } }
    })
  })
  afterAll(async () => {
    await proxy?.close()
  })

  const typed = () => eip3009TypedData(eip3009({ wallet: s.wallet, value: AMOUNT })) as never

  it('the pinned key refuses the host’s receipts: receipt_invalid, nothing handed out', async () => {
    const account = bursarAccount({ host: proxy.url, agentKey: s.agentKey, wallet: s.wallet, timeoutMs: 10_000 })
    await expect(account.signTypedData(typed())).rejects.toMatchObject({ code: 'receipt_invalid' })
    // The same receipts verify under the host's key: only the pinned key made the difference.
    const trusting = bursarAccount({ host: proxy.url, agentKey: s.agentKey, wallet: s.wallet, timeoutMs: 10_000, receiptPublicKey: hostKeyHex, receiptMarksFile: undefined })
    await expect(trusting.signTypedData(typed())).resolves.toMatch(/^0x[0-9a-f]{130}$/)
  })

  it('no key configured: receipt_key_missing before anything is sent (the host’s key is never taken)', async () => {
    const { receiptPublicKey: _, ...bare } = s.agentKey
    const before = proxy.answers.length
    expect(() => bursarAccount({ host: proxy.url, agentKey: bare, wallet: s.wallet })).toThrow(expect.objectContaining({ code: 'receipt_key_missing' }))
    expect(proxy.answers.length).toBe(before)
  })
})
