import { describe, expect, it } from 'vitest'
import { OWNER_LIMITS } from '../shared/owner/ownerLimits.js'
import { SpendLedger } from '../core/ledger/SpendLedger.js'
import type { Governance, WalletRecord } from '../core/state/stateTypes.js'
import { PROPOSAL_TTL_MS, actClass, approveThreshold, liveProposals, loneApprovals, quorumStep } from './quorum.js'
import type { VerifiedOwnerAct } from './verifyOwnerAct.js'

const A = '0x00000000000000000000000000000000000000aa' as const
const B = '0x00000000000000000000000000000000000000bb' as const
const C = '0x00000000000000000000000000000000000000cc' as const
const T0 = 1_800_000_000_000
const gov: Governance = { owners: [A, B, C], thresholds: { stop: 1, approve: 2, loosen: 2, agents: 3, owners: 2 }, delayMs: 0 }
const wallet = (over: Partial<WalletRecord> = {}): WalletRecord => ({
  address: '0x1111111111111111111111111111111111111111', privateKey: new Uint8Array(32), owner: A, label: '', createdAt: T0, ownerSeq: 5,
  rolledBack: false, agents: new Map(), policies: new Map(), ledger: new SpendLedger(), governance: gov, ...over,
})
const freeze = (signer: `0x${string}`, frozen: boolean, seq = '6'): VerifiedOwnerAct => ({
  primaryType: 'FreezeAgent', message: { wallet: '0x1111111111111111111111111111111111111111', agentId: `agt_${'0'.repeat(40)}`, frozen, seq }, signer,
})
const step = (w: WalletRecord, act: VerifiedOwnerAct, now = T0) => quorumStep({ wallet: w, act, cls: actClass(act, true), policyText: null, now, seq: Number((act.message as { seq: string }).seq) })

describe('quorum (pure): m-of-n per class of act', () => {
  it('a wallet without an owner set is its creating owner alone, every threshold 1', () => {
    const w = wallet({ governance: undefined })
    expect(step(w, freeze(A, false))).toEqual({ apply: true })
    expect(() => step(w, freeze(B, true))).toThrow(/not an owner/)
  })

  it('stop applies on one signature; loosening collects signatures until the threshold, once per owner', () => {
    const w = wallet()
    expect(step(w, freeze(C, true))).toEqual({ apply: true })
    const first = step(w, freeze(A, false))
    expect(first).toMatchObject({ apply: false, proposal: { signers: [A], threshold: 2, actClass: 'loosen', expiresAt: T0 + PROPOSAL_TTL_MS } })
    if (first.apply) throw new Error('unreachable')
    w.proposals = first.proposals
    expect(() => step(w, freeze(A, false))).toThrow(/already signed/)
    expect(step(w, freeze(B, false))).toEqual({ apply: true })
  })

  it('a removed owner’s partial signature no longer counts; expired proposals and proposals for a past seq are gone', () => {
    const w = wallet({ governance: { ...gov, thresholds: { ...gov.thresholds, agents: 2 } } })
    const first = step(w, freeze(C, false))
    if (first.apply) throw new Error('unreachable')
    w.proposals = first.proposals
    // C leaves the owner set: its signature on the open proposal is dropped, so A alone is still one of two.
    w.governance = { ...gov, owners: [A, B] }
    const again = step(w, freeze(A, false))
    expect(again).toMatchObject({ apply: false, proposal: { signers: [A] } })
    expect(liveProposals(w, T0 + PROPOSAL_TTL_MS)).toEqual([])
    expect(liveProposals({ ...w, ownerSeq: 6 }, T0)).toEqual([])
  })

  it(`at most ${OWNER_LIMITS.proposalsPerWallet} open proposals per wallet, one per proposing owner (a rogue owner cannot fill them)`, () => {
    const D = '0x00000000000000000000000000000000000000dd' as const
    const w = wallet({ governance: { ...gov, owners: [A, B, C, D] } })
    const unfreeze = (who: `0x${string}`, i: number) => ({ ...freeze(who, false), message: { ...freeze(who, false).message, agentId: `agt_${String(i).repeat(40)}` } }) as VerifiedOwnerAct
    for (let i = 0; i < 5; i++) {
      // A proposes again and again: each new proposal replaces A's previous one.
      const r = step(w, unfreeze(A, i))
      if (r.apply) throw new Error('unreachable')
      w.proposals = r.proposals
    }
    expect(w.proposals!.map((x) => JSON.parse(x.message).agentId)).toEqual([`agt_${'4'.repeat(40)}`])
    for (const [who, i] of [[B, 5], [C, 6]] as const) {
      const r = step(w, unfreeze(who, i))
      if (r.apply) throw new Error('unreachable')
      w.proposals = r.proposals
    }
    expect(w.proposals).toHaveLength(OWNER_LIMITS.proposalsPerWallet)
    expect(() => step(w, unfreeze(D, 7))).toThrow(/waiting for signatures/)
  })

  it('classes: stop for freeze, revoke, reject and narrowing; loosen for unfreeze and widening; approve, agents, owners', () => {
    const m = { wallet: A, agentId: 'x', seq: '1' }
    const c = (primaryType: string, extra: Record<string, unknown> = {}, widens = false) => actClass({ primaryType, message: { ...m, ...extra }, signer: A } as VerifiedOwnerAct, widens)
    expect([c('RevokeAgent'), c('RevokePolicy'), c('ResolvePending', { approve: false }), c('SetPolicy'), c('SetWalletPolicy')]).toEqual(['stop', 'stop', 'stop', 'stop', 'stop'])
    expect([c('SetPolicy', {}, true), c('FreezeAgent', { frozen: false })]).toEqual(['loosen', 'loosen'])
    expect([c('ResolvePending', { approve: true }), c('IssuePermit'), c('CreditBudget'), c('RegisterAgent'), c('SetOwners'), c('Resync')]).toEqual([
      'approve', 'approve', 'approve', 'agents', 'owners', 'owners',
    ])
  })

  it('approve-above: lone approvals add up over 24 h (merged per hour, pruned after 24 h); quorum approvals do not count', () => {
    const TOKEN = '0x00000000000000000000000000000000000000ee'
    const w = wallet({ governance: { ...gov, thresholds: { ...gov.thresholds, approve: 1 }, approveAbove: [{ chainId: 1, asset: TOKEN, above: '1000', quorum: 2 }] } })
    const credit = (amount: string, asset = TOKEN): VerifiedOwnerAct =>
      ({ primaryType: 'CreditBudget', message: { wallet: w.address, agentId: `agt_${'0'.repeat(40)}`, chainId: '1', asset, amount, seq: '6' }, signer: A }) as VerifiedOwnerAct
    expect(approveThreshold(w, credit('600'), T0)).toBe(1)
    w.loneApproved = loneApprovals(w, credit('600'), 1, T0)
    expect(w.loneApproved).toEqual([{ chainId: 1, asset: TOKEN, amount: '600', at: T0 }])
    expect(approveThreshold(w, credit('400'), T0)).toBe(1)
    expect(approveThreshold(w, credit('401'), T0)).toBe(2)
    expect(approveThreshold(w, credit('5000', `0x${'0'.repeat(39)}f`), T0)).toBe(1) // another asset: no rule
    expect(loneApprovals(w, credit('5000'), 2, T0)).toEqual(w.loneApproved) // approved with the quorum: not counted
    w.loneApproved = loneApprovals(w, credit('300'), 1, T0 + 1_000)
    expect(w.loneApproved).toEqual([{ chainId: 1, asset: TOKEN, amount: '900', at: T0 + 1_000 }])
    w.loneApproved = loneApprovals(w, credit('50'), 1, T0 + 2 * 3_600_000)
    expect(w.loneApproved).toHaveLength(2)
    expect(approveThreshold(w, credit('51'), T0 + 2 * 3_600_000)).toBe(2)
    expect(approveThreshold(w, credit('950'), T0 + 1_000 + 24 * 3_600_000)).toBe(1) // the 900 left the window, 50 is in
    expect(loneApprovals(w, credit('1'), 1, T0 + 3 * 24 * 3_600_000)).toEqual([{ chainId: 1, asset: TOKEN, amount: '1', at: T0 + 3 * 24 * 3_600_000 }])
  })
})
