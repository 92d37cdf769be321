import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runAuditTail } from '../../cli/commands/audit.js'
import type { AuditCheckpoint } from '../../shared/audit/auditEntry.js'
import { type ServedAuditEntry, splitServedEntries } from '../../shared/audit/servedAuditEntry.js'
import { verifyAuditSlice } from '../../shared/audit/verifyAuditSlice.js'
import { AUDIT_READ_SCHEME, signAuditReadToken } from '../../shared/owner/auditReadAuth.js'
import { CHAIN_B, multiChainAuditLog, WALLET_A, WALLET_C, WALLET_W } from '../helpers/multiChainAuditLog.js'
import { multiChainAuditStore } from '../helpers/multiChainAuditStore.js'
import { releasePostgres } from '../helpers/postgres.js'
import { type AuditHost, auditHost, STORE_KINDS } from './auditBudgetHost.js'

type Page = { entries: ServedAuditEntry[]; checkpoints: AuditCheckpoint[] }
const OTHER = 'e0'.repeat(16) // a chain id not in the store

/**
 * Attack (chains41): the chain label on an audit page's entries (`auditChain`) is the host's word, outside the
 * hashed entry. A host that moves an entry onto another chain's label (another chain of the cluster, one that does
 * not exist, or the root by dropping it: hostDropsAuditEntryChainLabel) would make the owner read its payment as
 * another chain's — e.g. hide that a wallet's payment was signed by another enclave. verifyAuditSlice checks each
 * chain by its own links and checkpoints, so the moved entry breaks both chains: the checkpoint of its real chain,
 * or the next entry's prevHash, names it under the other label (audit_chain_mismatch); among the other chain's
 * entries it does not link to their neighbour (audit_prev_hash_mismatch); with its chain's checkpoint withheld too, its wallet's thread enters the other chain without wallet_loaded (audit_thread_broken). The honest
 * page (real routes on a socket, SQLite and PostgreSQL, the log written by the enclave's appender) verifies.
 * Fixture (multiChainAuditLog): root 0 enclave_started, 1 A, 2-4 W, 5 W dropped, 6-8 A, 9 W loaded, 10-11 W, 12 A;
 * chain B 0 chain_started, 1 C, 2 W loaded, 3 W, 4 C, 5 W, 6 C, 7 W, 8 C, 9 W dropped.
 */
describe.each(STORE_KINDS)('adversarial: host relabels an audit entry onto another chain (%s)', (kind) => {
  const log = multiChainAuditLog()
  const mover = privateKeyToAccount(generatePrivateKey()) // owns W (root → B → root)
  let host: AuditHost
  const pages: Record<'mover' | 'operator', Page> = { mover: { entries: [], checkpoints: [] }, operator: { entries: [], checkpoints: [] } }

  beforeAll(async () => {
    host = await auditHost(await multiChainAuditStore(kind, [log.root, log.b]), 1_000, new Map([[WALLET_A, []], [WALLET_C, []], [WALLET_W, [mover.address]]]))
    const auth = {
      mover: `${AUDIT_READ_SCHEME} ${await signAuditReadToken({ account: mover, host: host.url, expiresAt: Date.now() + 3_600_000 })}`,
      operator: `Bearer ${host.operator}`,
    }
    for (const who of ['mover', 'operator'] as const) {
      const res = await fetch(`${host.url}/v1/audit/entries?after=-1&limit=100`, { headers: { authorization: auth[who] } })
      expect(res.status).toBe(200)
      const p = (await res.json()) as Page & { next: number | null }
      expect(p.next).toBeNull()
      pages[who] = p
    }
  }, 120_000)
  afterAll(async () => {
    await host?.close()
    if (kind === 'postgres') releasePostgres()
  })

  const verify = (p: Page) => verifyAuditSlice({ ...splitServedEntries(p.entries), checkpoints: p.checkpoints, publicKey: log.publicKeyHex })
  /** The page as the host served it, with the entry at (chain, seq) labelled `to` ('' drops the label) and the checkpoints `keep` keeps. */
  const relabel = (p: Page, chain: string, seq: number, to: string, keep: (c: AuditCheckpoint) => boolean = () => true): Page => {
    const entries = structuredClone(p.entries)
    const e = entries.find((x) => x.seq === seq && (x.auditChain ?? '') === chain)
    expect(e).toBeDefined()
    if (to === '') delete e!.auditChain
    else e!.auditChain = to
    return { entries, checkpoints: p.checkpoints.filter(keep) }
  }
  const not = (chain: string, seq: number) => (c: AuditCheckpoint) => !((c.chain ?? '') === chain && c.seq === seq)

  it('the honest pages verify, every entry vouched for', () => {
    expect(verify(pages.mover)).toMatchObject({ ok: true, count: 12, unvouched: [] })
    expect(verify(pages.operator)).toMatchObject({ ok: true, count: log.root.entries.length + log.b.entries.length, unvouched: [] })
  })

  it("W's payment on chain B (seq 7) served as the root's: chain B's checkpoint at seq 7 names it (audit_chain_mismatch)", () => {
    expect(verify(relabel(pages.mover, CHAIN_B, 7, ''))).toMatchObject({ ok: false, code: 'audit_chain_mismatch', seq: 7 })
    expect(verify(relabel(pages.mover, CHAIN_B, 7, OTHER))).toMatchObject({ ok: false, code: 'audit_chain_mismatch', seq: 7, chain: OTHER })
  })

  it('…with chain B\'s checkpoint at seq 7 withheld: the thread enters the root chain without wallet_loaded (audit_thread_broken)', () => {
    expect(verify(relabel(pages.mover, CHAIN_B, 7, '', not(CHAIN_B, 7)))).toMatchObject({ ok: false, code: 'audit_thread_broken', seq: 7 })
    expect(verify(relabel(pages.mover, CHAIN_B, 7, OTHER, not(CHAIN_B, 7)))).toMatchObject({ ok: false, code: 'audit_thread_broken', seq: 7, chain: OTHER })
  })

  it("the root's entry at seq 3 (W) served as chain B's: it does not link to B's seq 2; without B's seq 2, it links to the root's", () => {
    expect(verify(relabel(pages.mover, '', 3, CHAIN_B))).toMatchObject({ ok: false, code: 'audit_prev_hash_mismatch', seq: 3, chain: CHAIN_B })
    const p = relabel(pages.mover, '', 3, CHAIN_B, (c) => c.chain === undefined || c.seq !== 2)
    p.entries = p.entries.filter((e) => e.auditChain === undefined || e.seq !== 2) // B's seq 2 withheld too
    expect(verify(p)).toMatchObject({ ok: false, code: 'audit_chain_mismatch', seq: 3, chain: CHAIN_B })
  })

  it("on the operator's page (each chain whole): a moved entry does not link among the other chain's, or links to its own chain's", () => {
    // Root seq 7 (A) to chain B, the root's checkpoint at 7 withheld: between B's 6 and 8 it does not link.
    expect(verify(relabel(pages.operator, '', 7, CHAIN_B, not('', 7)))).toMatchObject({ ok: false, code: 'audit_prev_hash_mismatch', seq: 7, chain: CHAIN_B })
    // B's last (seq 9, W dropped) to a chain of its own, B's checkpoint at 9 withheld: it links to B's seq 8.
    expect(verify(relabel(pages.operator, CHAIN_B, 9, OTHER, not(CHAIN_B, 9)))).toMatchObject({ ok: false, code: 'audit_chain_mismatch', seq: 9, chain: OTHER })
    // B's seq 4 (C) to another chain, its checkpoint withheld: it links to B's seq 3 (and B's seq 5 to it).
    expect(verify(relabel(pages.operator, CHAIN_B, 4, OTHER, not(CHAIN_B, 4)))).toMatchObject({ ok: false, code: 'audit_chain_mismatch', seq: 4, chain: OTHER })
  })
  /** `bursar audit tail` (operator) against a host serving `page` as its only page: the lines it prints in one pass. */
  const tailOf = async (page: Page): Promise<{ lines: string[]; exitCode: number }> => {
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ scope: 'all', ...page, next: null, scanned: 0, scannedThrough: 0 })))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const lines: string[] = []
    const abort = new AbortController()
    try {
      const tail = runAuditTail({ host: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 't', intervalMs: 60_000, signal: abort.signal, write: (l) => lines.push(...l.split('\n')) })
      await expect.poll(() => lines.filter((l) => l.startsWith('#')).length, { timeout: 60_000, interval: 20 }).toBe(page.entries.length)
      abort.abort()
      return { lines, exitCode: (await tail).exitCode }
    } finally {
      server.close()
    }
  }

  it('`bursar audit tail` follows each chain by its label: a relabelled entry is CHAIN BROKEN in both chains; a label that is no chain id is flagged, quoted', async () => {
    expect(await tailOf(pages.operator)).toMatchObject({ exitCode: 0 })
    expect((await tailOf(pages.operator)).lines.filter((l) => l.startsWith('!!'))).toEqual([])
    const moved = await tailOf(relabel(pages.operator, '', 7, CHAIN_B))
    expect(moved.exitCode).toBe(1)
    expect(moved.lines.filter((l) => l.startsWith('!!')).map((l) => l.slice(0, l.indexOf(':')))).toEqual([
      `!! CHAIN BROKEN at seq 7 of chain ${CHAIN_B}`, // the root's 7 does not link to B's 6
      `!! CHAIN BROKEN at seq 7 of chain ${CHAIN_B}`, // B's own 7 after it
      '!! CHAIN BROKEN at seq 8', // the root's 8 after the root's 6
    ])
    const forged = await tailOf(relabel(pages.operator, CHAIN_B, 4, 'x\n!! all good'))
    expect(forged.exitCode).toBe(1)
    expect(forged.lines.filter((l) => l.startsWith('!!'))).toEqual(['!! BAD CHAIN LABEL at seq 4: "x\\n!! all good" is not a chain id', expect.stringMatching(/^!! CHAIN BROKEN at seq 5 of chain/)])
  }, 120_000)
})
