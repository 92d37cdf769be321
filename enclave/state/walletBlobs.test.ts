import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { createSimSealer } from '../../sim/simSealer.js'
import { parseAdmission } from '../../shared/owner/parseAdmission.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import type { Sealer } from '../seal/Sealer.js'
import { Enclave } from '../Enclave.js'
import { applyOwnerAct } from '../../test/helpers/ownerActInProcess.js'
import { finishLoad } from './loadState.js'
import { encode } from 'cborg'
import { decodeCore, decodeWalletBlob } from '../../core/state/snapshotCodec.js'

function enclaveWith(sealer: Sealer): Enclave {
  return new Enclave({ mode: 'sim', sealer, nsm: { kind: 'mock', attest: async () => new Uint8Array() }, configVersion: '1', admission: parseAdmission(undefined), log: () => {}, snapshotEvery: 1_000_000 })
}

/** Issue 15: only the changed wallets are sealed; a host that missed seals gets every newer wallet blob on catchUp. */
describe('enclave: per-wallet sealed blobs', () => {
  it('an owner act re-seals its wallet and the core only; catchUp re-sends each wallet\'s newest blob since the host\'s core; they load', async () => {
    const sealer = createSimSealer({ keyFile: path.join(mkdtempSync(path.join(tmpdir(), 'bursar-wb-')), 'k') })
    const enclave = enclaveWith(sealer)
    await enclave.loadSnapshot(null)
    const start = await finishLoad(enclave)
    expect(start.persist!.sealed!.wallets).toEqual([])
    const owner = privateKeyToAccount(generatePrivateKey())
    const create = async () => {
      const body = await signOwnerAct({ account: owner, primaryType: 'CreateWallet', message: { owner: owner.address, label: '', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: enclave.audit.id } })
      const r = await applyOwnerAct(enclave, body)
      if (!r.ok) throw new Error(r.error.code)
      return r
    }
    const a = await create()
    const b = await create()
    const A = (a.result as { wallet: string }).wallet.toLowerCase()
    const B = (b.result as { wallet: string }).wallet.toLowerCase()
    expect(a.persist!.sealed!.wallets!.map((w) => w.wallet)).toEqual([A])
    // A unchanged: not sealed again, but its blob rides along (same bytes) until the host acknowledges a core
    // stored with it (rt15: a lost block must not leave a stored core naming a blob the store never got).
    expect(b.persist!.sealed!.wallets!.map((w) => w.wallet)).toEqual([B, A])
    expect(Buffer.from(b.persist!.sealed!.wallets![1]!.blob).equals(Buffer.from(a.persist!.sealed!.wallets![0]!.blob))).toBe(true)
    // Issue 15 step 2: each blob carries its wallet's audit thread head (its wallet_created entry: walletSeq 1).
    const sealedA = decodeWalletBlob((await sealer.unseal({ blob: a.persist!.sealed!.wallets![0]!.blob, purpose: 'wallet-state', walletId: A })).plaintext)
    expect(sealedA.thread).toEqual(enclave.audit.thread(A))
    expect(sealedA.thread!.walletSeq).toBe(1)
    // The host stored only the first start's core: catchUp re-sends the newest core and both wallets' blobs.
    const cu = await enclave.catchUp(-1, start.persist!.sealed!.version)
    const sealed = cu.persist.sealed!
    expect(sealed.version).toBe(b.persist!.sealed!.version)
    expect(sealed.wallets!.map((w) => w.wallet).sort()).toEqual([A, B].sort())
    // The host now has b's core: nothing more to re-send.
    expect((await enclave.catchUp(-1, sealed.version)).persist.sealed).toBeNull()
    // What catchUp sent is a loadable set.
    const other = enclaveWith(sealer)
    await other.loadSnapshot(sealed.blob, sealed.wallets!)
    expect([...other.state.wallets.keys()].sort()).toEqual([A, B].sort())
    // The first seal after the load re-seals both at new versions.
    expect(other.audit.thread(A)).toEqual(enclave.audit.thread(A)) // the thread continues from the blob
    const fin = await finishLoad(other)
    expect(fin.persist!.sealed!.wallets!.map((w) => [w.wallet, w.version]).sort()).toEqual([[A, 3], [B, 3]].sort()) // created (1), its wallet_created entry (2: the thread head), the load (3)
    // Acknowledged: the next seal carries only what changed.
    const c = await create()
    expect(c.persist!.sealed!.wallets!.map((w) => w.wallet)).toEqual([(c.result as { wallet: string }).wallet.toLowerCase()])
  })

  it('a format-1 snapshot (the whole state in one blob, written before per-wallet blobs) loads; the first seal splits it; wallet blobs beside it are not loaded', async () => {
    const keyFile = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-wb-')), 'k')
    let sealer = createSimSealer({ keyFile })
    const enclave = enclaveWith(sealer)
    await enclave.loadSnapshot(null)
    await finishLoad(enclave)
    const owner = privateKeyToAccount(generatePrivateKey())
    const wallets: string[] = []
    let last
    for (let i = 0; i < 2; i++) {
      const body = await signOwnerAct({ account: owner, primaryType: 'CreateWallet', message: { owner: owner.address, label: `w${i}`, nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: enclave.audit.id } })
      last = await applyOwnerAct(enclave, body)
      if (!last.ok) throw new Error(last.error.code)
      wallets.push((last.result as { wallet: string }).wallet.toLowerCase())
    }
    // Re-write that state as the old encoder did (v 1, wallets inline), sealed as the old enclave sealed it.
    const cu = (await enclave.catchUp(-1, -1)).persist.sealed!
    const core = decodeCore((await sealer.unseal({ blob: cu.blob, purpose: 'enclave-state', walletId: '' })).plaintext)
    const records = await Promise.all(cu.wallets!.map(async (w) => decodeWalletBlob((await sealer.unseal({ blob: w.blob, purpose: 'wallet-state', walletId: w.wallet })).plaintext).wallet))
    const { coreId: _c, directory: _d, legacy: _l, ...rest } = core
    const v1 = encode({ v: 1, ...rest, wallets: records.map((w) => ({ ...w, agents: [...w.agents.values()], policies: [...w.policies.values()], ledger: JSON.stringify(w.ledger.toJSON()) })) })
    const old = await sealer.seal({ purpose: 'enclave-state', walletId: '', version: core.stateVersion, plaintext: v1 })

    // The upgraded enclave is a new process (its sealer has not seen this process's newer wallet blobs: a format-1 store has none).
    sealer = createSimSealer({ keyFile })
    // A format-1 core names no wallet blob: one handed beside it is not loaded (issue 15 step 3: a core's unnamed blobs
    // are ignored, they were refused as state_wallet_foreign); the format-1 core's own wallets load.
    const beside = enclaveWith(sealer)
    await beside.loadSnapshot(old, cu.wallets!.slice(0, 1))
    expect(beside.state.wallets.size).toBe(2)
    const upgraded = enclaveWith(sealer)
    await upgraded.loadSnapshot(old)
    expect([...upgraded.state.wallets.keys()].sort()).toEqual([...wallets].sort())
    const fin = await finishLoad(upgraded)
    expect(fin.persist!.sealed!.wallets!.map((w) => w.wallet).sort()).toEqual([...wallets].sort())
    // What the first seal wrote is a format-2 set another enclave loads.
    const next = enclaveWith(sealer)
    await next.loadSnapshot(fin.persist!.sealed!.blob, fin.persist!.sealed!.wallets!)
    expect([...next.state.wallets.keys()].sort()).toEqual([...wallets].sort())
  })
})
