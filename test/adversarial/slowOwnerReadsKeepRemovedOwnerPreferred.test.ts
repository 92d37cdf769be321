import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { KnownOwners, type OwnedWallet } from '../../host/enclave/KnownOwners.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'

const removed = privateKeyToAccount(generatePrivateKey())
const added = privateKeyToAccount(generatePrivateKey())
const wallet = `0x${'ab'.repeat(20)}` as const
const lc = (a: string) => a.toLowerCase()
const act = (account: typeof removed, seq: number) =>
  signOwnerAct({ account, primaryType: 'FreezeAgent', message: { wallet, agentId: `agt_${'cd'.repeat(20)}`, frozen: true, seq: String(seq) } })
const view = (owner: string, ownerSeq: number): OwnedWallet[] => [{ address: wallet, ownerSeq, governance: { owners: [owner] } }]
const flush = () => new Promise((resolve) => setImmediate(resolve))

/**
 * Red team rt40 on owners40 (KnownOwners: the relay's one owner cache, read again by the first act that finds it older
 * than a second; an act waits at most waitMs for that read). Attack, as a stranger who keeps the enclave busy enough
 * that each getWallets answers later than waitMs (a flood of requests the enclave must verify; or the host's
 * connection held behind writer40's batches): every refresh "times out", and owners40 dropped a late answer as older
 * than what the next read would bring — but the next read was late too. So the view never changed again: an owner
 * removed through another host stayed preferred (its acts ahead of the new owner's), the new owner's acts waited in
 * the strangers' FIFO, and every owner act waited waitMs for a read whose answer was thrown away.
 * Safe: a late answer is the enclave's view when its read was sent: taken when it comes (with what applied here since
 * replayed over it), unless a later read's answer was taken first. Host-only logic (the order of the relay queue):
 * the reads are answered by hand here, late by construction, not timed.
 */
describe("adversarial: every owner read answers late (owners40's refresh never lands)", () => {
  it("the removed owner stops being preferred and the new one is, from the first late answer; what applied meanwhile survives it", async () => {
    let answer = view(removed.address, 5)
    const pending: Array<() => void> = []
    const clock = { ms: Date.now() }
    // Each read answers (when released) with the enclave's view as it was when the read was sent.
    const source = { epoch: () => 0, read: () => ((seen) => new Promise<readonly OwnedWallet[] | null>((r) => pending.push(() => r(seen))))(answer) }
    const k = new KnownOwners(source, { now: () => clock.ms, waitMs: 10, firstWaitMs: 10 })
    const answerLate = async () => {
      await k.ready() // the act waited waitMs: its read has not answered
      pending.splice(0).forEach((f) => f()) // now it does
      await flush()
    }

    // Seeded once in time: the (soon removed) owner owns the wallet.
    const first = k.ready()
    pending.splice(0).forEach((f) => f())
    await first
    expect(await k.prefers(await act(removed, 6), { wallet, owner: '' })).toBe(lc(removed.address))

    // Another host applies SetOwners [added] (ownerSeq 6). From now on every read answers after its act stopped waiting.
    answer = view(added.address, 6)
    clock.ms += 1_001
    await answerLate()
    expect(await k.prefers(await act(removed, 7), { wallet, owner: '' })).toBeNull()
    expect(await k.prefers(await act(added, 7), { wallet, owner: '' })).toBe(lc(added.address))

    // An act applied here while the next (late) read is out: its owner sequence survives that read's older view.
    clock.ms += 1_001
    const r = k.ready()
    k.applied(wallet, 9)
    await r
    pending.splice(0).forEach((f) => f())
    await flush()
    expect(await k.prefers(await act(added, 9), { wallet, owner: '' })).toBeNull() // a replay of the applied act
    expect(await k.prefers(await act(added, 10), { wallet, owner: '' })).toBe(lc(added.address))

    // Two late reads answering out of order: the earlier one's (older) view does not replace the later one's.
    answer = view(removed.address, 10) // the enclave's view when read A is sent (the owner restored)
    clock.ms += 1_001
    await k.ready() // read A out, late
    const a = pending.splice(0)
    answer = view(added.address, 11) // changed again before read B
    clock.ms += 1_001
    await k.ready() // read B out, late
    pending.splice(0).forEach((f) => f()) // B answers first
    await flush()
    a.forEach((f) => f()) // then A, older
    await flush()
    expect(await k.prefers(await act(removed, 12), { wallet, owner: '' })).toBeNull()
    expect(await k.prefers(await act(added, 12), { wallet, owner: '' })).toBe(lc(added.address))

    // In order, both late: the later view stands (the earlier one's owners are not replayed over it).
    answer = view(removed.address, 12)
    clock.ms += 1_001
    await k.ready() // read C out, late
    const c = pending.splice(0)
    answer = view(added.address, 13)
    clock.ms += 1_001
    await k.ready() // read D out, late
    c.forEach((f) => f())
    await flush()
    pending.splice(0).forEach((f) => f())
    await flush()
    expect(await k.prefers(await act(removed, 14), { wallet, owner: '' })).toBeNull()
    expect(await k.prefers(await act(added, 14), { wallet, owner: '' })).toBe(lc(added.address))
  })
})
