import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { EnclaveError } from '../shared/errors/EnclaveError.js'
import { createCounts as countsOfState, createStillFits } from '../shared/governance/createCounts.js'
import { CREATE_WINDOW_MS, OWNER_LIMITS, checkLimit } from '../shared/owner/ownerLimits.js'
import type { Admission } from '../shared/owner/parseAdmission.js'
import { createWalletChange } from './createWalletChange.js'

/**
 * scope38: a create's view carried every owner's create nonces (up to 1,024); it now carries the named owner's counts,
 * the live nonces' count and whether the act's nonce is live. The reference below is main cc89caa's code, verbatim in
 * effect: the view's counts (createCounts), governance's use of them (governOwnerAct createWallet → createWalletChange's
 * checks) and the signer's re-check at apply (createStillFits). Over generated states, old and new must give the same
 * refusal code (or the same change), and the same apply verdict.
 */
type OldCounts = { createNonces: Array<[string, number]>; walletsTotal: number; ownerWallets: number; admitted: boolean; allowlist: boolean }
function oldCreateCounts(wallets: Iterable<{ owner: string }>, createNonces: Iterable<[string, number]>, admission: Admission, owner: string): OldCounts {
  let [total, mine] = [0, 0]
  for (const w of wallets) [total, mine] = [total + 1, mine + (w.owner.toLowerCase() === owner ? 1 : 0)]
  return { createNonces: [...createNonces], walletsTotal: total, ownerWallets: mine, admitted: admission.owners.has(owner), allowlist: admission.kind === 'allowlist' }
}
function oldCreateStillFits(now: OldCounts, view: { admitted: boolean; allowlist: boolean }, step: { nonce: string; pruneBefore: number }, newestPruned: number): boolean {
  if (newestPruned >= step.pruneBefore) return false
  const live = now.createNonces.filter(([, t]) => t >= step.pruneBefore)
  return now.admitted === view.admitted && now.allowlist === view.allowlist && !live.some(([n]) => n === step.nonce) &&
    now.walletsTotal < OWNER_LIMITS.walletsTotal && now.ownerWallets < OWNER_LIMITS.walletsPerOwner && live.length < OWNER_LIMITS.createNonces
}
/** governOwnerAct's createWallet over the old view, then the old createWalletChange's checks (its key step left out). */
function oldDecide(c: OldCounts, act: Act, now: number): { nonce: string; pruneBefore: number } {
  const owners = Array.from({ length: c.walletsTotal }, (_, i) => (i < c.ownerWallets ? act.message.owner : ''))
  const admission = { kind: c.allowlist ? ('allowlist' as const) : ('open' as const), owners: new Set(c.admitted ? [act.message.owner.toLowerCase()] : []), tag: '' }
  const createNonces = new Map(c.createNonces)
  const m = act.message
  if (act.signer.toLowerCase() !== m.owner.toLowerCase()) throw new EnclaveError('owner_signature_invalid', 'CreateWallet must be signed by the owner it names')
  const issuedAt = Number(m.issuedAt)
  if (Math.abs(now - issuedAt) > CREATE_WINDOW_MS) throw new EnclaveError('owner_act_stale', 'stale')
  const pruneBefore = now - 2 * CREATE_WINDOW_MS
  const nonce = m.nonce.toLowerCase()
  const live = [...createNonces].filter(([, t]) => t >= pruneBefore)
  if (live.some(([n]) => n === nonce)) throw new EnclaveError('owner_act_replayed', 'CreateWallet nonce already used')
  if (admission.kind === 'allowlist' && !admission.owners.has(m.owner.toLowerCase())) throw new EnclaveError('owner_not_admitted', 'not admitted')
  const mine = owners.filter((o) => o.toLowerCase() === m.owner.toLowerCase()).length
  checkLimit(owners.length < OWNER_LIMITS.walletsTotal, 'walletsTotal', '')
  checkLimit(mine < OWNER_LIMITS.walletsPerOwner, 'walletsPerOwner', '')
  checkLimit(live.length < OWNER_LIMITS.createNonces, 'createNonces', '')
  return { nonce, pruneBefore }
}

type Act = { primaryType: 'CreateWallet'; signer: `0x${string}`; message: { owner: `0x${string}`; label: string; nonce: `0x${string}`; issuedAt: string; auditChain: `0x${string}` } }
/** The counts of wallets and nonces given apart (as arrays). */
const createCounts = (wallets: Parameters<typeof countsOfState>[0]['wallets'], createNonces: Parameters<typeof countsOfState>[0]['createNonces'], ...rest: [Parameters<typeof countsOfState>[1], string, string, number]) => countsOfState({ wallets, createNonces }, ...rest)
const NOW = 1_800_000_000_000
const OWNERS = [1, 2, 3].map((n) => `0x${String(n).repeat(40)}` as `0x${string}`)
const NONCES = ['0a', '0b', 'Cc', 'dd'].map((n) => `0x${n.repeat(32)}` as `0x${string}`)
const owner = fc.constantFrom(...OWNERS)
/** A nonce's issuedAt around the live edge (now − 2 windows) and across the whole window. */
const at = fc.oneof(fc.integer({ min: -2, max: 2 }).map((d) => NOW - 2 * CREATE_WINDOW_MS + d), fc.integer({ min: NOW - 3 * CREATE_WINDOW_MS, max: NOW }))
const state = fc.record({
  wallets: fc.tuple(fc.array(owner.map((o) => ({ owner: o.toUpperCase().replace('0X', '0x') })), { maxLength: 8 }), fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: OWNER_LIMITS.walletsTotal - 9, max: OWNER_LIMITS.walletsTotal }))).map(([mine, others]) => [...mine, ...Array.from({ length: others }, () => ({ owner: `0x${'9'.repeat(40)}` }))]),
  nonces: fc.array(fc.tuple(fc.constantFrom(...NONCES).map((n) => n.toLowerCase()), at), { maxLength: 6 }),
  /** Filler nonces (others' creates), all at one time: some runs sit at the 1,024 limit. */
  filler: fc.tuple(fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: OWNER_LIMITS.createNonces - 3, max: OWNER_LIMITS.createNonces + 1 })), at),
  allowlist: fc.boolean(),
  admitted: fc.subarray(OWNERS),
})
const act = fc.record({ owner, signerIsOwner: fc.boolean(), nonce: fc.constantFrom(...NONCES, `0x${'ee'.repeat(32)}`), issued: fc.integer({ min: NOW - CREATE_WINDOW_MS - 2, max: NOW + CREATE_WINDOW_MS + 2 }) })

type S = { wallets: Array<{ owner: string }>; nonces: Array<[string, number]>; filler: [number, number]; allowlist: boolean; admitted: string[] }
const noncesOf = (s: S): Array<[string, number]> => [...new Map([...s.nonces, ...Array.from({ length: s.filler[0] }, (_, i): [string, number] => [`0xf${i}`, s.filler[1]])])]
const admissionOf = (s: S): Admission => ({ kind: s.allowlist ? 'allowlist' : 'open', owners: new Set(s.admitted), tag: '' })
const outcome = (f: () => { nonce: string; pruneBefore: number }) => {
  try {
    const { nonce, pruneBefore } = f()
    return `applied ${nonce} ${pruneBefore}`
  } catch (err) {
    return (err as EnclaveError).code
  }
}

describe('scope38: a create view of the owner\'s counts decides and re-checks as the view of every nonce did', () => {
  it('governance: the same refusal code or the same change, on 5,000 generated states', () => {
    const seen = new Set<string>()
    fc.assert(fc.property(state, act, (s, a) => {
      const o = a.owner.toLowerCase()
      const full: Act = { primaryType: 'CreateWallet', signer: a.signerIsOwner ? a.owner : OWNERS[0] === a.owner ? OWNERS[1]! : OWNERS[0]!, message: { owner: a.owner, label: 'w', nonce: a.nonce, issuedAt: String(a.issued), auditChain: `0x${'00'.repeat(32)}` } }
      const old = outcome(() => oldDecide(oldCreateCounts(s.wallets, noncesOf(s), admissionOf(s), o), full, NOW))
      // The signer's view, as applyOwnerAct builds it: the act's owner and nonce as it reads them, the window of its `now`.
      const view = createCounts(s.wallets, noncesOf(s), admissionOf(s), o, a.nonce.toLowerCase(), NOW - 2 * CREATE_WINDOW_MS)
      const now = outcome(() => createWalletChange({ act: full, counts: () => view, now: NOW, newKey: () => ({ privateKey: new Uint8Array(0), address: `0x${'00'.repeat(20)}` }) }))
      expect(now).toBe(old)
      seen.add(old.split(' ')[0]!)
    }), { numRuns: 5_000 })
    // Every answer was met (a generator that never reaches a limit would compare nothing there).
    expect([...seen].sort()).toEqual(['applied', 'limit_create_nonces', 'limit_wallets_per_owner', 'limit_wallets_total', 'owner_act_replayed', 'owner_act_stale', 'owner_not_admitted', 'owner_signature_invalid'])
  })

  it('the signer at apply: the same verdict, on 5,000 generated states', () => {
    const seen = new Set<boolean>()
    const pruneBefore = fc.oneof(fc.constant(NOW - 2 * CREATE_WINDOW_MS), at)
    fc.assert(fc.property(state, owner, fc.constantFrom(...NONCES.map((n) => n.toLowerCase())), pruneBefore, fc.integer({ min: NOW - 3 * CREATE_WINDOW_MS, max: NOW }), fc.boolean(), fc.boolean(), (s, ow, nonce, pb, pruned, admitted, allowlist) => {
      const o = ow.toLowerCase()
      const view = { admitted, allowlist }
      const newestPruned = pruned % 3 === 0 ? -Infinity : pruned
      const old = oldCreateStillFits(oldCreateCounts(s.wallets, noncesOf(s), admissionOf(s), o), view, { nonce, pruneBefore: pb }, newestPruned)
      expect(createStillFits(createCounts(s.wallets, noncesOf(s), admissionOf(s), o, nonce, pb), view, pb, newestPruned)).toBe(old)
      seen.add(old)
    }), { numRuns: 5_000 })
    expect(seen.size).toBe(2)
  })
})
