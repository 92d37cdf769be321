import { describe, expect, it } from 'vitest'
import { requestSignature } from '../../agent/requestSignature.js'
import { auditEntries } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'
import { batchPolicy, channelOf, voucherOp } from '../helpers/batchChannel.js'

/**
 * Attack: a merchant (or a client whose channel state it corrupted) gets the wallet to sign a batch-settlement
 * voucher whose running total is below what was already signed, then a higher one again, hoping each rise counts
 * from the lowered base. The enclave counts every voucher from the highest total it ever signed for the channel
 * (sealed state): a lower total is refused and counts nothing; climbing back costs only what passes the old high.
 */
describe('adversarial: a merchant sending a decreasing voucher total', () => {
  const s = stackWithAgentPerFile(batchPolicy({ perTx: '5000', rolling24h: '100000' }))

  it('a lower total is refused; an equal one is free; the next rise counts from the old high', async () => {
    const ch = channelOf(s.wallet)
    const sign = (total: bigint) =>
      requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation: voucherOp(ch.id, total), context: { batchChannel: { config: ch.config } } })
    await sign(4_000n)
    await expect(sign(1_000n)).rejects.toMatchObject({ code: 'policy_voucher_total_decreased' })
    await expect(sign(3_999n)).rejects.toMatchObject({ code: 'policy_voucher_total_decreased' })
    await sign(4_000n)
    await sign(4_500n)
    const spends = (await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId }))
      .flatMap((e) => (e.ledger ?? []) as { type: string; amount?: string }[])
      .filter((e) => e.type === 'spend')
      .map((e) => e.amount)
    expect(spends).toEqual(['4000', '500'])
  })
})
