import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readAgentPayments } from '../../agent/agentRead.js'
import { generateAgentKey } from '../../agent/generateAgentKey.js'
import { releasePostgres } from '../helpers/postgres.js'
import { type AuditHost, auditHost, type LogRow, STORE_KINDS, storeWithLog } from './auditBudgetHost.js'

/** The host's row budget per request (BURSAR_AUDIT_SCAN_ROWS at its least). */
const BUDGET = 1_000
const WALLET = '0x000000000000000000000000000000000000a40a'
const PER_CHAIN = 15_000

/**
 * Attack (audit39's open end): `/v1/agent/payments` answered an agent's newest 20 entries with no bound on the rows
 * read: an agent with few entries in a busy wallet (a new one, or one whose payments are all old) made the host read
 * the wallet's whole history on its thread per signed read, as often as it liked. Now each read goes through at most
 * the budget of the wallet's entries from its cursor down and answers `next` (`before`) to continue; the SDK follows it.
 * Asserted on rows per request (what the host reports, each response captured by the SDK's own fetch).
 */
describe.each(STORE_KINDS)('adversarial: an agent stalls payments by reading its payments history (%s)', (kind) => {
  const agent = generateAgentKey()
  const fresh = generateAgentKey()
  // Two chains (the wallet moved between peers); the agent's 25 entries are among the oldest, 5 among the newest.
  const mineAt = new Set([...Array.from({ length: 25 }, (_, i) => 40 * i), ...Array.from({ length: 5 }, (_, i) => PER_CHAIN - 10 - 2 * i)])
  const rows: LogRow[] = ['', 'peer'].flatMap((chain) =>
    Array.from({ length: PER_CHAIN }, (_, seq) => ({ chain, seq, wallet: WALLET, agentId: chain === '' && mineAt.has(seq) ? agent.agentId : `agt_other${seq % 9}` })),
  )
  const mine = rows.filter((r) => r.agentId === agent.agentId).sort((a, b) => b.seq - a.seq)
  let host: AuditHost
  beforeAll(async () => {
    host = await auditHost(await storeWithLog(kind, rows), BUDGET, new Map())
  }, 120_000)
  afterAll(async () => {
    await host?.close()
    if (kind === 'postgres') releasePostgres()
  })

  /** readAgentPayments with its responses captured (the SDK's fetch). */
  async function read(key: ReturnType<typeof generateAgentKey>, limit: number) {
    const pages: Array<{ entries: unknown[]; next: number | null; scanned: number; scannedThrough: number; url: string }> = []
    const capture: typeof fetch = async (url, init) => {
      const res = await fetch(url, init)
      pages.push({ ...((await res.clone().json()) as { entries: unknown[]; next: number | null; scanned: number; scannedThrough: number }), url: String(url) })
      return res
    }
    const out = await readAgentPayments({ host: host.url, agentKey: key, wallet: WALLET as Hex, fetch: capture, limit })
    return { out, pages }
  }

  it(`each signed read goes through at most ${BUDGET} of the wallet's ${2 * PER_CHAIN} entries; the SDK follows next to the agent's 30`, async () => {
    const { out, pages } = await read(agent, 100)
    expect(out.entries.map((e) => e.seq)).toEqual(mine.map((r) => r.seq)) // newest first, each once, all 30
    expect(out.entries.every((e) => e.agentId === agent.agentId)).toBe(true)
    for (const p of pages) expect(p.scanned, JSON.stringify({ ...p, entries: p.entries.length })).toBeLessThanOrEqual(BUDGET)
    expect(pages.length).toBeGreaterThanOrEqual((2 * PER_CHAIN) / BUDGET) // the budget bound each read (the wallet was there)
    expect(pages[0]!.url).not.toContain('before=')
    expect(pages[1]!.url).toContain(`before=${pages[0]!.next}`)
    console.log(`${kind}: ${pages.length} signed reads, rows read per read max ${Math.max(...pages.map((p) => p.scanned))}`)
    // The newest 5: one read (they are within the first budget's stretch).
    const newest = await read(agent, 5)
    expect(newest.out.entries.map((e) => e.seq)).toEqual(mine.slice(0, 5).map((r) => r.seq))
    expect(newest.pages.length).toBe(1)
  }, 120_000)

  it('an agent with no entries: one read is at most the budget and says where to continue', async () => {
    const res = await fetch(`${host.url}/v1/agent/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ request: JSON.stringify({ agentId: fresh.agentId, wallet: WALLET, op: 'readPayments', limit: 20 }), signature: '0'.repeat(128) }),
    })
    expect(res.status).toBe(200)
    const page = (await res.json()) as { entries: unknown[]; next: number | null; scanned: number; scannedThrough: number }
    expect(page.entries).toEqual([])
    expect(page.scanned).toBeLessThanOrEqual(BUDGET)
    expect(page.next).toBe(page.scannedThrough)
    expect(page.scannedThrough).toBeGreaterThan(PER_CHAIN - BUDGET) // read from the newest down, no further than the budget
    const bad = await fetch(`${host.url}/v1/agent/payments?before=-1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(bad.status).toBe(400)
  }, 60_000)
})
