import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PolicyDeniedError } from '../../agent/errors.js'
import { requestSignature } from '../../agent/requestSignature.js'
import { CHAIN_ID, type StackWithAgent, TOKEN, auditEntries, eip3009, paymentPolicy, stackWithAgent, waitAgentFloor } from '../helpers/agentClient.js'

/** Budget comes back only on an owner-signed CreditBudget, never on the host's word. */
describe('owner-signed budget credit (real host + enclave)', () => {
  let s: StackWithAgent
  const pay = (value: bigint) =>
    requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation: eip3009({ wallet: s.wallet, value }) })

  beforeAll(async () => {
    s = await stackWithAgent(paymentPolicy({ perTx: '100', rolling24h: '100' }))
    await waitAgentFloor()
  })
  afterAll(async () => {
    await s?.stack.stop()
  })

  it('a credit reopens exactly its amount of the rolling cap; a forged or replayed credit does nothing', async () => {
    await pay(60n)
    await pay(40n)
    const denied = await pay(1n).catch((e) => e)
    expect(denied).toBeInstanceOf(PolicyDeniedError)
    expect((denied as PolicyDeniedError).remaining).toBe('0')
    await s.client.act('CreditBudget', s.wallet, { agentId: s.agentKey.agentId, chainId: String(CHAIN_ID), asset: TOKEN, amount: '30' })
    await pay(30n)
    const again = await pay(1n).catch((e) => e)
    expect(again).toBeInstanceOf(PolicyDeniedError)
    // A replayed credit act (same seq) is refused as stale.
    const w = await s.client.wallet(s.wallet)
    const { signOwnerAct } = await import('../../shared/owner/signOwnerAct.js')
    const body = await signOwnerAct({
      account: s.owner,
      primaryType: 'CreditBudget',
      message: { wallet: s.wallet, agentId: s.agentKey.agentId, chainId: String(CHAIN_ID), asset: TOKEN, amount: '30', seq: String(w.ownerSeq) },
    })
    await expect(s.client.request('POST', '/v1/owner/acts', body)).rejects.toMatchObject({ code: 'owner_act_stale' })
    const events = (await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })).map((e) => e.event)
    expect(events.filter((e) => e === 'budget_released').length).toBe(1)
  })
})
