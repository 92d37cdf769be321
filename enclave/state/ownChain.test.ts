import { randomBytes, verify, createPublicKey } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { createSimSealer } from '../../sim/simSealer.js'
import { parseAdmission } from '../../shared/owner/parseAdmission.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { auditCheckpointMessage } from '../../shared/audit/auditCheckpointMessage.js'
import { GENESIS_HASH } from '../../shared/audit/hashAuditEntry.js'
import { Enclave } from '../Enclave.js'
import { applyOwnerAct } from '../../test/helpers/ownerActInProcess.js'
import { finishLoad, replayEntries } from './loadState.js'
import { decodeCore } from '../../core/state/snapshotCodec.js'

/**
 * Issue 15 step 4 in process: an enclave of the lineage starts its own chain from the root chain's core (no wallets,
 * chain_started at seq 0 naming the chain and the core id, checkpoints signing the chain), a wallet dropped at the
 * root loads into it with its thread continued, and a restart from the chain's own core resumes that chain.
 */
describe('enclave: its own audit chain', () => {
  it('starts a chain from the lineage core, takes a wallet, and a restart resumes the same chain', async () => {
    const sealer = createSimSealer({ keyFile: path.join(mkdtempSync(path.join(tmpdir(), 'bursar-oc-')), 'k'), rejectOlderVersions: false })
    const make = () => new Enclave({ mode: 'sim', sealer, nsm: { kind: 'mock', attest: async () => new Uint8Array() }, configVersion: '1', admission: parseAdmission(undefined), log: () => {}, snapshotEvery: 1_000_000 })
    const root = make()
    await root.loadSnapshot(null)
    await finishLoad(root)
    const owner = privateKeyToAccount(generatePrivateKey())
    const body = await signOwnerAct({ account: owner, primaryType: 'CreateWallet', message: { owner: owner.address, label: '', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: root.audit.id } })
    const created = await applyOwnerAct(root, body)
    if (!created.ok) throw new Error(created.error.code)
    const W = (created.result as { wallet: string }).wallet.toLowerCase()
    const dropped = await root.dropWallet(W)
    const rootCore = dropped.persist.sealed!.blob
    const final = dropped.persist.sealed!.wallets!.find((w) => w.wallet === W)!
    const coreId = Buffer.from(decodeCore((await sealer.unseal({ blob: rootCore, purpose: 'enclave-state', walletId: '' })).plaintext).coreId).toString('hex')

    const b = make()
    await expect(b.loadSnapshot(null, [], true)).rejects.toMatchObject({ code: 'state_invalid' }) // a chain needs the lineage
    await b.loadSnapshot(rootCore, [], true)
    const started = await finishLoad(b)
    if (!started.ok) throw new Error(started.error.code)
    const chain = started.result.chain!
    expect(chain).toMatch(/^[0-9a-f]{32}$/)
    expect(started.result.receiptPublicKey).toBe(root.receiptPublicKeyHex) // the lineage's receipt key
    expect(started.result.wallets).toBe(0)
    // gov36: each enclave's acts name its chain (core id ‖ chain id; zeros for the root): root's CreateWallet is refused here.
    expect(root.audit.id).toBe(`0x${coreId}${'0'.repeat(32)}`)
    expect(b.audit.id).toBe(`0x${coreId}${chain}`)
    await expect(applyOwnerAct(b, body)).rejects.toMatchObject({ code: 'owner_act_wrong_chain' })
    const first = JSON.parse(started.persist!.entries[0]!)
    expect(first).toMatchObject({ seq: 0, prevHash: GENESIS_HASH, event: 'chain_started', chain, core: coreId, wallet: null })
    const cp = started.persist!.checkpoint!
    expect(cp.chain).toBe(chain)
    const key = createPublicKey({ key: Buffer.from(root.receiptPublicKeyDer), format: 'der', type: 'spki' })
    const sig = Buffer.from(cp.signature.slice(2), 'hex')
    expect(verify(null, auditCheckpointMessage(cp), key, sig)).toBe(true)
    expect(verify(null, auditCheckpointMessage({ ...cp, chain: undefined }), key, sig)).toBe(false) // not a root checkpoint
    expect(decodeCore((await sealer.unseal({ blob: started.persist!.sealed!.blob, purpose: 'enclave-state', walletId: '' })).plaintext).chain).toBe(chain)

    const loaded = await b.loadWallet(W, final.blob, [])
    expect(loaded.result.walletSeq).toBe(3) // created, dropped (root chain), loaded (this chain)
    const entry = JSON.parse(loaded.persist.entries[0]!)
    expect(entry).toMatchObject({ seq: 1, event: 'wallet_loaded', walletSeq: 3 })
    expect(entry.chain).toBeUndefined() // only seq 0 names the chain
    expect(loaded.persist.checkpoint!.chain).toBe(chain)

    // A restart of B's enclave: its own core (naming the chain and W) and W's blob, no tail past them → same chain, next seq.
    const c = make()
    const sealed = loaded.persist.sealed!
    await c.loadSnapshot(sealed.blob, sealed.wallets!.map((w) => ({ wallet: w.wallet, blob: w.blob })))
    expect(c.headResult()).toMatchObject({ chain, auditHead: { seq: 1 } })
    await replayEntries(c, [])
    const resumed = await finishLoad(c)
    if (!resumed.ok) throw new Error(resumed.error.code)
    expect(resumed.result).toMatchObject({ chain, wallets: 1 })
    expect(JSON.parse(resumed.persist!.entries[0]!)).toMatchObject({ seq: 2, event: 'state_loaded' })
    expect(resumed.persist!.checkpoint!.chain).toBe(chain)
  })
})
