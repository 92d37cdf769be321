import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SpendLedger } from '../core/ledger/SpendLedger.js'
import type { WalletRecord } from '../core/state/stateTypes.js'
import { applyWalletChange } from './walletActChange.js'

/**
 * diet12c: five WalletChange variants (owners_set, proposals_set, exit_set, held_set, lone_approved_set) became one
 * `governance_set` applied by Object.assign. The reference below is the old code, verbatim in effect: each variant set
 * exactly one field. Old and new must leave equal wallets (same keys present, same values) from generated wallets.
 */
type Old =
  | { type: 'owners_set'; governance: WalletRecord['governance'] }
  | { type: 'proposals_set'; proposals: NonNullable<WalletRecord['proposals']> }
  | { type: 'exit_set'; exit: WalletRecord['exit'] }
  | { type: 'held_set'; held: NonNullable<WalletRecord['held']> }
  | { type: 'lone_approved_set'; lone: NonNullable<WalletRecord['loneApproved']> }

function applyOld(wallet: WalletRecord, c: Old): void {
  switch (c.type) {
    case 'owners_set':
      wallet.governance = c.governance
      return
    case 'proposals_set':
      wallet.proposals = c.proposals
      return
    case 'exit_set':
      wallet.exit = c.exit
      return
    case 'held_set':
      wallet.held = c.held
      return
    case 'lone_approved_set':
      wallet.loneApproved = c.lone
      return
  }
}

/** The new form of an old change: what every call site now writes. */
function asNew(c: Old) {
  switch (c.type) {
    case 'owners_set':
      return { type: 'governance_set' as const, set: { governance: c.governance } }
    case 'proposals_set':
      return { type: 'governance_set' as const, set: { proposals: c.proposals } }
    case 'exit_set':
      return { type: 'governance_set' as const, set: { exit: c.exit } }
    case 'held_set':
      return { type: 'governance_set' as const, set: { held: c.held } }
    case 'lone_approved_set':
      return { type: 'governance_set' as const, set: { loneApproved: c.lone } }
  }
}

const hash = fc.constantFrom('0x' + 'ab'.repeat(32), '0x' + '01'.repeat(32)) as fc.Arbitrary<`0x${string}`>
const addr = fc.constantFrom('0x' + 'aa'.repeat(20), '0x' + 'bb'.repeat(20)) as fc.Arbitrary<`0x${string}`>
const t = fc.nat(2 ** 40)
const governance = fc.record({
  owners: fc.array(addr, { maxLength: 3 }),
  thresholds: fc.record({ stop: fc.nat(3), approve: fc.nat(3), loosen: fc.nat(3), agents: fc.nat(3), owners: fc.nat(3) }),
  delayMs: t,
  approveAbove: fc.option(fc.array(fc.record({ chainId: fc.nat(10), asset: fc.constant('native'), above: fc.constant('1'), quorum: fc.nat(3) }), { maxLength: 2 }), { nil: undefined }),
  prevDelay: fc.option(fc.record({ ms: t, until: t }), { nil: undefined }),
})
const proposals = fc.array(
  fc.record({ actHash: hash, primaryType: fc.constant('SetPolicy'), message: fc.string(), policy: fc.option(fc.string(), { nil: null }), actClass: fc.constant('loosen' as const), threshold: fc.nat(3), signers: fc.array(addr), seq: t, createdAt: t, expiresAt: t }),
  { maxLength: 3 },
)
const exit = fc.option(fc.record({ actHash: hash, recipientKey: hash, scheduledAt: t, effectiveAt: t, collectedAt: fc.option(t, { nil: undefined }) }), { nil: undefined })
const held = fc.array(fc.record({ actHash: hash, primaryType: fc.constant('UnfreezeAgent'), message: fc.string(), signer: addr, agentId: fc.string(), scheduledAt: t, effectiveAt: t }), { maxLength: 3 })
const lone = fc.array(fc.record({ chainId: fc.nat(10), asset: fc.constant('native'), amount: fc.constant('5'), at: t }), { maxLength: 3 })
const change: fc.Arbitrary<Old> = fc.oneof(
  governance.map((governance) => ({ type: 'owners_set' as const, governance })),
  proposals.map((proposals) => ({ type: 'proposals_set' as const, proposals })),
  exit.map((exit) => ({ type: 'exit_set' as const, exit })),
  held.map((held) => ({ type: 'held_set' as const, held })),
  lone.map((lone) => ({ type: 'lone_approved_set' as const, lone })),
)
/** A wallet with any subset of the governance fields present (absent, present as undefined, or set). */
const start = fc.record(
  { governance: fc.option(governance, { nil: undefined }), proposals: fc.option(proposals, { nil: undefined }), exit, held: fc.option(held, { nil: undefined }), loneApproved: fc.option(lone, { nil: undefined }) },
  { requiredKeys: [] },
)

function wallet(fields: Partial<WalletRecord>): WalletRecord {
  const base = { address: `0x${'cc'.repeat(20)}`, privateKey: new Uint8Array(32), owner: `0x${'aa'.repeat(20)}`, label: 'w', createdAt: 0, ownerSeq: 0, rolledBack: false }
  return { ...base, agents: new Map(), policies: new Map(), ledger: new SpendLedger(), ...structuredClone(fields) } as WalletRecord
}

describe('governance_set (diet12c) against the five setters it replaced', () => {
  it('leaves the same wallet as the old setter, for generated wallets and change sequences', () => {
    let runs = 0
    fc.assert(
      fc.property(start, fc.array(change, { minLength: 1, maxLength: 6 }), (fields, changes) => {
        const [a, b] = [wallet(fields), wallet(fields)]
        for (const c of changes) {
          applyOld(a, c)
          applyWalletChange(b, asNew(c))
          expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort())
          expect(b).toEqual(a)
        }
        runs++
      }),
      { numRuns: 2_000 },
    )
    expect(runs).toBe(2_000)
  })

  it('sets only the named field: an exit dropped stays as a present undefined key, as before', () => {
    const w = wallet({ exit: { actHash: `0x${'ab'.repeat(32)}`, recipientKey: `0x${'ab'.repeat(32)}`, scheduledAt: 1, effectiveAt: 2 }, held: [] })
    applyWalletChange(w, { type: 'governance_set', set: { exit: undefined } })
    expect(Object.hasOwn(w, 'exit')).toBe(true)
    expect(w.exit).toBeUndefined()
    expect(w.held).toEqual([])
  })
})
