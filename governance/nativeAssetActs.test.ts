import { describe, expect, it } from 'vitest'
import { SpendLedger } from '../core/ledger/SpendLedger.js'
import type { WalletRecord } from '../core/state/stateTypes.js'
import { ledgerActEvents } from '../core/owner/ledgerActEvents.js'
import { approveThreshold } from './quorum.js'
import type { VerifiedOwnerAct } from './verifyOwnerAct.js'

// Owner acts name an asset by EIP-712 address, so the native coin is the zero address; the ledger names it `native`.
const ZERO = '0x0000000000000000000000000000000000000000'
const TOKEN = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'
const OWNER = '0x00000000000000000000000000000000000000aa' as const
const AGENT = `agt_${'1'.repeat(40)}`
const T0 = 1_800_000_000_000
const wallet = (): WalletRecord => ({
  address: '0x1111111111111111111111111111111111111111', privateKey: new Uint8Array(32), owner: OWNER, label: '', createdAt: T0, ownerSeq: 5, rolledBack: false,
  agents: new Map([[AGENT, { agentId: AGENT, publicKey: new Uint8Array(32), label: '', status: 'active', registeredAt: T0 }]]),
  policies: new Map(), ledger: new SpendLedger(),
})
const spend = (asset: string, amount: bigint) =>
  ({ type: 'spend', agentId: AGENT, chainId: 84532, asset, amount: String(amount), payTo: null, role: asset === 'native' ? 'value' : 'transfer', host: null, at: T0, validBefore: null }) as const
const act = (primaryType: 'CreditBudget' | 'IssuePermit', asset: string, extra: Record<string, unknown> = {}) =>
  ({ primaryType, signer: OWNER, message: { wallet: '0x1111111111111111111111111111111111111111', agentId: AGENT, chainId: '84532', asset, amount: '30', seq: '6', ...extra } }) as unknown as VerifiedOwnerAct

describe('owner acts on the native coin (zero address in the act, `native` in the ledger)', () => {
  it('a CreditBudget for the zero address gives native budget back (was credited to an unused 0x00… key)', () => {
    const w = wallet()
    w.ledger.apply(spend('native', 100n))
    expect(w.ledger.usedAfter(AGENT, 84532, 'native', T0 - 1, T0)).toBe(100n)
    const out = ledgerActEvents({ wallet: w, act: act('CreditBudget', ZERO) as never, now: T0 + 1 })
    expect(out.events).toMatchObject([{ type: 'budget_credit', asset: 'native', amount: '30' }])
    for (const e of out.events) w.ledger.apply(e)
    expect(w.ledger.usedAfter(AGENT, 84532, 'native', T0 - 1, T0 + 1)).toBe(70n)
  })

  it('a token credit stays the token’s, lower-cased', () => {
    const w = wallet()
    w.ledger.apply(spend(TOKEN.toLowerCase(), 100n))
    const out = ledgerActEvents({ wallet: w, act: act('CreditBudget', TOKEN) as never, now: T0 + 1 })
    for (const e of out.events) w.ledger.apply(e)
    expect(w.ledger.usedAfter(AGENT, 84532, TOKEN.toLowerCase(), T0 - 1, T0 + 1)).toBe(70n)
    expect(w.ledger.usedAfter(AGENT, 84532, 'native', T0 - 1, T0 + 1)).toBe(0n)
  })

  it('an IssuePermit for the zero address is a native permit', () => {
    const out = ledgerActEvents({
      wallet: wallet(),
      act: act('IssuePermit', ZERO, { permitId: 'p1', payTo: '0x00000000000000000000000000000000000000bb', host: '', expiresAt: String(T0 + 3_600_000), exceedCaps: false }) as never,
      now: T0,
    })
    expect(out.events).toMatchObject([{ type: 'permit_issued', asset: 'native' }])
  })

  it('approve-above counts the same act as native (one name on both sides)', () => {
    const w = wallet()
    w.governance = { owners: [OWNER], thresholds: { stop: 1, approve: 1, loosen: 1, agents: 1, owners: 1 }, delayMs: 0, approveAbove: [{ chainId: 84532, asset: 'native', above: '10', quorum: 1 }] }
    expect(approveThreshold(w, act('CreditBudget', ZERO), T0)).toBe(1)
  })
})
