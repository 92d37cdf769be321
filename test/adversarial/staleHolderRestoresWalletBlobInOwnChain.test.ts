import { afterAll, describe, expect, it } from 'vitest'
import { PostgresStore } from '../../host/storage/PostgresStore.js'
import { WalletLeaseLostError } from '../../host/storage/storeErrors.js'
import { acquireWalletLease } from '../../host/storage/walletLeases.js'
import { freshDatabase, releasePostgres } from '../helpers/postgres.js'

const W = `0x${'11'.repeat(20)}`
const CHAIN_B = 'b'.repeat(32)
const entry = (seq: number, wallet: string | null, tag: string) =>
  JSON.stringify({ seq, hash: `0x${tag.repeat(32)}`, time: 1, event: 'sign_allowed', wallet, agentId: null, verdict: 'allow' })

/**
 * Attack / fault (issue 15 step 4, per-wallet fence): a pair on its own chain B held wallet W, lost W's lease (paused
 * past it) and pair A took W (epoch 2) and stored W's blob at version 5 in A's chain. The stale pair's enclave then
 * seals W at version 5 too (its own next version, from its own older state) and the stale host sends that blob in a
 * block with no entry (a snapshot block). The fence skipped wallet blobs whose (wallet, version) was stored in ANY
 * chain, while the store keys blobs by (chain, wallet, version): the stale blob went in as a new row of chain B, a
 * wallet blob stored by a host that does not hold the wallet, beside the holder's at the same version — and
 * latestSnapshot could hand either to the next loader. Only what is already stored *in this chain* needs no lease.
 */
describe('adversarial: a stale wallet holder stores a blob of the wallet under its own chain at a version already stored', () => {
  afterAll(() => releasePostgres())

  it('is refused by the per-wallet fence (nothing stored); the holder\'s blob is what loaders get', async () => {
    const url = await freshDatabase()
    const a = await PostgresStore.open(url)
    const b = await PostgresStore.open(url)
    try {
      // B held W first (epoch 1) and let it lapse; A took it (epoch 2).
      expect((await acquireWalletLease(b.pool, W, 'B', 'http://B', 1_000))?.epoch).toBe(1)
      b.setWalletFence({ holder: 'B', url: 'http://B', ttlMs: 10_000, epochs: new Map([[W, 1]]), onClaimed: () => {} })
      const own = { wallet: W, version: 4, blob: new Uint8Array([0xb4]) }
      await b.persist({ entries: [], checkpoint: null, sealed: { version: 2, auditSeq: 0, blob: new Uint8Array([2]), wallets: [own] } }, CHAIN_B)
      await new Promise((r) => setTimeout(r, 1_100))
      expect((await acquireWalletLease(a.pool, W, 'A', 'http://A', 10_000))?.epoch).toBe(2)
      a.setWalletFence({ holder: 'A', url: 'http://A', ttlMs: 10_000, epochs: new Map([[W, 2]]), onClaimed: () => {} })
      const holders = new Uint8Array([0xa5])
      const stale = new Uint8Array([0xb5])
      await a.persist({ entries: [entry(0, W, 'a0')], checkpoint: null, sealed: { version: 1, auditSeq: 0, blob: new Uint8Array([1]), wallets: [{ wallet: W, version: 5, blob: holders }] } }, '')
      // The stale host: a snapshot block of chain B with W's blob at the version A stored.
      const sent = b.persist({ entries: [], checkpoint: null, sealed: { version: 3, auditSeq: 0, blob: new Uint8Array([2]), wallets: [{ wallet: W, version: 5, blob: stale }] } }, CHAIN_B)
      await expect(sent).rejects.toBeInstanceOf(WalletLeaseLostError)
      await expect(sent).rejects.toMatchObject({ wallets: [W] })
      const rows = await a.pool.query<{ chain: string; blob: Buffer }>('SELECT chain, blob FROM snapshots WHERE wallet = $1', [W])
      expect(rows.rows.map((r) => [r.chain, [...r.blob]]).sort()).toEqual([['', [0xa5]], [CHAIN_B, [0xb4]]])
      const w = (await a.latestSnapshot(''))!.wallets.find((x) => x.wallet === W)!
      expect([...w.blob]).toEqual([0xa5])
      // What B itself stored in chain B before may still be re-sent (the unacknowledged final blob rides along).
      await b.persist({ entries: [], checkpoint: null, sealed: { version: 4, auditSeq: 0, blob: new Uint8Array([3]), wallets: [own] } }, CHAIN_B)
    } finally {
      await a.close()
      await b.close()
    }
  }, 30_000)
})
