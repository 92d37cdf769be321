import { describe, expect, it } from 'vitest'
import { OWNER_LIMITS } from '../owner/ownerLimits.js'
import { createCounts as countsOfState, createStillFits } from './createCounts.js'

/** The counts of wallets and nonces given apart (as arrays). */
const createCounts = (wallets: Parameters<typeof countsOfState>[0]['wallets'], createNonces: Parameters<typeof countsOfState>[0]['createNonces'], ...rest: [Parameters<typeof countsOfState>[1], string, string, number]) => countsOfState({ wallets, createNonces }, ...rest)
const owner = `0x${'aa'.repeat(20)}`
const other = `0x${'bb'.repeat(20)}`
const open = { kind: 'open' as const, owners: new Set<string>(), tag: '' }
const wallets = (mine: number, others: number) => [...Array(mine).fill({ owner }), ...Array(others).fill({ owner: other })] as Array<{ owner: string }>
const step = { nonce: '0x01', pruneBefore: 1_000 }
const view = { admitted: false, allowlist: false }

/** create37: what a create decision re-checks at apply (enclave/owner/applyOwnerAct.ts checkDecision). */
describe('createStillFits', () => {
  it("fits when others' creates moved the counts but the limits hold", () => {
    expect(createStillFits(createCounts(wallets(1, 20), [['0x02', 2_000]], open, owner, step.nonce, step.pruneBefore), view, step.pruneBefore, -Infinity)).toBe(true)
  })
  it('refuses a nonce used since the view (a live one), not an expired one', () => {
    expect(createStillFits(createCounts(wallets(0, 0), [['0x01', 1_000]], open, owner, step.nonce, step.pruneBefore), view, step.pruneBefore, -Infinity)).toBe(false)
    expect(createStillFits(createCounts(wallets(0, 0), [['0x01', 999]], open, owner, step.nonce, step.pruneBefore), view, step.pruneBefore, -Infinity)).toBe(true)
  })
  it('refuses one more wallet past the per-owner, total and live-create limits', () => {
    expect(createStillFits(createCounts(wallets(OWNER_LIMITS.walletsPerOwner, 0), [], open, owner, step.nonce, step.pruneBefore), view, step.pruneBefore, -Infinity)).toBe(false)
    expect(createStillFits(createCounts(wallets(OWNER_LIMITS.walletsPerOwner - 1, 0), [], open, owner, step.nonce, step.pruneBefore), view, step.pruneBefore, -Infinity)).toBe(true)
    expect(createStillFits(createCounts(wallets(0, OWNER_LIMITS.walletsTotal), [], open, owner, step.nonce, step.pruneBefore), view, step.pruneBefore, -Infinity)).toBe(false)
    expect(createStillFits(createCounts(wallets(0, OWNER_LIMITS.walletsTotal - 1), [], open, owner, step.nonce, step.pruneBefore), view, step.pruneBefore, -Infinity)).toBe(true)
    const nonces = (n: number, t: number) => Array.from({ length: n }, (_, i): [string, number] => [`0x1${i}`, t])
    expect(createStillFits(createCounts([], nonces(OWNER_LIMITS.createNonces, 1_000), open, owner, step.nonce, step.pruneBefore), view, step.pruneBefore, -Infinity)).toBe(false)
    expect(createStillFits(createCounts([], nonces(OWNER_LIMITS.createNonces, 999), open, owner, step.nonce, step.pruneBefore), view, step.pruneBefore, -Infinity)).toBe(true)
  })
  it("refuses another admission than the view's", () => {
    const allow = { kind: 'allowlist' as const, owners: new Set([owner]), tag: '' }
    expect(createStillFits(createCounts([], [], allow, owner, step.nonce, step.pruneBefore), { admitted: true, allowlist: true }, step.pruneBefore, -Infinity)).toBe(true)
    expect(createStillFits(createCounts([], [], allow, other, step.nonce, step.pruneBefore), { admitted: true, allowlist: true }, step.pruneBefore, -Infinity)).toBe(false)
    expect(createStillFits(createCounts([], [], open, owner, step.nonce, step.pruneBefore), { admitted: true, allowlist: true }, step.pruneBefore, -Infinity)).toBe(false)
  })
  it('refuses a decision whose live window reaches a nonce a later create pruned (rt37c: a held twin, a clock set back)', () => {
    const counts = createCounts([], [], open, owner, step.nonce, step.pruneBefore)
    expect(createStillFits(counts, view, step.pruneBefore, 999)).toBe(true)
    expect(createStillFits(counts, view, step.pruneBefore, 1_000)).toBe(false)
    expect(createStillFits(counts, view, step.pruneBefore, 5_000)).toBe(false)
  })
})
