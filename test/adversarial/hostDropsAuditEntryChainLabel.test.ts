import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditCheckpoint } from '../../shared/audit/auditEntry.js'
import { type ServedAuditEntry, splitServedEntries } from '../../shared/audit/servedAuditEntry.js'
import { verifyAuditSlice } from '../../shared/audit/verifyAuditSlice.js'
import { AUDIT_READ_SCHEME, signAuditReadToken } from '../../shared/owner/auditReadAuth.js'
import { CHAIN_B, multiChainAuditLog, WALLET_A, WALLET_C, WALLET_W } from '../helpers/multiChainAuditLog.js'
import { multiChainAuditStore } from '../helpers/multiChainAuditStore.js'
import { releasePostgres } from '../helpers/postgres.js'
import { type AuditHost, auditHost, STORE_KINDS } from './auditBudgetHost.js'

type Page = { entries: ServedAuditEntry[]; checkpoints: AuditCheckpoint[] }

/**
 * Attack (chains41): an entry without a chain label is read as the root chain's (a host before chains41 labelled
 * none). A host that drops the labels (all of them, or one) presents another chain's entries as the root's: where
 * they share seqs with the root's, two entries at one seq (audit_out_of_order); where an owner's page holds one
 * chain B only, B's own signed checkpoints name them under B (audit_chain_mismatch: a checkpoint signs its chain,
 * so the host cannot serve them as the root's either). The honest labelled pages verify (real routes on a socket,
 * SQLite and PostgreSQL).
 */
describe.each(STORE_KINDS)('adversarial: host drops the chain label of audit entries (%s)', (kind) => {
  const log = multiChainAuditLog()
  const both = privateKeyToAccount(generatePrivateKey()) // owns A (root) and C (chain B)
  const onB = privateKeyToAccount(generatePrivateKey()) // owns C only (chain B)
  let host: AuditHost
  const pages: Record<string, Page> = {}

  beforeAll(async () => {
    host = await auditHost(await multiChainAuditStore(kind, [log.root, log.b]), 1_000, new Map([[WALLET_A, [both.address]], [WALLET_C, [both.address, onB.address]], [WALLET_W, []]]))
    for (const [who, account] of [['both', both], ['onB', onB]] as const) {
      const authorization = `${AUDIT_READ_SCHEME} ${await signAuditReadToken({ account, host: host.url, expiresAt: Date.now() + 3_600_000 })}`
      const res = await fetch(`${host.url}/v1/audit/entries?after=-1&limit=100`, { headers: { authorization } })
      expect(res.status).toBe(200)
      pages[who] = (await res.json()) as Page
    }
    const res = await fetch(`${host.url}/v1/audit/entries?after=-1&limit=100`, { headers: { authorization: `Bearer ${host.operator}` } })
    pages.operator = (await res.json()) as Page
  }, 120_000)
  afterAll(async () => {
    await host?.close()
    if (kind === 'postgres') releasePostgres()
  })

  const verify = (p: Page) => verifyAuditSlice({ ...splitServedEntries(p.entries), checkpoints: p.checkpoints, publicKey: log.publicKeyHex })
  const unlabelled = (p: Page, which: (e: ServedAuditEntry) => boolean = () => true): Page => ({
    entries: p.entries.map(({ auditChain, ...e }) => (which({ ...e, auditChain }) ? e : { ...e, auditChain })),
    checkpoints: p.checkpoints,
  })

  it('the honest labelled pages verify, every entry vouched for', () => {
    for (const who of ['both', 'onB', 'operator']) {
      expect(pages[who]!.entries.some((e) => e.auditChain === CHAIN_B)).toBe(true)
      expect(verify(pages[who]!)).toMatchObject({ ok: true, unvouched: [] })
    }
  })

  it("an owner's page of two chains without labels: B's entries among the root's at the same seqs (audit_out_of_order)", () => {
    // both: A at root 1, 6, 7, 8, 12 and C at B 1, 4, 6, 8: seq 1 twice.
    expect(verify(unlabelled(pages.both!))).toMatchObject({ ok: false, code: 'audit_out_of_order', seq: 1 })
    expect(verify(unlabelled(pages.operator!))).toMatchObject({ ok: false, code: 'audit_out_of_order', seq: 0 })
  })

  it("an owner's page of chain B only without labels: B's signed checkpoints name its entries (audit_chain_mismatch)", () => {
    expect(verify(unlabelled(pages.onB!))).toMatchObject({ ok: false, code: 'audit_chain_mismatch', seq: 1 })
    // One label dropped (B's seq 6): its checkpoint, signed over chain B, names it.
    expect(verify(unlabelled(pages.onB!, (e) => e.seq === 6))).toMatchObject({ ok: false, code: 'audit_chain_mismatch', seq: 6 })
  })
})
