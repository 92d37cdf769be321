import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Policy, parsePolicy, policyHash } from '../shared/schemas/policy.js'
import { MOCK_AGENT, MOCK_CHAIN, MOCK_USDC, MOCK_WALLET, mockPayment } from '../test/helpers/mockPolicy.js'
import { SpendLedger } from '../core/ledger/SpendLedger.js'
import { evaluatePolicy } from '../core/policy/evaluatePolicy.js'
import type { WalletRecord } from '../core/state/stateTypes.js'
import { actClass } from './quorum.js'
import { policyAt, timeLockChange, widenings } from './timeLock.js'
import type { VerifiedOwnerAct } from './verifyOwnerAct.js'
import { applyWalletChange, walletActChange } from './walletActChange.js'

const DELAY = 60_000
const T0 = Date.UTC(2026, 10, 24, 12)
const PAYEES = ['0x2222222222222222222222222222222222222222', '0x3333333333333333333333333333333333333333', '0x4444444444444444444444444444444444444444']
const OWNER = '0x00000000000000000000000000000000000000aa' as const

type Shape = { perTx: number; rolling: number | null; payees: number[]; validity: number | null; deny: number | null }
const shape = fc.record({
  perTx: fc.integer({ min: 1, max: 3000 }),
  rolling: fc.option(fc.integer({ min: 1, max: 5000 }), { nil: null }),
  payees: fc.uniqueArray(fc.nat(2), { minLength: 1, maxLength: 3 }),
  validity: fc.option(fc.integer({ min: 60, max: 900 }), { nil: null }),
  deny: fc.option(fc.nat(2), { nil: null }),
})
const policyOf = (s: Shape, version: number): Policy =>
  parsePolicy({
    version,
    wallet: MOCK_WALLET,
    agentId: MOCK_AGENT,
    timeZone: 'UTC',
    tokens: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, name: 'USDC', version: '2', decimals: 6 }],
    budgets: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, perTx: String(s.perTx), ...(s.rolling === null ? {} : { rolling24h: String(s.rolling) }) }],
    rules: [
      ...(s.deny === null ? [] : [{ id: 'no', effect: 'deny', payTo: { in: [PAYEES[s.deny]] } }]),
      { id: 'pay', effect: 'allow', kinds: ['eip3009'], payTo: { in: s.payees.map((i) => PAYEES[i]) }, ...(s.validity === null ? {} : { maxValiditySeconds: s.validity }) },
    ],
  })

const op = fc.oneof(
  { weight: 5, arbitrary: fc.record({ k: fc.constant('set' as const), shape, dt: fc.nat(DELAY * 2) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('wait' as const), dt: fc.oneof(fc.nat(DELAY * 2), fc.constantFrom(DELAY - 1, DELAY, DELAY + 1)) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cancel' as const), dt: fc.nat(1000) }) },
)
/** A probe payment: amount, payee and how long it stays valid. */
type Probe = { amount: number; payee: number; valid: number }
const probe: fc.Arbitrary<Probe> = fc.record({ amount: fc.integer({ min: 1, max: 3500 }), payee: fc.nat(2), valid: fc.constantFrom(120, 300, 1200) })

describe('time lock: property', () => {
  it('for random sequences of owner policy acts, what the agent may do never widens before the delay has passed', () => {
    fc.assert(
      fc.property(shape, fc.array(op, { maxLength: 40 }), fc.array(probe, { minLength: 1, maxLength: 6 }), (initial, ops, probes) => {
        let now = T0
        let version = 1
        const first = policyOf(initial, 1)
        const wallet: WalletRecord = {
          address: MOCK_WALLET, privateKey: new Uint8Array(32), owner: OWNER, label: '', createdAt: T0, ownerSeq: 0, rolledBack: false,
          agents: new Map([[MOCK_AGENT, { agentId: MOCK_AGENT, publicKey: new Uint8Array(32), label: '', status: 'active', registeredAt: T0 }]]),
          policies: new Map([[MOCK_AGENT, { agentId: MOCK_AGENT, json: JSON.stringify(first), version: 1, hash: policyHash(first) }]]),
          ledger: new SpendLedger(),
          governance: { owners: [OWNER], thresholds: { stop: 1, approve: 1, loosen: 1, agents: 1, owners: 1 }, delayMs: DELAY },
        }
        /** Every policy accepted, with when; the first counts as accepted long ago. */
        const accepted: { policy: Policy; at: number }[] = [{ policy: first, at: T0 - DELAY }]
        const allows = (p: Policy, pr: Probe) =>
          evaluatePolicy({ policy: p, action: mockPayment(String(pr.amount), now, { payTo: PAYEES[pr.payee]!, validBefore: Math.floor(now / 1000) + pr.valid }), agentId: MOCK_AGENT, ledger: new SpendLedger(), now }).verdict === 'allow'
        const check = () => {
          const rec = policyAt(wallet, MOCK_AGENT, now)!
          const inForce = parsePolicy(rec.json)
          const mature = accepted.filter((a) => a.at + DELAY <= now).map((a) => a.policy)
          for (const pr of probes) {
            // SECURITY property: anything the policy in force allows, some policy accepted at least DELAY ago allowed.
            if (allows(inForce, pr)) expect(mature.some((m) => allows(m, pr))).toBe(true)
          }
          // And caps: the per-transaction budget in force is never above every mature policy's.
          expect(Number(inForce.budgets[0]!.perTx)).toBeLessThanOrEqual(Math.max(...mature.map((m) => Number(m.budgets[0]!.perTx))))
        }
        for (const o of ops) {
          now += o.dt
          applyWalletChange(wallet, { type: 'scheduled_due', now })
          check()
          if (o.k === 'wait') continue
          if (o.k === 'cancel') {
            const s = wallet.scheduled?.[0]
            if (s) applyWalletChange(wallet, { type: 'scheduled_cancelled', actHash: s.actHash })
            continue
          }
          version += 1
          const p = policyOf(o.shape, version)
          const act = { primaryType: 'SetPolicy', message: { wallet: MOCK_WALLET, agentId: MOCK_AGENT, version: String(version), policyHash: policyHash(p), seq: String(version) }, signer: OWNER } as Extract<VerifiedOwnerAct, { primaryType: 'SetPolicy' }>
          const out = walletActChange({ wallet, act, policyText: JSON.stringify(p), now })
          const widens = widenings(wallet, out.change, now)
          expect(actClass(act, widens.length > 0)).toBe(widens.length > 0 ? 'loosen' : 'stop')
          applyWalletChange(wallet, timeLockChange(wallet, out.change, widens, `0x${version.toString(16).padStart(64, '0')}`, now))
          // Accepted now, narrowing or not: a narrowing in force at once must allow nothing that the policy it replaced (and
          // so, by induction, some policy accepted at least DELAY ago) did not, so the classifier is under test too.
          accepted.push({ policy: p, at: now })
          check()
        }
      }),
      { numRuns: 300 },
    )
  })
})
