import { describe, expect, it } from 'vitest'
import { type AgentOperation, requestSignature } from '../../agent/requestSignature.js'
import { CHAIN_ID, MERCHANT, OTHER_PAYEE, TOKEN, auditEntries } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'
import { BATCH_COLLECTOR, batchPolicy, channelOf, depositOp } from '../helpers/batchChannel.js'

const requirements = { scheme: 'batch-settlement', network: `eip155:${CHAIN_ID}`, asset: TOKEN, amount: '100', payTo: MERCHANT }

/**
 * Attack: a merchant asks for the batch-settlement escrow deposit but names its own address (or any non-escrow
 * address) as the authorization's `to`, hoping it passes as a locked deposit rather than a payment; or it binds the
 * deposit's nonce to a channel other than the one named. The enclave treats only a ReceiveWithAuthorization to the
 * canonical collector, whose nonce binds the named channel, as a deposit: anything else is an ordinary payment to
 * that address (refused here against the batch requirements and the pay-to list) or refused outright.
 */
describe('adversarial: a deposit to a non-escrow address', () => {
  const s = stackWithAgentPerFile(batchPolicy({ perTx: '5000', rolling24h: '100000', lockedPerChannel: '50000' }))

  const deposit = (to: string, nonceChannel: `0x${string}`, salt: bigint, value = 10_000n) => depositOp({ wallet: s.wallet, channelId: nonceChannel, salt, value, to })
  const sign = (op: Extract<AgentOperation, { op: 'signTypedData' }>, depositSalt: string, config = channelOf(s.wallet).config, req: object | null = requirements) =>
    requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation: op, context: { batchChannel: { config, depositSalt }, ...(req ? { requirements: req as never } : {}) } })

  it('to the merchant or any other address: not a deposit (refused against the batch requirements, or by the pay-to list)', async () => {
    const ch = channelOf(s.wallet)
    await expect(sign(deposit(MERCHANT, ch.id, 7n), '7')).rejects.toMatchObject({ code: 'sign_requirements_mismatch' })
    await expect(sign(deposit(OTHER_PAYEE, ch.id, 7n), '7', ch.config, null)).rejects.toMatchObject({ code: 'policy_kind_not_allowed' })
  })

  it('to the collector with a nonce bound to another channel or salt: refused', async () => {
    const other = channelOf(s.wallet, { receiver: OTHER_PAYEE })
    await expect(sign(deposit(BATCH_COLLECTOR, other.id, 7n), '7')).rejects.toMatchObject({ code: 'sign_batch_channel_invalid' })
    await expect(sign(deposit(BATCH_COLLECTOR, channelOf(s.wallet).id, 7n), '8')).rejects.toMatchObject({ code: 'sign_batch_channel_invalid' })
    expect((await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })).filter((e) => e.event === 'sign_allowed')).toEqual([])
  })

  it('the genuine deposit is signed, locks its amount (no spend counted) and the locked-funds budget then holds', async () => {
    const ch = channelOf(s.wallet)
    await sign(deposit(BATCH_COLLECTOR, ch.id, 9n, 40_000n), '9')
    await expect(sign(deposit(BATCH_COLLECTOR, ch.id, 10n, 10_001n), '10')).rejects.toMatchObject({ code: 'policy_locked_funds_exceeded', remaining: '10000' })
    const allowed = (await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })).filter((e) => e.event === 'sign_allowed')
    expect(allowed.map((e) => e.action?.kind)).toEqual(['batch_deposit'])
    expect(allowed[0]?.ledger).toContainEqual(expect.objectContaining({ type: 'channel', locked: '40000', signed: '0' }))
    expect((allowed[0]?.ledger as { type: string }[]).filter((e) => e.type === 'spend')).toEqual([])
  })
})
