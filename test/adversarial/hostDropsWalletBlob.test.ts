import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROTOCOL_VERSION } from '../../shared/protocol/messages.js'
import { type SealedSnapshot, refusalCode } from '../helpers/maliciousHost.js'
import { AMOUNT, CAP, type TwoWallets, blobOf, startWithTwoWallets } from '../helpers/twoWallets.js'

/**
 * Attack (issue 15, per-wallet sealed blobs): at load the host hands the newest core blob but leaves out one
 * wallet's blob (or all of them), hoping the enclave starts without that wallet — its frozen agents, its spent
 * budget, or simply a wallet its owner can no longer reach. Defined outcome: the core blob names every wallet
 * (address, version, SHA-256 of its blob), so the load is refused with state_wallet_missing; the enclave stays
 * unloaded and signs nothing; handed the blob, the same process loads with the wallet's spend intact.
 */
describe('adversarial: the host drops one wallet\'s sealed blob at load', () => {
  let t: TwoWallets
  let newest: SealedSnapshot

  beforeAll(async () => {
    t = await startWithTwoWallets()
    await t.host.waitAgentFloor()
    await t.payOk(t.b)
    // An owner act seals the changed wallets (B's spend) and the core at once.
    expect((await t.host.walletAct(t.owner, 'FreezeAgent', t.a.wallet, { agentId: t.a.agent.agentId, frozen: false })).ok).toBe(true)
    newest = t.host.latestSnapshot()!
    await t.host.restartEnclave()
    expect((await t.host.call({ type: 'hello', protocolVersion: PROTOCOL_VERSION })).ok).toBe(true)
  })
  afterAll(async () => {
    await t?.host.stop()
  })

  it('the newest core without B\'s blob → state_wallet_missing; nothing loads, nothing signs', async () => {
    const r = await t.host.call({ type: 'loadState', snapshot: newest.blob, wallets: [{ wallet: t.a.wallet, blob: blobOf(t.host, newest, t.a.wallet) }] })
    expect(refusalCode(r)).toBe('state_wallet_missing')
    expect(refusalCode(await t.host.call({ type: 'finishLoad' }))).not.toMatch(/^UNEXPECTED_OK/)
    expect(refusalCode(await t.host.agentSign(t.pay(t.a)))).toBe('enclave_not_ready')
  })

  it('no wallet blobs at all → state_wallet_missing', async () => {
    expect(refusalCode(await t.host.call({ type: 'loadState', snapshot: newest.blob, wallets: [] }))).toBe('state_wallet_missing')
  })

  it('with B\'s blob back the same process loads: both wallets, B\'s spend kept (4 more fit the cap, the 5th is refused)', async () => {
    const all = t.host.walletsFor(newest.blob)
    expect(all.map((w) => w.wallet).sort()).toEqual([t.a.wallet, t.b.wallet].sort())
    expect((await t.host.call({ type: 'loadState', snapshot: newest.blob, wallets: all })).ok).toBe(true)
    const tail = t.host.entriesAfter(newest.auditSeq)
    if (tail.length > 0) expect((await t.host.call({ type: 'replayEntries', entries: tail })).ok).toBe(true)
    expect((await t.host.call({ type: 'finishLoad' })).ok).toBe(true)
    expect((await t.host.wallets()).map((w) => w.address.toLowerCase()).sort()).toEqual([t.a.wallet, t.b.wallet].sort())
    await t.host.waitAgentFloor()
    for (let i = 1n; i < CAP / AMOUNT; i++) await t.payOk(t.b)
    expect(refusalCode(await t.host.agentSign(t.pay(t.b)))).toBe('policy_daily_cap_exceeded')
  })
})
