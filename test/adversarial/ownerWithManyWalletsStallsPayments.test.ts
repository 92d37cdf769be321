import { privateKeyToAccount, generatePrivateKey } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AUDIT_READ_SCHEME, signAuditReadToken } from '../../shared/owner/auditReadAuth.js'
import { releasePostgres } from '../helpers/postgres.js'
import { type AuditHost, auditHost, followEntries, keysOf, type LogRow, STORE_KINDS, storeWithLog } from './auditBudgetHost.js'

/** The host's row budget per request (BURSAR_AUDIT_SCAN_ROWS at its least). */
const BUDGET = 1_000
/** The owner's wallets: 100 rows each under audit39 (60 × 100 = 6,000 rows a page); 20 more are a stranger's. */
const OWNED = 60
const PER_CHAIN = 12_000
const CHAINS = ['', 'peer']

/**
 * Attack (audit39's open end): an owner named on many wallets (SetOwners names any key; a cluster's hosts hold many
 * enclaves) asks for its audit entries without `wallet`. audit39 split the budget per wallet with a floor of 100 rows
 * each, so 60 wallets read 6,000 rows a page on the host's thread, whatever BURSAR_AUDIT_SCAN_ROWS said. Now the page's
 * total is the budget: past BUDGET / 100 wallets one seq window with only the owner's wallets matching. Asserted on the
 * rows each page read (never times), and the honest paged read (and the owner's export) still returns every one of
 * the owner's entries exactly once.
 */
describe.each(STORE_KINDS)('adversarial: an owner with %s-stored entries in many wallets stalls payments with one audit query', (kind) => {
  const owner = privateKeyToAccount(generatePrivateKey())
  const wallets = Array.from({ length: OWNED + 20 }, (_, i) => `0x${(0xa000 + i).toString(16).padStart(40, '0')}`)
  const owners = new Map(wallets.map((w, i) => [w, i < OWNED ? [owner.address] : ['0x000000000000000000000000000000000000dEaD']]))
  const rows: LogRow[] = CHAINS.flatMap((chain, c) => Array.from({ length: PER_CHAIN }, (_, seq) => ({ chain, seq, wallet: wallets[(seq * 7 + c) % wallets.length]!, agentId: `agt_${seq % 5}` })))
  const mine = rows.filter((r) => owners.get(r.wallet!)![0] === owner.address)
  let host: AuditHost
  let authorization: string
  beforeAll(async () => {
    host = await auditHost(await storeWithLog(kind, rows), BUDGET, owners)
    authorization = `${AUDIT_READ_SCHEME} ${await signAuditReadToken({ account: owner, host: host.url, expiresAt: Date.now() + 3_600_000 })}`
  }, 120_000)
  afterAll(async () => {
    await host?.close()
    if (kind === 'postgres') releasePostgres()
  })

  it(`each page of the owner's query reads at most ${BUDGET} rows over ${OWNED} wallets; following next returns each of its entries once`, async () => {
    for (const limit of ['1000', '100']) {
      const pages = await followEntries(host, { limit }, authorization)
      for (const p of pages) {
        expect(p.scanned, JSON.stringify({ ...p, entries: p.entries.length })).toBeLessThanOrEqual(BUDGET)
        // Independently of what the host says it read: the owner's rows it covered fit the budget too.
        expect(mine.filter((r) => r.seq > p.after && r.seq <= p.scannedThrough).length).toBeLessThanOrEqual(BUDGET)
      }
      const got = keysOf(pages.flatMap((p) => p.entries))
      expect(new Set(got).size).toBe(got.length) // none twice
      expect([...got].sort()).toEqual(keysOf(mine).sort())
      expect(pages.length).toBeGreaterThanOrEqual(rows.length / BUDGET) // the budget bound the pages (the log was there)
      console.log(`${kind}, limit ${limit}: ${pages.length} pages, rows read per page max ${Math.max(...pages.map((p) => p.scanned))}`)
    }
  }, 120_000)

  it("the owner's export (every wallet of its, paged within the budget) holds each of its entries once", async () => {
    const res = await fetch(`${host.url}/v1/audit/export?format=jsonl`, { headers: { authorization } })
    expect(res.status).toBe(200)
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { type: string; seq: number; chain?: string })
    expect(keysOf(lines.filter((l) => l.type === 'entry')).sort()).toEqual(keysOf(mine).sort())
  }, 120_000)

  it('one wallet of its own: that wallet only, within the budget; a wallet it does not own: audit_wallet_not_owned', async () => {
    const pages = await followEntries(host, { wallet: wallets[3]!, limit: '1000' }, authorization)
    expect(pages.every((p) => p.scanned <= BUDGET)).toBe(true)
    expect(keysOf(pages.flatMap((p) => p.entries)).sort()).toEqual(keysOf(mine.filter((r) => r.wallet === wallets[3])).sort())
    const res = await fetch(`${host.url}/v1/audit/entries?wallet=${wallets[OWNED + 1]}`, { headers: { authorization } })
    expect(res.status).toBe(403)
    expect(((await res.json()) as { code: string }).code).toBe('audit_wallet_not_owned')
  }, 60_000)
})
