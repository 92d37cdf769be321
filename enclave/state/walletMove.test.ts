import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { createSimSealer } from '../../sim/simSealer.js'
import { parseAdmission } from '../../shared/owner/parseAdmission.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { Enclave } from '../Enclave.js'
import { applyOwnerAct } from '../../test/helpers/ownerActInProcess.js'
import { finishLoad } from './loadState.js'
import { decodeCore } from '../../core/state/snapshotCodec.js'

/**
 * Issue 15 step 3 in process, with a sealer WITHOUT the sim sealer's per-process high-water mark (as KMS): the
 * enclave's own memory of a drop refuses an older blob of that wallet (state_wallet_stale); the drop's core no longer
 * names the wallet and the load's core names it again (so a restart finds it, or not).
 */
describe('enclave: dropWallet / loadWallet', () => {
  it('drop → the core forgets it, an older blob is state_wallet_stale, the final one loads back and the core names it', async () => {
    const sealer = createSimSealer({ keyFile: path.join(mkdtempSync(path.join(tmpdir(), 'bursar-wm-')), 'k'), rejectOlderVersions: false })
    const enclave = new Enclave({ mode: 'sim', sealer, nsm: { kind: 'mock', attest: async () => new Uint8Array() }, configVersion: '1', admission: parseAdmission(undefined), log: () => {}, snapshotEvery: 1_000_000 })
    await enclave.loadSnapshot(null)
    await finishLoad(enclave)
    const owner = privateKeyToAccount(generatePrivateKey())
    const body = await signOwnerAct({ account: owner, primaryType: 'CreateWallet', message: { owner: owner.address, label: '', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: enclave.audit.id } })
    const created = await applyOwnerAct(enclave, body)
    if (!created.ok) throw new Error(created.error.code)
    const W = (created.result as { wallet: string }).wallet.toLowerCase()
    const first = created.persist!.sealed!.wallets!.find((w) => w.wallet === W)!
    const named = async (blob: Uint8Array) => decodeCore((await sealer.unseal({ blob, purpose: 'enclave-state', walletId: '' })).plaintext).directory.map(([a]) => a)

    const dropped = await enclave.dropWallet(W)
    expect(await named(dropped.persist.sealed!.blob)).toEqual([])
    const final = dropped.persist.sealed!.wallets!.find((w) => w.wallet === W)!
    expect(final.version).toBeGreaterThan(first.version)
    await expect(enclave.dropWallet(W)).rejects.toMatchObject({ code: 'wallet_not_loaded' })
    expect(() => enclave.wallet(W)).toThrow(expect.objectContaining({ code: 'wallet_not_loaded' }))

    await expect(enclave.loadWallet(W, first.blob, [])).rejects.toMatchObject({ code: 'state_wallet_stale' })
    const loaded = await enclave.loadWallet(W, final.blob, [])
    expect(loaded.result).toMatchObject({ wallet: W, version: final.version, walletSeq: 3 }) // created, dropped, loaded
    expect(await named(loaded.persist.sealed!.blob)).toEqual([W])
    await expect(enclave.loadWallet(W, final.blob, [])).rejects.toMatchObject({ code: 'wallet_already_loaded' })
  })
})
