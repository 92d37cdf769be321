import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROTOCOL_VERSION } from '../../shared/protocol/messages.js'
import { type SealedSnapshot, refusalCode } from '../helpers/maliciousHost.js'
import { type TwoWallets, blobOf, startWithTwoWallets } from '../helpers/twoWallets.js'

/**
 * Attack (issue 15, per-wallet sealed blobs): the host hands one wallet's sealed blob as another's — A's (an empty
 * ledger, a loose policy) under B's name — or (not loaded, see below) a blob of a wallet the core does not name, or a blob of the right
 * wallet and version from another lineage (a fork of the same core). Defined outcome: each blob is sealed with
 * walletId = its address (the sealer's context: KMS EncryptionContext, sim AAD) and names its address and core id
 * inside, and the core names each wallet's blob by SHA-256: state_wallet_foreign every time; nothing loads.
 */
describe('adversarial: the host swaps wallets\' sealed blobs', () => {
  let t: TwoWallets
  let first: SealedSnapshot

  const hello = async () => {
    await t.host.restartEnclave()
    expect((await t.host.call({ type: 'hello', protocolVersion: PROTOCOL_VERSION })).ok).toBe(true)
  }

  beforeAll(async () => {
    t = await startWithTwoWallets()
    await t.host.waitAgentFloor()
    await t.payOk(t.b)
    expect((await t.host.walletAct(t.owner, 'FreezeAgent', t.a.wallet, { agentId: t.a.agent.agentId, frozen: false })).ok).toBe(true)
    first = t.host.latestSnapshot()!
  })
  afterAll(async () => {
    await t?.host.stop()
  })

  it('A\'s blob as B\'s and B\'s as A\'s → state_wallet_foreign; nothing signs', async () => {
    await hello()
    const wallets = [{ wallet: t.a.wallet, blob: blobOf(t.host, first, t.b.wallet) }, { wallet: t.b.wallet, blob: blobOf(t.host, first, t.a.wallet) }]
    expect(refusalCode(await t.host.call({ type: 'loadState', snapshot: first.blob, wallets }))).toBe('state_wallet_foreign')
    expect(refusalCode(await t.host.agentSign(t.pay(t.b)))).toBe('enclave_not_ready')
  })

  it('A\'s blob also as B\'s (both names, one blob) → state_wallet_foreign', async () => {
    const a = blobOf(t.host, first, t.a.wallet)
    expect(refusalCode(await t.host.call({ type: 'loadState', snapshot: first.blob, wallets: [{ wallet: t.a.wallet, blob: a }, { wallet: t.b.wallet, blob: a }] }))).toBe('state_wallet_foreign')
  })

  // Issue 15 step 3: a store keeps the blobs of wallets dropped to another enclave, so an unnamed blob is not loaded
  // (it was refused as state_wallet_foreign before): the core's directory alone says which wallets load.
  it('the right blobs plus a blob for a wallet the core does not name → that blob is not loaded', async () => {
    const stranger = `0x${'c'.repeat(40)}`
    const wallets = [...t.host.walletsFor(first.blob), { wallet: stranger, blob: blobOf(t.host, first, t.a.wallet) }]
    expect((await t.host.call({ type: 'loadState', snapshot: first.blob, wallets })).ok).toBe(true)
    expect((await t.host.call({ type: 'finishLoad' })).ok).toBe(true)
    const held = (await t.host.wallets()).map((w) => w.address.toLowerCase())
    expect(held.sort()).toEqual([t.a.wallet, t.b.wallet].sort())
    await hello()
  })

  it('A\'s blob of the same version from another lineage of the same core → state_wallet_foreign (the core names its SHA-256)', async () => {
    // Lineage 1: load `first`; the first seal after a load re-seals A and B at new versions.
    await hello()
    expect((await t.host.bootstrap({ snapshot: first.blob })).last.ok).toBe(true)
    const one = t.host.latestSnapshot()!
    // Lineage 2: the host loads `first` again (a fork): the same versions, other blobs.
    await hello()
    expect((await t.host.bootstrap({ snapshot: first.blob })).last.ok).toBe(true)
    const two = t.host.latestSnapshot()!
    const v = (s: SealedSnapshot) => s.wallets!.find((w) => w.wallet === t.a.wallet)!.version
    expect(v(one)).toBe(v(two))
    await hello()
    const wallets = [{ wallet: t.a.wallet, blob: blobOf(t.host, one, t.a.wallet) }, { wallet: t.b.wallet, blob: blobOf(t.host, two, t.b.wallet) }]
    expect(refusalCode(await t.host.call({ type: 'loadState', snapshot: two.blob, wallets }))).toBe('state_wallet_foreign')
    // The same lineage's set loads.
    expect((await t.host.call({ type: 'loadState', snapshot: two.blob, wallets: t.host.walletsFor(two.blob) })).ok).toBe(true)
  })
})
