import { describe, expect, it } from 'vitest'
import { createWalletChange } from '../../governance/createWalletChange.js'
import { createCounts } from '../../shared/governance/createCounts.js'
import { parseAdmission } from '../../shared/owner/parseAdmission.js'
import { EnclaveState } from './EnclaveState.js'

const T0 = 1_800_000_000_000
const OWNER = '0x00000000000000000000000000000000000000aa'
const key = (n: number) => () => ({ privateKey: new Uint8Array(32).fill(n), address: `0x${n.toString(16).padStart(40, '0')}` as `0x${string}` })
const act = (nonce: string, issuedAt: number) =>
  ({ primaryType: 'CreateWallet', signer: OWNER, message: { owner: OWNER, label: 'w', nonce, issuedAt: String(issuedAt), auditChain: `0x${'00'.repeat(32)}` } }) as const

const countsOf = (state: EnclaveState) => (pruneBefore: number, nonce: string) => createCounts(state, parseAdmission(undefined), OWNER, nonce, pruneBefore)

/** The one mutator: CreateWallet's change, ledger events and owner seq go through apply; views are read only. */
describe('EnclaveState.apply', () => {
  it('adds a wallet, refuses its nonce again inside 20 minutes, prunes it after', () => {
    const state = new EnclaveState()
    const create = (nonce: string, now: number, n: number) =>
      createWalletChange({ act: act(nonce, now), counts: countsOf(state), now, newKey: key(n) })
    const nonce = `0x${'11'.repeat(32)}`
    state.apply(create(nonce, T0, 1))
    expect(state.wallet(key(1)().address).owner).toBe(OWNER)
    expect(() => create(nonce, T0 + 60_000, 2)).toThrow(expect.objectContaining({ code: 'owner_act_replayed' }))
    // 21 minutes later the nonce is out of every window: it is forgotten when the next wallet is created.
    state.apply(create(`0x${'22'.repeat(32)}`, T0 + 21 * 60_000, 3))
    expect([...state.createNonces.keys()]).toEqual([`0x${'22'.repeat(32)}`])
    expect(state.wallets.size).toBe(2)
  })

  it('applies ledger events and owner seq; an illegal event throws (the caller halts); unknown wallets are refused', () => {
    const state = new EnclaveState()
    const change = createWalletChange({ act: act(`0x${'33'.repeat(32)}`, T0), counts: countsOf(state), now: T0, newKey: key(4) })
    state.apply(change)
    const wallet = change.wallet.address
    state.apply({ type: 'ledger', wallet, events: [{ type: 'agent_frozen', agentId: 'a', reason: 'owner', at: T0 }] })
    expect(state.wallet(wallet).ledger.frozenInfo('a')).toEqual({ reason: 'owner', at: T0 })
    expect(() => state.apply({ type: 'ledger', wallet, events: [{ type: 'pending_used', pendingId: 'p', at: T0 }] })).toThrow()
    state.apply({ type: 'owner_seq', wallet, ownerSeq: 3, rolledBack: true })
    expect(state.wallet(wallet)).toMatchObject({ ownerSeq: 3, rolledBack: true })
    expect(() => state.apply({ type: 'owner_seq', wallet: OWNER, ownerSeq: 1, rolledBack: false })).toThrow(expect.objectContaining({ code: 'wallet_not_found' }))
    state.apply({ type: 'version_bumped' })
    state.apply({ type: 'loaded', stateVersion: 7, wallets: [], createNonces: [] })
    expect([state.version, state.wallets.size, state.createNonces.size]).toEqual([7, 0, 0])
  })

  it('issue 15: every change naming a wallet bumps its version and marks it for the next seal; others are untouched', () => {
    const state = new EnclaveState()
    const create = (n: number) => createWalletChange({ act: act(`0x${String(n).repeat(64)}`, T0), counts: countsOf(state), now: T0, newKey: key(n) })
    const a = create(5)
    state.apply(a)
    const b = create(6)
    state.apply(b)
    const [A, B] = [a.wallet.address.toLowerCase(), b.wallet.address.toLowerCase()]
    expect([state.walletVersion(A), state.walletVersion(B)]).toEqual([1, 1])
    expect(state.takeChanged().sort()).toEqual([A, B].sort())
    expect(state.takeChanged()).toEqual([])
    state.apply({ type: 'ledger', wallet: a.wallet.address, events: [{ type: 'request', agentId: 'x', at: T0 }] })
    state.apply({ type: 'owner_seq', wallet: A, ownerSeq: 1, rolledBack: false })
    state.apply({ type: 'version_bumped' })
    expect([state.walletVersion(A), state.walletVersion(B), state.takeChanged()]).toEqual([3, 1, [A]])
    // A refused change (unknown wallet) bumps nothing.
    expect(() => state.apply({ type: 'owner_seq', wallet: OWNER, ownerSeq: 1, rolledBack: false })).toThrow()
    expect([state.walletVersion(OWNER), state.takeChanged()]).toEqual([0, []])
    // A re-seal after a load: marked with new versions.
    state.markChanged([B], true)
    expect([state.walletVersion(B), state.takeChanged()]).toEqual([2, [B]])
    state.apply({ type: 'loaded', stateVersion: 1, wallets: [a.wallet], createNonces: [], versions: [[A, 9]] })
    expect([state.walletVersion(A), state.walletVersion(B), state.takeChanged()]).toEqual([9, 0, []])
  })
})
