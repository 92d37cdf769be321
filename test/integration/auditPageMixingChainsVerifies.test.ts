import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runAuditTail } from '../../cli/commands/audit.js'
import type { AuditCheckpoint } from '../../shared/audit/auditEntry.js'
import { byChain, type ServedAuditEntry, splitServedEntries } from '../../shared/audit/servedAuditEntry.js'
import { verifyAuditLog } from '../../shared/audit/verifyAuditLog.js'
import { verifyAuditSlice } from '../../shared/audit/verifyAuditSlice.js'
import { AUDIT_READ_SCHEME, signAuditReadToken } from '../../shared/owner/auditReadAuth.js'
import { type AuditHost, auditHost, STORE_KINDS } from '../adversarial/auditBudgetHost.js'
import { CHAIN_B, multiChainAuditLog, WALLET_A, WALLET_C, WALLET_W } from '../helpers/multiChainAuditLog.js'
import { multiChainAuditStore } from '../helpers/multiChainAuditStore.js'
import { releasePostgres } from '../helpers/postgres.js'

type Page = { scope: string; entries: ServedAuditEntry[]; checkpoints: AuditCheckpoint[]; next: number | null }

/**
 * chains41: a cluster's audit log is several chains in one store, each with its own seqs from 0. An audit page
 * (`/v1/audit/entries`) mixes them — an owner with wallets on two chains, a wallet that moved between chains, any
 * unfiltered operator page — and its entries did not say which chain they were in (only chain_started names one), so
 * the console's check (verifyAuditSlice) read a mixed page as one chain (audit_out_of_order where two chains share a
 * seq, prevHash links across chains) and `bursar audit tail` printed `!! CHAIN BROKEN` on an honest host; an
 * operator's mixed page got the root chain's checkpoints only. Now each entry of a non-root chain carries
 * `auditChain` (beside `hash`, not hashed), verifyAuditSlice checks each chain by its own links and checkpoints (and a
 * wallet's thread across them), an operator's mixed page gets each chain's checkpoints, and the tail follows each
 * chain. The log is built by the enclave's appender (core/audit/AuditChain) with a wallet that moves root → B → root;
 * real stores, the host's real routes on a socket.
 */
describe.each(STORE_KINDS)('audit pages mixing chains on %s verify, chain by chain', (kind) => {
  const log = multiChainAuditLog()
  const total = log.root.entries.length + log.b.entries.length
  const both = privateKeyToAccount(generatePrivateKey()) // owns A (root) and C (chain B)
  const mover = privateKeyToAccount(generatePrivateKey()) // owns W (root → B → root)
  let host: AuditHost
  const auth: Record<string, string> = {}

  beforeAll(async () => {
    const store = await multiChainAuditStore(kind, [log.root, log.b])
    host = await auditHost(store, 1_000, new Map([[WALLET_A, [both.address]], [WALLET_C, [both.address]], [WALLET_W, [mover.address]]]))
    auth.both = `${AUDIT_READ_SCHEME} ${await signAuditReadToken({ account: both, host: host.url, expiresAt: Date.now() + 3_600_000 })}`
    auth.mover = `${AUDIT_READ_SCHEME} ${await signAuditReadToken({ account: mover, host: host.url, expiresAt: Date.now() + 3_600_000 })}`
    auth.operator = `Bearer ${host.operator}`
  }, 120_000)
  afterAll(async () => {
    await host?.close()
    if (kind === 'postgres') releasePostgres()
  })

  /** Every page from the start (`limit` each), concatenated. */
  const pages = async (authorization: string, limit = 100): Promise<Page & { count: number }> => {
    const all: Page & { count: number } = { scope: '', entries: [], checkpoints: [], next: null, count: 0 }
    for (let after = -1; ; all.count++) {
      const res = await fetch(`${host.url}/v1/audit/entries?after=${after}&limit=${limit}`, { headers: { authorization } })
      expect(res.status).toBe(200)
      const p = (await res.json()) as Page
      all.scope = p.scope
      all.entries.push(...p.entries)
      all.checkpoints.push(...p.checkpoints)
      expect(slice(p)).toMatchObject({ ok: true, unvouched: [] }) // each page on its own, too
      if (p.next === null) return all
      after = p.next
    }
  }
  const slice = (p: Page, complete = false) => verifyAuditSlice({ ...splitServedEntries(p.entries), checkpoints: p.checkpoints, publicKey: log.publicKeyHex, complete })
  const chainOf = (e: ServedAuditEntry) => e.auditChain ?? ''
  const expected = (wallets: string[] | null) =>
    [log.root, log.b]
      .flatMap((c) => c.entries.filter((e) => wallets === null || (e.wallet !== null && wallets.includes(e.wallet))).map((e) => `${c.chain}:${e.seq}`))
      .sort()

  it('labels each entry of a chain other than the root with it, outside the hashed entry (recorded hashes unchanged)', async () => {
    const p = await pages(auth.operator!)
    expect(p.entries.map((e) => `${chainOf(e)}:${e.seq}`).sort()).toEqual(expected(null))
    for (const e of p.entries) {
      const c = chainOf(e) === '' ? log.root : log.b
      expect(e.auditChain === undefined || e.auditChain === CHAIN_B).toBe(true)
      expect(e.hash).toBe(c.hashes[e.seq]) // the label is not in the stored entry: its recorded hash is the enclave's
    }
    expect(p.entries.some((e) => e.auditChain === CHAIN_B && e.event !== 'chain_started')).toBe(true)
  })

  it("an owner whose wallets are on two chains, and an owner whose wallet moved between chains: every entry vouched for", async () => {
    for (const [who, wallets] of [['both', [WALLET_A, WALLET_C]], ['mover', [WALLET_W]]] as const) {
      const p = await pages(auth[who]!)
      expect(p.scope).toBe('owner')
      expect(p.entries.map((e) => `${chainOf(e)}:${e.seq}`).sort()).toEqual(expected([...wallets]))
      // Two chains share seqs on this page (before chains41: audit_out_of_order / prevHash across chains).
      const seqs = p.entries.map((e) => e.seq)
      expect(new Set(seqs).size).toBeLessThan(seqs.length)
      expect(slice(p)).toMatchObject({ ok: true, count: p.entries.length, signed: p.entries.length, unvouched: [], unvouchedChains: [] })
      // All of the owner's pages from the start, as the console reads them: each wallet's thread whole across the chains.
      const paged = await pages(auth[who]!, 2)
      expect(paged.count).toBeGreaterThan(1)
      expect(slice(paged, true)).toMatchObject({ ok: true, count: p.entries.length, signed: p.entries.length, unvouched: [] })
    }
  })

  it("the operator's unfiltered page: each chain's checkpoints (each naming a non-root chain), the page and the whole log verify per chain", async () => {
    const one = await pages(auth.operator!)
    expect(one.count).toBe(0) // one page
    expect(one.checkpoints.filter((c) => c.chain === CHAIN_B).map((c) => c.seq)).toEqual(log.b.entries.map((e) => e.seq))
    expect(one.checkpoints.filter((c) => c.chain === undefined).map((c) => c.seq)).toEqual(log.root.entries.map((e) => e.seq))
    expect(slice(one)).toEqual({ ok: true, count: total, linked: total - 2, signed: total, unvouched: [], unvouchedChains: [] })
    // Small pages (cut by the limit): each verifies, and together they are the whole log of each chain (the console's check).
    const paged = await pages(auth.operator!, 3)
    expect(paged.count).toBeGreaterThan(3)
    const { entries, hashes, chains } = splitServedEntries(paged.entries)
    const whole = verifyAuditLog({ ...byChain(entries, hashes, chains, paged.checkpoints), publicKey: log.publicKeyHex })
    expect(whole).toMatchObject({ ok: true, count: log.root.entries.length, chains: [{ chain: CHAIN_B, count: log.b.entries.length }] })
  })

  it('`bursar audit tail` on the honest cluster: every entry once, no CHAIN BROKEN (operator), no ENTRY MODIFIED (owner)', async () => {
    for (const opts of [{ token: host.operator }, { header: [`authorization: ${auth.mover}`] }]) {
      const lines: string[] = []
      const abort = new AbortController()
      const deadline = setTimeout(() => abort.abort(), 60_000)
      // One pass: the tail sleeps on the last page (next null); its interval is where this test stops it.
      const tail = runAuditTail({ host: host.url, ...opts, intervalMs: 60_000, signal: abort.signal, write: (l) => lines.push(l) })
      await expect.poll(() => lines.length, { timeout: 60_000, interval: 20 }).toBeGreaterThan(0)
      const want = 'token' in opts ? total : expected([WALLET_W]).length
      await expect.poll(() => lines.filter((l) => l.startsWith('#')).length, { timeout: 60_000, interval: 20 }).toBe(want)
      abort.abort()
      clearTimeout(deadline)
      expect(await tail).toMatchObject({ exitCode: 0 })
      expect(lines.filter((l) => l.startsWith('!!'))).toEqual([])
      expect(lines.filter((l) => l.startsWith('#') && l.includes(` of chain ${CHAIN_B} `)).length).toBe('token' in opts ? log.b.entries.length : expected([WALLET_W]).filter((k) => k.startsWith(CHAIN_B)).length)
    }
  }, 120_000)
})
