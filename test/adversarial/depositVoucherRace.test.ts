import { describe, expect, it } from 'vitest'
import { requestSignature } from '../../agent/requestSignature.js'
import { auditEntries, pool } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'
import { batchPolicy, channelOf, signDeposit, voucherOp } from '../helpers/batchChannel.js'

const saltOf = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as const

/**
 * Attack (prompt-injected agent, or a host that releases requests all at once): escrow deposits into several channels
 * and vouchers race for the locked-funds budget and the spend caps, hoping two decisions read the same "locked so far"
 * or "highest signed so far". Every decision is made in the single writer: exactly the deposits the budget allows are
 * signed (per channel and in total), and the vouchers' counted increases add up to exactly the highest total signed.
 */
describe('adversarial: deposits and vouchers racing for the locked-funds budget', () => {
  const s = stackWithAgentPerFile(batchPolicy({ perTx: '5000', rolling24h: '1000000', lockedPerChannel: '30000', lockedTotal: '100000' }))

  it('exactly 10 deposits of 10,000 (3 per channel at most, 100,000 in total) and the vouchers counted exactly once', async () => {
    const jobs: (() => Promise<unknown>)[] = []
    for (let c = 1; c <= 4; c++) {
      const ch = channelOf(s.wallet, { salt: saltOf(c) })
      for (let i = 0; i < 6; i++) {
        const salt = BigInt(c * 100 + i)
        jobs.push(() => signDeposit(s, salt, 10_000n, ch))
      }
    }
    const v = channelOf(s.wallet, { salt: saltOf(9) })
    for (let t = 1; t <= 12; t++) jobs.push(() => requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation: voucherOp(v.id, BigInt(t * 1000)), context: { batchChannel: { config: v.config } } }))
    // Interleave deposits and vouchers, all in flight together.
    const order = jobs.map((j, i) => ({ j, k: (i * 7919) % jobs.length })).sort((a, b) => a.k - b.k).map((x) => x.j)
    const out = await pool(order, 16, (j) => j().then(() => 'ok', (e: { code?: string }) => e.code ?? 'error'))
    const codes = out.reduce<Record<string, number>>((m, c) => ({ ...m, [c]: (m[c] ?? 0) + 1 }), {})
    expect(codes.error ?? 0).toBe(0)

    const allowed = (await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })).filter((e) => e.event === 'sign_allowed')
    const deposits = allowed.filter((e) => e.action?.kind === 'batch_deposit')
    expect(deposits.length).toBe(10)
    const perChannel = new Map<string, number>()
    for (const d of deposits) {
      const id = (d.action as { channelId: string }).channelId
      perChannel.set(id, (perChannel.get(id) ?? 0) + 1)
    }
    expect(Math.max(...perChannel.values())).toBeLessThanOrEqual(3)
    // Vouchers: the counted increases add up to exactly the highest total signed, whatever order they arrived in.
    const vouchers = allowed.filter((e) => e.action?.kind === 'batch_voucher')
    const counted = vouchers.flatMap((e) => (e.ledger as { type: string; amount?: string }[]).filter((x) => x.type === 'spend')).reduce((a, x) => a + BigInt(x.amount!), 0n)
    const highest = vouchers.reduce((a, e) => (BigInt((e.action as { total: string }).total) > a ? BigInt((e.action as { total: string }).total) : a), 0n)
    expect(counted).toBe(highest)
    expect(codes.ok).toBe(10 + vouchers.length)
  }, 120_000)
})
