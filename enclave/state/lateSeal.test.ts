import { randomBytes } from 'node:crypto'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { decodeCore } from '../../core/state/snapshotCodec.js'
import type { PendingPersist } from '../Enclave.js'
import { Enclave } from '../Enclave.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { parseAdmission } from '../../shared/owner/parseAdmission.js'
import { createSimSealer } from '../../sim/simSealer.js'
import type { Sealer } from '../seal/Sealer.js'
import { applyOwnerAct } from '../../test/helpers/ownerActInProcess.js'
import { finishLoad } from './loadState.js'

const EVERY = 32 // a staggered check every 2 entries; a wallet is due 32 entries after its seal
const turn = () => new Promise((resolve) => setImmediate(resolve))

/**
 * tail38: a periodic seal is captured in the writer (sealTx) and encrypted in a later turn; a later block with entries
 * carries it. Until then nothing relies on it: a block without entries does not carry it (it would not wait its turn
 * behind the entries the core covers), an owner act's seal in its own block supersedes it, and a failed encryption
 * leaves its wallets to the next seal.
 */
describe('enclave: periodic seals ride a later block', () => {
  async function setup() {
    const keyFile = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-late-')), 'k')
    const sim = createSimSealer({ keyFile })
    const fail = { next: 0 }
    const sealer: Sealer = { kind: 'sim', unseal: (p) => sim.unseal(p), seal: (p) => (fail.next-- > 0 ? Promise.reject(new Error('injected seal failure')) : sim.seal(p)) }
    const logs: string[] = []
    const enclave = new Enclave({ mode: 'sim', sealer, nsm: { kind: 'mock', attest: async () => new Uint8Array() }, configVersion: '1', admission: parseAdmission(undefined), log: (l) => logs.push(l), snapshotEvery: EVERY })
    await enclave.loadSnapshot(null)
    await finishLoad(enclave)
    const owner = privateKeyToAccount(`0x${randomBytes(32).toString('hex')}`)
    const r = await applyOwnerAct(enclave, await signOwnerAct({ account: owner, primaryType: 'CreateWallet', message: { owner: owner.address, label: '', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: enclave.audit.id } }))
    if (!r.ok) throw new Error(JSON.stringify(r.error))
    const wallet = (r.result as { wallet: string }).wallet.toLowerCase()
    const none = { action: null, reason: null, policy: null, rule: null, code: null, signedHash: null }
    /** One entry of the wallet's, then sealTx (as a decided request does). */
    const block = (): Promise<PendingPersist> => {
      const tx = enclave.beginTx()
      enclave.appendEntry(tx, { ...none, wallet, agentId: 'a', requestId: randomBytes(16).toString('hex'), event: 'sign_denied', verdict: 'deny', ledger: [] })
      return enclave.sealTx(tx)
    }
    const coreOf = async (blob: Uint8Array) => decodeCore((await createSimSealer({ keyFile, rejectOlderVersions: false }).unseal({ blob, purpose: 'enclave-state', walletId: '' })).plaintext)
    return { enclave, wallet, block, coreOf, fail, logs }
  }

  it('the block that triggers a seal carries none; after a turn the next block with entries carries it, captured before its entry', async () => {
    const { enclave, wallet, block, coreOf } = await setup()
    let i = 0
    for (; i < 200; i++) {
      const p = await block()
      expect(p.sealed).toBeNull() // never in the triggering block, and nothing encrypts before a turn
      if ((enclave as unknown as { pendingSeal: unknown }).pendingSeal) break
    }
    expect(i).toBeLessThan(200)
    const capturedAt = enclave.audit.head().seq
    await turn()
    // A block without entries (e.g. a dry run's) does not carry it.
    expect((await enclave.sealTx(enclave.beginTx())).sealed).toBeNull()
    const p = await block()
    expect(p.sealed?.wallets?.map((w) => w.wallet)).toContain(wallet)
    const core = await coreOf(p.sealed!.blob)
    expect(core.sealedSeq).toBe(capturedAt)
    expect(p.first).toBeGreaterThan(core.sealedSeq!)
  })

  it('an owner act\'s seal while one is being encrypted: its own block seals the wallet; the superseded seal never goes out', async () => {
    const { enclave, wallet, block } = await setup()
    while (!(enclave as unknown as { pendingSeal: unknown }).pendingSeal) await block()
    const owned = await enclave.sealTx({ entries: [], snapshot: true })
    expect(owned.sealed?.wallets?.map((w) => w.wallet)).toContain(wallet)
    await turn()
    for (let k = 0; k < 4; k++) expect((await block()).sealed).toBeNull() // the dropped one does not ride later
  })

  it('a failed encryption: nothing goes out for it, and the next seal carries the wallet at its newest version', async () => {
    const { enclave, wallet, block, fail, logs } = await setup()
    fail.next = 1
    while (!(enclave as unknown as { pendingSeal: unknown }).pendingSeal) await block()
    await turn()
    expect(logs.some((l) => l.includes('periodic seal failed'))).toBe(true)
    expect((await block()).sealed).toBeNull()
    let sealed = null
    for (let k = 0; k < 10 && !sealed; k++) {
      sealed = (await block()).sealed
      await turn()
    }
    expect(sealed?.wallets?.find((w) => w.wallet === wallet)?.version).toBeGreaterThan(0)
  })

  it('tail39: a subscriber to bursar.writer sees each periodic seal captured, then encrypted into the bytes a later block carries, and each writer turn once, with its blocks', async () => {
    const { enclave, block } = await setup()
    const events: Array<{ step: string; at: number; ms: number; bytes?: number }> = []
    const listen = (m: unknown) => void events.push(m as (typeof events)[number])
    subscribe('bursar.writer', listen)
    try {
      let sealed: PendingPersist['sealed'] = null
      for (let i = 0; i < 400 && !sealed; i++) {
        sealed = (await block()).sealed
        await turn()
      }
      expect(sealed).not.toBeNull()
      const [capture, encrypt] = [events.find((e) => e.step === 'capture')!, events.find((e) => e.step === 'encrypt')!]
      expect(capture.ms).toBeGreaterThanOrEqual(0)
      expect(encrypt.at).toBeGreaterThanOrEqual(capture.at + capture.ms) // a turn of its own, after the writer's
      expect(encrypt.bytes).toBe(sealed!.blob.length + sealed!.wallets!.reduce((n, w) => n + w.blob.length, 0))
      expect(events.filter((e) => e.step === 'turn')).toHaveLength(0) // sealTx alone closes no turn (completeTx does)
      const blocks = [await block(), await block(), await block()]
      await Promise.all(blocks.map((p) => enclave.completeTx(p))) // one turn, one signature
      expect(events.filter((e) => e.step === 'turn').map((e) => (e as { blocks?: number }).blocks)).toEqual([3])
    } finally {
      unsubscribe('bursar.writer', listen)
    }
  })
})
