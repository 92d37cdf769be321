import { randomBytes } from 'node:crypto'
import { type Hex, bytesToHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requestSignature } from '../../agent/requestSignature.js'
import { x25519PublicKey } from '../../shared/owner/keyExitCipher.js'
import { CHAIN_ID, TOKEN, eip3009, verifyEip3009 } from '../helpers/agentClient.js'
import { type QuorumWallet, startQuorumWallet } from '../helpers/quorumWallet.js'

/**
 * Attack: the owners want all three of them to approve any payment above 700 (SetApprovalQuorum, quorum 3), while
 * every class threshold is 2 of 3. Two owners (two stolen keys, a rogue pair) cannot approve a 5000 payment — so they
 * export the wallet key instead, which lets them sign anything. "Strictest threshold" must include the approval-amount
 * rules' quorums: through the real host and enclave, two signatures on ExportKey (no delay) only make a proposal and
 * return no sealed key; the third owner's signature exports it. The agent signs throughout until then.
 */
describe('adversarial: two owners export the key where a large approval needs three', () => {
  let q: QuorumWallet
  let recipientKey: string

  beforeAll(async () => {
    q = await startQuorumWallet({ prefix: 'exit-above' })
    const one = await q.clients[0]!.act('SetApprovalQuorum', q.wallet, { chainId: String(CHAIN_ID), asset: TOKEN, above: '700', quorum: '3' })
    expect((await q.clients[1]!.cosign(q.wallet, one.proposal!.actHash)).proposal).toBeUndefined()
    recipientKey = bytesToHex(x25519PublicKey(new Uint8Array(randomBytes(32))))
  }, 60_000)
  afterAll(async () => {
    await q?.stack.stop()
  })

  it('two of three only propose the export (threshold 3); no sealed key; the third signature exports', async () => {
    const info = await q.clients[0]!.wallet(q.wallet)
    expect(info.governance.approveAbove).toEqual([expect.objectContaining({ quorum: 3 })])
    const first = await q.clients[0]!.act('ExportKey', q.wallet, { recipientKey })
    expect(first.proposal).toMatchObject({ act: 'ExportKey', threshold: 3 })
    const second = await q.clients[1]!.cosign(q.wallet, first.proposal!.actHash)
    expect(second.exported).toBeUndefined()
    expect(second.proposal).toMatchObject({ threshold: 3 })
    const operation = eip3009({ wallet: q.wallet, value: 500n })
    const r = await requestSignature({ host: q.stack.url, agentKey: q.agentKey, wallet: q.wallet, operation })
    expect(await verifyEip3009(q.wallet, operation, r.signature as Hex)).toBe(true)
    const third = await q.clients[2]!.cosign(q.wallet, first.proposal!.actHash)
    expect(third.exported?.address.toLowerCase()).toBe(q.wallet.toLowerCase())
  }, 30_000)
})
