import { createPublicKey, verify } from 'node:crypto'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EnclaveGateway } from '../../host/enclave/EnclaveGateway.js'
import { SqliteStore } from '../../host/storage/SqliteStore.js'
import { AuditForkError } from '../../host/storage/storeErrors.js'
import { checkpointSignedMessage } from '../helpers/checkpointSignedMessage.js'
import { PROTOCOL_VERSION, type ResponseFrame } from '../../shared/protocol/messages.js'
import { MaliciousHost, hasSignature } from '../helpers/maliciousHost.js'
import { type TwoWallets, droppedBlob, startWithTwoWallets } from '../helpers/twoWallets.js'

const core = (r: ResponseFrame) => r.persist!.sealed!
const entry = (t: string) => JSON.parse(t) as { seq: number; hash: string; event: string; wallet: string | null; walletSeq?: number; walletPrev?: string; chain?: string }

/**
 * Issue 15 step 4, the forked chain: enclave X writes chain X (started from the root core, BURSAR_CHAIN=own) and holds
 * wallet W. The host hands X's core (and W's blob) to a second enclave Y "as if it were chain B". The chain id is
 * sealed in the core, so Y cannot be told it is another chain: it resumes chain X and says so. What that gives:
 * - REFUSED by an honest host: the gateway configured for chain B refuses a core naming X (never serves it);
 * - REFUSED by the store: Y's entries stored under X collide with X's at the same seqs (AuditForkError, evidence kept);
 * - DETECTED when a hostile host stores them under a made-up label B: that section does not start with chain_started
 *   naming B, and its checkpoints are signed over chain X, so they fail as B's; W's thread shows two entries with one
 *   walletSeq (the per-wallet fork, verify15's `audit_wallet_forked`). The enclave cannot refuse by itself: like two
 *   enclaves from one root core (SECURITY.md fork residual), no enclave knows another runs.
 */
describe('adversarial: the host hands chain X\'s core to a second enclave as chain B (a forked chain)', () => {
  let t: TwoWallets
  let x: MaliciousHost
  let y: MaliciousHost
  let chainX: string
  let store: SqliteStore
  const storeX: ResponseFrame[] = []

  beforeAll(async () => {
    t = await startWithTwoWallets()
    const W = t.a.wallet
    const d = await t.host.call({ type: 'dropWallet', wallet: W })
    expect(d.ok).toBe(true)
    x = new MaliciousHost(t.host.dataDir, 'x.sock')
    await x.startEnclave()
    await x.call({ type: 'hello', protocolVersion: PROTOCOL_VERSION })
    expect((await x.call({ type: 'loadState', snapshot: core(d).blob, wallets: [], newChain: true })).ok).toBe(true)
    const started = await x.call({ type: 'finishLoad' })
    expect(started.ok).toBe(true)
    chainX = (started as { result: { chain: string } }).result.chain
    const loaded = await x.call({ type: 'loadWallet', wallet: W, blob: droppedBlob(d, W).blob, entries: [] })
    expect(loaded.ok, JSON.stringify(loaded)).toBe(true)
    storeX.push(started, loaded)
    y = new MaliciousHost(t.host.dataDir, 'y.sock')
    await y.startEnclave()
    store = new SqliteStore(path.join(t.host.dataDir, 'store.db'), { backgroundCheckpoint: false })
    for (const r of storeX) await store.persist(r.persist!, chainX)
  })
  afterAll(async () => {
    await store?.close()
    await y?.stop()
    await x?.stop()
    await t?.host.stop()
  })

  it('an honest gateway configured for chain B refuses the core that names chain X (the pair never serves)', async () => {
    const B = 'b'.repeat(32)
    const s = core(storeX[1]!)
    await store.persist({ entries: [], checkpoint: null, sealed: { ...s, wallets: [] } }, B) // the swapped row: X's core filed as B's
    const logs: string[] = []
    const gw = new EnclaveGateway({ kind: 'unix', path: y.socketPath }, store, (l) => logs.push(l), 5_000, undefined, { chain: B })
    await expect(gw.start(4_000)).rejects.toThrow(/did not become ready/)
    gw.close()
    expect(logs.join('\n')).toContain(`names chain '${chainX}': refused (a forked chain)`)
    expect(gw.status.ready).toBe(false)
  })

  it('a hostile host runs Y on X\'s core anyway: Y resumes chain X; stored as X it is a refused fork, filed as B it fails as B', async () => {
    const s = core(storeX[1]!)
    await y.call({ type: 'hello', protocolVersion: PROTOCOL_VERSION })
    const l = await y.call({ type: 'loadState', snapshot: s.blob, wallets: s.wallets!.map((w) => ({ wallet: w.wallet, blob: w.blob })) })
    expect(l.ok && (l.result as { chain?: string }).chain).toBe(chainX) // it cannot be told it is chain B
    const yReady = await y.call({ type: 'finishLoad' })
    expect(yReady.ok).toBe(true)
    // Both sign for W from the same head: the chain forks.
    const rx = await x.agentSign(t.pay(t.a))
    const ry = await y.agentSign(t.pay(t.a))
    expect(hasSignature(rx) && hasSignature(ry)).toBe(true) // the residual: two holders of one chain (no trusted lease)
    await store.persist(rx.persist!, chainX)
    // Stored under its own chain (what the enclave reports): the store refuses a second hash at a stored seq.
    await expect(store.persist(yReady.persist!, chainX)).rejects.toBeInstanceOf(AuditForkError)
    // Filed under a made-up chain B: detected. No chain_started naming B at seq 0, and B's checkpoint fails as B's.
    const B = 'c'.repeat(32)
    await store.persist(yReady.persist!, B)
    await store.persist(ry.persist!, B)
    const first = entry((await store.entriesAfter(-1, 1, B))[0]!)
    expect(first.seq).toBeGreaterThan(0)
    expect(first.event).not.toBe('chain_started')
    const key = createPublicKey({ key: Buffer.from((yReady as { result: { receiptPublicKey: string } }).result.receiptPublicKey.slice(2), 'hex'), format: 'der', type: 'spki' })
    const [cp] = await store.checkpoints(-1, 1, B)
    const [asB, asX] = [checkpointSignedMessage(cp!, B), checkpointSignedMessage(cp!, chainX)] // plain or turn18 form
    expect(verify(null, asB.message, key, asB.signature)).toBe(false)
    expect(verify(null, asX.message, key, asX.signature)).toBe(true) // it is X's
    // W's thread: one walletSeq twice, both continuing the same entry (verify15: audit_wallet_forked).
    const wx = rx.persist!.entries.map(entry).find((e) => e.wallet?.toLowerCase() === t.a.wallet)!
    const wy = ry.persist!.entries.map(entry).find((e) => e.wallet?.toLowerCase() === t.a.wallet)!
    expect([wy.walletSeq, wy.walletPrev]).toEqual([wx.walletSeq, wx.walletPrev])
    expect(wy.hash).not.toBe(wx.hash)
  })
})
