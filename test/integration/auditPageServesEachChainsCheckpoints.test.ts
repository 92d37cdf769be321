import { sign } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PostgresStore } from '../../host/storage/PostgresStore.js'
import { SqliteStore } from '../../host/storage/SqliteStore.js'
import type { Store } from '../../host/storage/Store.js'
import { auditCheckpointMessage } from '../../shared/audit/auditCheckpointMessage.js'
import type { AuditCheckpoint, AuditEntry } from '../../shared/audit/auditEntry.js'
import { hashAuditEntry } from '../../shared/audit/hashAuditEntry.js'
import { GENESIS_HASH } from '../../shared/audit/hashCanonicalAuditEntry.js'
import { mockAuditBody, mockEd25519Key } from '../../shared/audit/mockAuditLog.js'
import { splitServedEntries } from '../../shared/audit/servedAuditEntry.js'
import { toEd25519PublicKey } from '../../shared/audit/toEd25519PublicKey.js'
import { verifyAuditCheckpoint } from '../../shared/audit/verifyAuditCheckpoint.js'
import { verifyAuditSlice } from '../../shared/audit/verifyAuditSlice.js'
import { AUDIT_READ_SCHEME, signAuditReadToken } from '../../shared/owner/auditReadAuth.js'
import { type AuditHost, auditHost, STORE_KINDS } from '../adversarial/auditBudgetHost.js'
import { freshDatabase, releasePostgres } from '../helpers/postgres.js'

const A = 'a'.repeat(32)
const ROOT_WALLET = '0x1111111111111111111111111111111111111111'
const A_WALLET = '0x2222222222222222222222222222222222222222'
const N = 6

type Page = { scope: string; entries: Array<AuditEntry & { hash: string }>; checkpoints: AuditCheckpoint[]; next: number | null }

/**
 * tidy41: the audit log of a cluster is several chains in one store, each with its own seqs from 0 and checkpoints
 * that sign their chain. `/v1/audit/entries` served the root chain's checkpoints whatever chain its entries were in:
 * an owner whose wallet lives on another chain got, at its entries' seqs, checkpoints over other entries (the
 * console's check, verifyAuditSlice, answered audit_checkpoint_mismatch on an honest host) and never its own chain's.
 * Now each entry's checkpoint is its own chain's, naming the chain (owner pages), and a page of one chain's entries
 * gets that chain's range (operator pages). Real stores (SQLite, PostgreSQL), the host's real routes on a socket,
 * checkpoints signed as the enclave signs them, checked by the shared verifiers.
 */
describe.each(STORE_KINDS)('audit entries on %s: each chain\'s entries under that chain\'s checkpoints', (kind) => {
  const { privateKey, publicKeyHex } = mockEd25519Key(7)
  const owner = privateKeyToAccount(generatePrivateKey())
  const both = privateKeyToAccount(generatePrivateKey())
  let host: AuditHost
  let ownerAuth: string
  let bothAuth: string

  beforeAll(async () => {
    const store: Store = kind === 'sqlite' ? new SqliteStore(path.join(mkdtempSync(path.join(tmpdir(), 'bursar-tidy41-')), 'b.db'), { backgroundCheckpoint: false }) : await PostgresStore.open(await freshDatabase())
    // Two chains at once, the same seqs: the root's entries name ROOT_WALLET, chain A's (after its chain_started) A_WALLET.
    for (const [chain, wallet] of [['', ROOT_WALLET], [A, A_WALLET]] as const) {
      let prevHash = GENESIS_HASH
      let thread = { walletSeq: 0, hash: GENESIS_HASH }
      for (let seq = 0; seq < N; seq++) {
        const started = chain !== '' && seq === 0
        const entry = { ...mockAuditBody(seq), seq, prevHash, ...(started ? { event: 'chain_started', wallet: null, agentId: null, chain, core: 'c'.repeat(32) } : { wallet, walletSeq: thread.walletSeq + 1, walletPrev: thread.hash }) } as AuditEntry
        const hash = hashAuditEntry(entry)
        if (!started) thread = { walletSeq: thread.walletSeq + 1, hash }
        prevHash = hash
        const time = entry.time + 1
        const signature = `0x${sign(null, auditCheckpointMessage({ seq, head: hash, time, chain }), privateKey).toString('hex')}`
        await store.persist({ entries: [JSON.stringify({ ...entry, hash })], checkpoint: { seq, head: hash, time, signature }, sealed: null }, chain)
      }
    }
    host = await auditHost(store, 1_000, new Map([[ROOT_WALLET, [both.address]], [A_WALLET, [owner.address, both.address]]]))
    ownerAuth = `${AUDIT_READ_SCHEME} ${await signAuditReadToken({ account: owner, host: host.url, expiresAt: Date.now() + 3_600_000 })}`
    bothAuth = `${AUDIT_READ_SCHEME} ${await signAuditReadToken({ account: both, host: host.url, expiresAt: Date.now() + 3_600_000 })}`
  }, 120_000)
  afterAll(async () => {
    await host?.close()
    if (kind === 'postgres') releasePostgres()
  })

  const page = async (query: string, authorization: string): Promise<Page> => {
    const res = await fetch(`${host.url}/v1/audit/entries?after=-1&limit=100${query}`, { headers: { authorization } })
    expect(res.status).toBe(200)
    const p = (await res.json()) as Page
    expect(p.next).toBeNull()
    return p
  }
  // chains41: each chain-A entry is labelled (auditChain), outside the entry: split as the console and the CLI split it.
  const slice = (p: Page) => verifyAuditSlice({ ...splitServedEntries(p.entries), checkpoints: p.checkpoints, publicKey: publicKeyHex })
  const aSeqs = Array.from({ length: N - 1 }, (_, i) => i + 1)

  it("an owner whose wallet is on another chain than the root: its entries under its chain's checkpoints, every one signed", async () => {
    for (const [query, authorization] of [['', ownerAuth], [`&wallet=${A_WALLET}`, ownerAuth], [`&wallet=${A_WALLET}`, bothAuth]] as const) {
      const p = await page(query, authorization)
      expect(p.scope).toBe('owner')
      expect(p.entries.map((e) => [e.wallet, e.seq])).toEqual(aSeqs.map((s) => [A_WALLET, s]))
      expect(p.checkpoints.map((c) => [c.chain, c.seq])).toEqual(aSeqs.map((s) => [A, s]))
      expect(slice(p)).toEqual({ ok: true, count: N - 1, linked: N - 2, signed: N - 1, unvouched: [], unvouchedChains: [] })
    }
  })

  it("the operator's page of one wallet on chain A: chain A's range of checkpoints, every entry signed", async () => {
    const p = await page(`&wallet=${A_WALLET}`, `Bearer ${host.operator}`)
    expect(p.scope).toBe('all')
    expect(p.checkpoints.map((c) => [c.chain, c.seq])).toEqual(aSeqs.map((s) => [A, s]))
    expect(slice(p)).toMatchObject({ ok: true, signed: N - 1, unvouched: [] })
  })

  it("a root-chain wallet's page is as before (root checkpoints, no chain named)", async () => {
    for (const authorization of [bothAuth, `Bearer ${host.operator}`]) {
      const p = await page(`&wallet=${ROOT_WALLET}`, authorization)
      expect(p.checkpoints.map((c) => [c.chain, c.seq])).toEqual(Array.from({ length: N }, (_, s) => [undefined, s]))
      expect(slice(p)).toMatchObject({ ok: true, signed: N, unvouched: [] })
    }
  })

  it("an owner's page across both chains: each entry's checkpoint is its own chain's, signed over that chain", async () => {
    const p = await page('', bothAuth)
    const chainOf = (e: AuditEntry) => (e.wallet === A_WALLET || e.event === 'chain_started' ? A : '')
    const key = (chain: string | undefined, seq: number) => `${chain ?? ''}:${seq}`
    expect(p.checkpoints.map((c) => key(c.chain, c.seq)).sort()).toEqual(p.entries.map((e) => key(chainOf(e), e.seq)).sort())
    const hashes = new Map(p.entries.map((e) => [key(chainOf(e), e.seq), e.hash]))
    for (const c of p.checkpoints) {
      expect(c.head).toBe(hashes.get(key(c.chain, c.seq)))
      expect(verifyAuditCheckpoint(c, toEd25519PublicKey(publicKeyHex))).toBe(true)
      // Named under another chain (or none), the same checkpoint no longer verifies: the chain is signed.
      expect(verifyAuditCheckpoint({ ...c, chain: c.chain ? undefined : A }, toEd25519PublicKey(publicKeyHex))).toBe(false)
    }
  })
})
