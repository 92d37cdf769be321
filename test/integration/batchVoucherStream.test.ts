import { type Hex, verifyTypedData } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PolicyDeniedError } from '../../agent/errors.js'
import { requestSignature } from '../../agent/requestSignature.js'
import { CHAIN_ID, type StackWithAgent, auditEntries, pool, stackWithAgent, waitAgentFloor } from '../helpers/agentClient.js'
import { BATCH_ESCROW, VOUCHER_TYPES, batchPolicy, channelOf, voucherOp } from '../helpers/batchChannel.js'

const VOUCHERS = 1_000
const PRICE = 3n
const IN_FLIGHT = 32

/**
 * x402 batch-settlement vouchers through the real host and enclave: 1,000 vouchers with rising running totals on one
 * channel, sent 32 at a time (so some arrive after a higher one) with an enclave restart halfway. Each signed voucher
 * counts only its increase over the highest total signed before; a late lower one is refused and counts nothing;
 * the total counted equals the final running total exactly.
 */
describe('batch-settlement: 1,000 vouchers on one channel across a restart and concurrent requests', () => {
  let s: StackWithAgent
  beforeAll(async () => {
    s = await stackWithAgent(batchPolicy({ perTx: '100', rolling24h: '1000000' }))
    await waitAgentFloor()
  })
  afterAll(async () => {
    await s?.stack.stop()
  })

  it('counts exactly the final running total; every signed voucher verifies for the wallet (viem)', async () => {
    const ch = channelOf(s.wallet)
    const send = (total: bigint) =>
      requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation: voucherOp(ch.id, total), context: { batchChannel: { config: ch.config } } }).then(
        (r) => ({ ok: true as const, total, signature: r.signature as Hex }),
        (e: unknown) => ({ ok: false as const, total, error: e }),
      )
    const totals = Array.from({ length: VOUCHERS }, (_, i) => PRICE * BigInt(i + 1))
    const first = await pool(totals.slice(0, VOUCHERS / 2), IN_FLIGHT, send)
    await s.stack.stopEnclave()
    await s.stack.startEnclave()
    await s.stack.waitReady()
    const second = await pool(totals.slice(VOUCHERS / 2), IN_FLIGHT, send)
    const results = [...first, ...second]

    for (const r of results.filter((x) => !x.ok)) {
      // Only a voucher overtaken by a higher one is refused (it would lower the running total).
      expect(r.error).toBeInstanceOf(PolicyDeniedError)
      expect((r.error as PolicyDeniedError).code).toBe('policy_voucher_total_decreased')
    }
    const signed = results.filter((x) => x.ok)
    expect(signed.length).toBeGreaterThan(VOUCHERS / 2)
    const domain = { name: 'x402 Batch Settlement', version: '1', chainId: CHAIN_ID, verifyingContract: BATCH_ESCROW } as const
    for (const v of signed.slice(0, 50)) {
      const ok = await verifyTypedData({ address: s.wallet, domain, types: VOUCHER_TYPES, primaryType: 'Voucher', message: { channelId: ch.id, maxClaimableAmount: v.total }, signature: v.signature })
      expect(ok).toBe(true)
    }
    // The last total is signed whatever the order: resent alone it is equal to the highest (free) or raises it.
    expect((await send(totals.at(-1)!)).ok).toBe(true)

    const entries = await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })
    const spends = entries.flatMap((e) => (e.ledger ?? []) as { type: string; amount?: string }[]).filter((e) => e.type === 'spend')
    const counted = spends.reduce((sum, e) => sum + BigInt(e.amount!), 0n)
    expect(counted).toBe(PRICE * BigInt(VOUCHERS))
    expect(entries.filter((e) => e.event === 'sign_allowed').length).toBe(signed.length + 1)
  }, 180_000)
})
