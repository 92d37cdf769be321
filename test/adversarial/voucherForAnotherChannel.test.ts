import { describe, expect, it } from 'vitest'
import { requestSignature } from '../../agent/requestSignature.js'
import { OTHER_PAYEE, auditEntries } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'
import { RECEIVER_AUTHORIZER, batchPolicy, channelOf, voucherOp } from '../helpers/batchChannel.js'

/**
 * Attack: a merchant asks for a voucher whose channelId is another channel's — one paying a payee the policy does
 * not list, or one whose vouchers a key of the merchant's signs — while the request names an allowed channel; or it
 * names a fresh channel (salt) to restart the running total from zero. The enclave recomputes the id from the named
 * config: a mismatch is refused; a genuinely new channel starts from zero but is counted in full.
 */
describe('adversarial: a voucher for another channel', () => {
  const s = stackWithAgentPerFile(batchPolicy({ perTx: '5000', rolling24h: '100000' }))

  const sign = (id: `0x${string}`, total: bigint, config: ReturnType<typeof channelOf>['config']) =>
    requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation: voucherOp(id, total), context: { batchChannel: { config } } })

  it('an id that is not the named channel’s, a channel paying an unlisted payee or signed by a foreign key: refused', async () => {
    const mine = channelOf(s.wallet)
    const theirs = channelOf(s.wallet, { receiver: OTHER_PAYEE })
    await expect(sign(theirs.id, 100n, mine.config)).rejects.toMatchObject({ code: 'sign_batch_channel_invalid' })
    await expect(sign(theirs.id, 100n, theirs.config)).rejects.toMatchObject({ code: 'policy_payto_not_allowed' })
    const foreign = channelOf(s.wallet, { payerAuthorizer: RECEIVER_AUTHORIZER })
    await expect(sign(foreign.id, 100n, foreign.config)).rejects.toMatchObject({ code: 'sign_batch_channel_invalid' })
    expect((await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })).filter((e) => e.event === 'sign_allowed')).toEqual([])
  })

  it('a fresh channel (another salt) counts its running total in full, from zero', async () => {
    const a = channelOf(s.wallet)
    const b = channelOf(s.wallet, { salt: `0x${'01'.repeat(32)}` })
    await sign(a.id, 3_000n, a.config)
    await sign(b.id, 3_000n, b.config)
    const spends = (await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId }))
      .flatMap((e) => (e.ledger ?? []) as { type: string; amount?: string }[])
      .filter((e) => e.type === 'spend')
    expect(spends.map((e) => e.amount)).toEqual(['3000', '3000'])
  })
})
