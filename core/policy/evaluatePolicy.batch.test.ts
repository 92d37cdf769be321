import { describe, expect, it } from 'vitest'
import type { DecodedAction } from '../../shared/schemas/decodedAction.js'
import { bindAction } from '../kinds/kindTable.js'
import { SpendLedger } from '../ledger/SpendLedger.js'
import { explainPolicy } from './explainPolicy.js'
import { MAX_CHANNELS_PER_WALLET } from './rules/checkEscrow.js'
import { MOCK_AGENT, MOCK_CHAIN, MOCK_PAYTO, MOCK_USDC, mockDecide, mockPolicy } from '../../test/helpers/mockPolicy.js'

const T0 = Date.UTC(2026, 10, 24, 12)
const S0 = Math.floor(T0 / 1000)
const ESCROW = '0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003'
const CH1 = `0x${'c1'.repeat(32)}`
const CH2 = `0x${'c2'.repeat(32)}`

const voucher = (total: string | number, channelId = CH1): Extract<DecodedAction, { kind: 'batch_voucher' }> => ({
  kind: 'batch_voucher', chainId: MOCK_CHAIN, asset: MOCK_USDC, channelId, receiver: MOCK_PAYTO, escrow: ESCROW, total: String(total), signedBefore: '0',
})
const deposit = (amount: string | number, channelId = CH1): DecodedAction => ({
  kind: 'batch_deposit', chainId: MOCK_CHAIN, asset: MOCK_USDC, amount: String(amount), channelId, receiver: MOCK_PAYTO, escrow: ESCROW,
  validAfter: 0, validBefore: S0 + 300, nonce: `0x${'ab'.repeat(32)}`,
})
const policy = (over: Parameters<typeof mockPolicy>[0] = {}) =>
  mockPolicy({
    escrows: [ESCROW],
    lockedFunds: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, perChannel: '3000', total: '5000' }],
    rules: [{ id: 'batch', effect: 'allow', kinds: ['batch_deposit', 'batch_voucher'], payTo: { in: [MOCK_PAYTO] } }],
    ...over,
  })
/** The enclave's writer step: bind the action to the ledger, decide, apply. */
const decide = (ledger: SpendLedger, action: DecodedAction, p = policy(), now = T0) => mockDecide(ledger, { policy: p, action: bindAction(action, ledger), now })
const spent = (l: SpendLedger) => l.spentAfter(MOCK_AGENT, MOCK_CHAIN, MOCK_USDC.toLowerCase(), 0)

describe('policy: x402 batch-settlement', () => {
  it('each voucher counts the increase of its channel’s running total over the highest already signed', () => {
    const l = new SpendLedger()
    for (const t of [100, 250, 600, 600]) expect(decide(l, voucher(t)).verdict).toBe('allow')
    expect(spent(l)).toBe(600n)
    expect(l.channel(CH1)?.signed).toBe(600n)
    // Another channel starts from zero.
    decide(l, voucher(40, CH2))
    expect(spent(l)).toBe(640n)
  })

  it('merchantDecreasingVoucherTotal: a total below the highest signed is refused and counts nothing; an equal one is free', () => {
    const l = new SpendLedger()
    decide(l, voucher(500))
    expect(decide(l, voucher(499))).toMatchObject({ verdict: 'deny', code: 'policy_voucher_total_decreased', rule: 'channel' })
    expect(decide(l, voucher(500))).toMatchObject({ verdict: 'allow' })
    expect(spent(l)).toBe(500n)
  })

  it('per-tx caps apply to the increase, not to the running total', () => {
    const l = new SpendLedger()
    // perTx 1000: running totals far above it pass while each step is ≤ 1000.
    const p = policy({ budgets: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, perTx: '1000', rolling24h: '100000' }] })
    for (let t = 900; t <= 3600; t += 900) expect(decide(l, voucher(t), p).verdict).toBe('allow')
    expect(decide(l, voucher(4601), p)).toMatchObject({ verdict: 'deny', code: 'policy_per_tx_cap_exceeded' })
    expect(decide(l, voucher(4600), p).verdict).toBe('allow')
  })

  it('a voucher stream stops exactly at the rolling cap (calendar day 4,000 in the mock budget)', () => {
    const l = new SpendLedger()
    let t = 0
    for (;;) {
      const v = decide(l, voucher(t + 7))
      if (v.verdict !== 'allow') {
        expect(v).toMatchObject({ code: 'policy_calendar_day_cap_exceeded', remaining: String(4000 - t) })
        break
      }
      t += 7
    }
    expect(spent(l)).toBe(BigInt(t))
    expect(t).toBe(3997)
    expect(decide(l, voucher(4000)).verdict).toBe('allow')
    expect(spent(l)).toBe(4000n)
  })

  it('deposits are limited by the locked-funds budget per channel and in total; vouchers free what they promise', () => {
    const l = new SpendLedger()
    expect(decide(l, deposit(3000)).verdict).toBe('allow')
    // A deposit is not a spend.
    expect(spent(l)).toBe(0n)
    expect(decide(l, deposit(1))).toMatchObject({ verdict: 'deny', code: 'policy_locked_funds_exceeded', rule: 'lockedFunds.perChannel', remaining: '0' })
    expect(decide(l, deposit(2000, CH2)).verdict).toBe('allow')
    expect(decide(l, deposit(1, CH2))).toMatchObject({ verdict: 'deny', code: 'policy_locked_funds_exceeded', rule: 'lockedFunds.total' })
    // A voucher promising 1,000 of channel 1 to the merchant: 1,000 less is locked.
    decide(l, voucher(1000))
    expect(l.locked(MOCK_CHAIN, MOCK_USDC.toLowerCase())).toBe(4000n)
    expect(decide(l, deposit(1000)).verdict).toBe('allow')
  })

  it('escrowNotAllowed and no locked-funds budget: refused before any rule', () => {
    const l = new SpendLedger()
    expect(decide(l, deposit(1), policy({ escrows: undefined }))).toMatchObject({ verdict: 'deny', code: 'policy_escrow_not_allowed' })
    expect(decide(l, voucher(1), policy({ escrows: ['0x3333333333333333333333333333333333333333'] }))).toMatchObject({ verdict: 'deny', code: 'policy_escrow_not_allowed' })
    expect(decide(l, deposit(1), policy({ lockedFunds: undefined }))).toMatchObject({ verdict: 'deny', code: 'policy_no_locked_budget' })
    expect(l.channel(CH1)).toBeUndefined()
  })

  it('the pay-to list applies to the channel’s receiver; the highest total survives a snapshot and replay', () => {
    const l = new SpendLedger()
    expect(decide(l, { ...voucher(5), receiver: '0x3333333333333333333333333333333333333333' })).toMatchObject({ verdict: 'deny', code: 'policy_payto_not_allowed' })
    decide(l, deposit(700))
    decide(l, voucher(300))
    const copy = SpendLedger.fromJSON(JSON.parse(JSON.stringify(l.toJSON())))
    expect(copy.channel(CH1)).toEqual({ chainId: MOCK_CHAIN, asset: MOCK_USDC.toLowerCase(), deposited: 700n, signed: 300n })
    expect(decide(copy, voucher(350)).events.find((e) => e.type === 'spend')).toMatchObject({ amount: '50' })
  })

  it('policy explain shows the escrow stage', () => {
    const l = new SpendLedger()
    decide(l, voucher(10))
    const out = explainPolicy({ policy: policy(), action: bindAction(voucher(9), l), agentId: MOCK_AGENT, ledger: l, now: T0 })
    expect(out.trace.stages).toContainEqual(expect.objectContaining({ name: 'channel', ok: false, code: 'policy_voucher_total_decreased' }))
  })
  it('channelFlood: a wallet keeps at most MAX_CHANNELS_PER_WALLET channels; existing ones keep working', () => {
    const l = new SpendLedger()
    const p = policy({ budgets: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, perTx: '1000', rolling24h: '100000' }] })
    const id = (i: number) => `0x${i.toString(16).padStart(64, '0')}`
    for (let i = 0; i < MAX_CHANNELS_PER_WALLET; i++) expect(decide(l, voucher(1, id(i)), p).verdict).toBe('allow')
    expect(decide(l, voucher(1, id(MAX_CHANNELS_PER_WALLET)), p)).toMatchObject({ verdict: 'deny', code: 'policy_channel_limit' })
    expect(decide(l, deposit(5, id(MAX_CHANNELS_PER_WALLET)), p)).toMatchObject({ verdict: 'deny', code: 'policy_channel_limit' })
    expect(decide(l, voucher(2, id(0)), p).verdict).toBe('allow')
  })
})
