import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { LedgerEvent } from '../ledger/LedgerEvent.js'
import { HOUR_MS, SpendLedger } from '../ledger/SpendLedger.js'
import { evaluatePolicy } from './evaluatePolicy.js'
import { issuePermit } from './issuePermit.js'
import { MOCK_CHAIN, MOCK_PAYTO, MOCK_USDC, mockPayment, mockPolicy } from '../../test/helpers/mockPolicy.js'

const AGENTS = ['agt_0123456789abcdef0123456789abcdef01234567', 'agt_ffffffffffffffffffffffffffffffffffffffff']
const TZ = 'America/New_York'
const CAPS = { perTx: 1000n, rolling24h: 3000n, calendarDay: 2500n }
/** Independent day key (not the evaluator's localTime): the calendar date in TZ. */
const dayOf = (t: number) => new Date(t).toLocaleDateString('en-CA', { timeZone: TZ })

const op = fc.oneof(
  { weight: 8, arbitrary: fc.record({ k: fc.constant('pay' as const), agent: fc.nat(1), amount: fc.bigInt({ min: 0n, max: 1200n }), dt: fc.oneof(fc.nat(2000), fc.nat(4 * HOUR_MS)) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('freeze' as const), agent: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('unfreeze' as const), agent: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('revoke' as const), agent: fc.nat(1) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('permit' as const), agent: fc.nat(1), amount: fc.bigInt({ min: 1n, max: 2000n }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('usePermit' as const), agent: fc.nat(1), amount: fc.bigInt({ min: 0n, max: 2000n }) }) },
)

describe('evaluatePolicy: property', () => {
  it('allowed totals never exceed any cap, frozen or revoked agents never get allow, replay rebuilds the live ledger', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), fc.nat(120), (ops, snapAt) => {
        const ledger = new SpendLedger()
        const log: LedgerEvent[] = []
        const apply = (es: LedgerEvent[]) => es.forEach((e) => (ledger.apply(e), log.push(e)))
        const policies = AGENTS.map((agentId) =>
          mockPolicy({
            agentId,
            timeZone: TZ,
            budgets: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, perTx: '1000', rolling24h: '3000', calendarDay: '2500' }],
            rules: [{ id: 'pay', effect: 'allow', kinds: ['eip3009'] }],
          }),
        )
        const revoked = new Set<number>()
        const allowed: { agent: string; at: number; amount: bigint }[][] = [[], []]
        let now = Date.UTC(2026, 2, 7, 12) // the day before New York's DST change
        let permits = 0
        let snapshot: ReturnType<SpendLedger['toJSON']> | null = null
        let snapLen = 0
        ops.forEach((o, i) => {
          if (i === snapAt) ((snapshot = JSON.parse(JSON.stringify(ledger))), (snapLen = log.length))
          const agentId = AGENTS[o.agent]!
          if (o.k === 'freeze' && !ledger.frozenInfo(agentId)) apply([{ type: 'agent_frozen', agentId, reason: 'owner', at: now }])
          if (o.k === 'unfreeze' && ledger.frozenInfo(agentId)) apply([{ type: 'agent_unfrozen', agentId, at: now }])
          if (o.k === 'revoke') revoked.add(o.agent)
          if (o.k === 'permit') {
            const r = issuePermit(ledger, { permitId: `p${++permits}`, agentId, chainId: MOCK_CHAIN, asset: MOCK_USDC, amount: o.amount.toString(), payTo: MOCK_PAYTO, host: null, expiresAt: now + HOUR_MS, exceedCaps: false, now })
            if (r.ok) apply(r.events)
          }
          if (o.k === 'pay' || o.k === 'usePermit') {
            if (o.k === 'pay') now += o.dt
            const policy = revoked.has(o.agent) ? { ...policies[o.agent]!, expiresAt: now } : policies[o.agent]!
            const permitId = o.k === 'usePermit' ? `p${permits}` : undefined
            const v = evaluatePolicy({ policy, action: mockPayment(o.amount, now), agentId, ledger, now, permitId })
            apply(v.events)
            if (v.verdict !== 'allow') return
            expect(ledger.frozenInfo(agentId), 'frozen agent allowed').toBeUndefined()
            expect(revoked.has(o.agent), 'revoked agent allowed').toBe(false)
            expect(o.amount <= CAPS.perTx || permitId !== undefined).toBe(true)
            const mine = allowed[o.agent]!
            mine.push({ agent: agentId, at: now, amount: o.amount })
            const rolling = mine.filter((s) => s.at > now - 24 * HOUR_MS).reduce((a, s) => a + s.amount, 0n)
            const day = mine.filter((s) => dayOf(s.at) === dayOf(now)).reduce((a, s) => a + s.amount, 0n)
            expect(rolling <= CAPS.rolling24h, `rolling ${rolling}`).toBe(true)
            expect(day <= CAPS.calendarDay, `day ${day}`).toBe(true)
          }
        })
        // Replay: from nothing, and from a mid-way snapshot, through the same apply.
        const replayed = new SpendLedger()
        for (const e of JSON.parse(JSON.stringify(log)) as LedgerEvent[]) replayed.apply(e)
        expect(replayed.toJSON()).toEqual(ledger.toJSON())
        if (snapshot) {
          const resumed = SpendLedger.fromJSON(snapshot)
          for (const e of log.slice(snapLen)) resumed.apply(e)
          expect(resumed.toJSON()).toEqual(ledger.toJSON())
        }
      }),
      { numRuns: 300 },
    )
  })
})

describe('evaluatePolicy: events always replay', () => {
  it('every event of every verdict passes the ledger event schema (replay never halts on agent-chosen input)', async () => {
    const { LedgerEventSchema } = await import('../ledger/LedgerEvent.js')
    const policy = mockPolicy({
      budgets: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, perTx: `1${'0'.repeat(70)}` }],
      risk: { spendSpike: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, multiplierPct: 100, baselineHours: 1, minimum: '0' }], denialBurst: { count: 1, windowMinutes: 1 } },
    })
    const now = Date.UTC(2026, 10, 24)
    const huge = `9${'9'.repeat(69)}`
    const longHost = `https://${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(60)}.com/`
    const plain = mockPolicy({ budgets: policy.budgets })
    for (const [amount, url, p] of [[huge, longHost, plain], [huge, longHost, policy], [`${huge}9`, longHost, policy]] as const) {
      const v = evaluatePolicy({ policy: p, action: mockPayment(amount, now), context: { resourceUrl: url }, agentId: AGENTS[0]!, ledger: new SpendLedger(), now })
      if (p === plain) expect(v.events.find((e) => e.type === 'spend')).toMatchObject({ host: null, amount: huge })
      for (const e of v.events) expect(LedgerEventSchema.safeParse(JSON.parse(JSON.stringify(e))).success, JSON.stringify(e)).toBe(true)
    }
  })
})
