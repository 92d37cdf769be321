import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkpointRows } from '../../host/storage/auditScan.js'
import { SqliteStore } from '../../host/storage/SqliteStore.js'
import { type StackWithAgent, eip3009, paymentPolicy, postSign, runCli, signedBody, stackWithAgent, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'

/** Entries in the log before the host starts (another chain's, stored as a scale-out peer would): ~55 MB. */
const LOG = Number(process.env.AUDIT39_LOG ?? 150_000)
/** The host's row budget per audit query (BURSAR_AUDIT_SCAN_ROWS). */
const BUDGET = 2_000
const PAYMENTS = 20
/** Stranger queries answered while the payments run (at least; the payments go on until this many). */
const QUERIES = 40

/**
 * Attack (rt36b's hole, audit39): on a `BURSAR_AUDIT_AUTH=open` host a stranger loops filtered audit queries (an agent
 * that never paid, verdict deny, a request id nobody sent). Each used to scan the whole log on the host's only thread
 * (at 150k entries ~75 ms of CPU for the agent filter, ~200 ms for the request filter, in process; 1.6-3.5 s at 1M),
 * stalling every payment behind it. Now each query reads at most the host's row budget from its cursor and answers
 * with a `next` to continue: asserted on the rows each query read (what the host reports and its cursor shows), not on
 * times. The payments, sent while the stranger loops, are all answered and signed.
 */
describe.skipIf(process.env.BURSAR_TEST_STORE === 'postgres')('adversarial: a stranger stalls payments with filtered audit queries (real host and enclave, SQLite)', () => {
  let s: StackWithAgent
  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'bursar-audit39-'))
    const file = path.join(dataDir, 'bursar.db')
    new SqliteStore(file, { backgroundCheckpoint: false }).close() // the schema, as the host makes it
    const db = new Database(file)
    db.pragma('journal_mode = WAL')
    const ins = db.prepare("INSERT INTO audit_entries(chain, seq, hash, time, event, wallet, agent_id, verdict, body, wallet_seq) VALUES ('peer', ?, ?, ?, 'sign', ?, ?, 'allow', ?, 0)")
    const pad = 'x'.repeat(160)
    db.transaction(() => {
      for (let seq = 0; seq < LOG; seq++) {
        const wallet = `0x${(seq % 50).toString(16).padStart(40, '0')}`
        const hash = `0x${seq.toString(16).padStart(64, '0')}`
        const body = JSON.stringify({ seq, hash, time: seq, event: 'sign', wallet, agentId: `agt_peer${seq % 64}`, verdict: 'allow', requestId: seq.toString(16).padStart(32, '0'), chain: 'peer', pad })
        ins.run(seq, hash, seq, wallet, `agt_peer${seq % 64}`, body)
      }
    })()
    db.close()
    s = await stackWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '100000000' }), { dataDir, env: { BURSAR_AUDIT_AUTH: 'open', BURSAR_AUDIT_SCAN_ROWS: String(BUDGET) } })
    await waitAgentFloor()
  }, 120_000)
  afterAll(async () => {
    await s?.stack.stop()
  })

  it(`${PAYMENTS} payments are answered while a stranger loops filtered queries over ${LOG} entries; each query reads at most ${BUDGET} rows`, async () => {
    const filters: Record<string, string>[] = [{ agent: 'agt_nobody' }, { verdict: 'deny' }, { request: randomBytes(16).toString('hex') }]
    type Seen = { filter: string; after: number; scanned: number; scannedThrough: number; next: number | null; entries: number }
    const seen: Seen[] = []
    let stop = false
    const stranger = async (i: number) => {
      for (let after = -1, k = i; !stop; ) {
        const f = filters[k % filters.length]!
        const qs = new URLSearchParams({ ...f, after: String(after), limit: '1000' })
        const res = await fetch(`${s.stack.url}/v1/audit/entries?${qs}`)
        expect(res.status).toBe(200)
        const page = (await res.json()) as { entries: unknown[]; next: number | null; scanned: number; scannedThrough: number }
        seen.push({ filter: JSON.stringify(f), after, scanned: page.scanned, scannedThrough: page.scannedThrough, next: page.next, entries: page.entries.length })
        if (page.next === null) {
          after = -1
          k++
        } else after = page.next
      }
    }
    const strangers = [0, 1, 2].map(stranger)
    const signed: boolean[] = []
    try {
      for (const deadline = Date.now() + 120_000; (signed.length < PAYMENTS || seen.length < QUERIES) && Date.now() < deadline; ) {
        const op = eip3009({ wallet: s.wallet, value: 10n })
        const r = await postSign(s.stack.url, signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: op }))
        expect(r.status, JSON.stringify(r.json)).toBe(200)
        signed.push(await verifyEip3009(s.wallet, op, r.json.signature as Hex))
      }
    } finally {
      stop = true
      await Promise.all(strangers)
    }
    const walked = Math.max(...seen.map((q) => q.scannedThrough))
    console.log(`${signed.length} payments answered while ${seen.length} stranger queries ran; rows read per query max ${Math.max(...seen.map((q) => q.scanned))}, deepest page through seq ${walked}`)
    expect(signed.length).toBeGreaterThanOrEqual(PAYMENTS)
    expect(signed.every(Boolean)).toBe(true)
    expect(seen.length).toBeGreaterThanOrEqual(QUERIES)
    for (const q of seen) {
      // Two chains (this pair's and the peer's) share the budget (audit40; audit39 read BUDGET seqs of each): BUDGET / 2 seqs.
      expect(q.scanned, JSON.stringify(q)).toBeLessThanOrEqual(BUDGET)
      expect(q.scannedThrough - q.after, JSON.stringify(q)).toBeLessThanOrEqual(BUDGET / 2)
      expect(q.entries).toBe(0) // nothing matches: before audit39 each of these read all LOG entries to say so
      if (q.scannedThrough < LOG - 1) expect(q.next, JSON.stringify(q)).toBe(q.scannedThrough) // the cursor continues where the scan stopped
    }
    // The log was there to be read: the window is the budget less the checkpoints' share (ckpt40b), the two chains sharing it.
    expect(seen.filter((q) => q.scanned >= (BUDGET - checkpointRows(BUDGET, 1000)) / 2).length).toBeGreaterThan(QUERIES / 2)
  }, 180_000)

  it("the CLI's `audit query --agent` follows the short pages: exactly the agent's entries the wallet's export holds", async () => {
    const auth = { authorization: `Bearer ${s.stack.auditToken}` }
    const jsonl = await (await fetch(`${s.stack.url}/v1/audit/export?wallet=${s.wallet}`, { headers: auth })).text()
    const lines = jsonl.trim().split('\n').map((l) => JSON.parse(l) as { type: string; seq: number; agentId?: string })
    const expected = lines.filter((e) => e.type === 'entry' && e.agentId === s.agentKey.agentId).map((e) => e.seq)
    expect(expected.length).toBeGreaterThanOrEqual(PAYMENTS)
    const q = await runCli(['audit', 'query', '--host', s.stack.url, '--token', s.stack.auditToken, '--agent', s.agentKey.agentId, '--json'])
    expect(q.code, q.stderr).toBe(0)
    expect((JSON.parse(q.stdout) as { entries: { seq: number }[] }).entries.map((e) => e.seq)).toEqual(expected)
    // The same walk by hand: many pages, most of them empty (the peer chain's window), each within the budget.
    let pages = 0
    for (let after = -1; after !== null; pages++) {
      const page = (await (await fetch(`${s.stack.url}/v1/audit/entries?agent=${s.agentKey.agentId}&after=${after}&limit=1000`)).json()) as { next: number | null; scannedThrough: number }
      expect(page.scannedThrough - after).toBeLessThanOrEqual(BUDGET / 2)
      after = page.next as number
    }
    expect(pages).toBeGreaterThanOrEqual(LOG / BUDGET)
  }, 120_000)
})
