/**
 * Issue 18 (lat18b): WAL frames per commit of the host's SQLite store, by table and index, and the commit's own time.
 * A fresh stack (this checkout's dist/) runs c = 1 for a few seconds on the c1Breakdown shape (4 wallets × 4 agents);
 * its stored rows (entries, checkpoints, agent answers) are then replayed, in process, into a fresh SqliteStore of each
 * config (`root`: a checkout whose host/storage/SqliteStore.ts to load, e.g. `.ab/base` from `git archive main`) as
 * the host stores them: one commit per payment (its block: the entry and checkpoint; its answer row; the previous
 * answer's fetch mark rides in), or `BATCH` payments per commit (a c = 64 turn's group commit). Configs alternate per
 * commit (interleaved). The WAL is never checkpointed during the replay, so each commit's frames are the WAL's growth;
 * each frame's page is named by dbstat (its table or index) at the end. Counts do not move with the machine's load.
 *
 *   npx tsx scripts/bench/walFrames.ts [captured data dir | run] NAME=ROOT [NAME=ROOT ...]   (BATCH=1 default; TURN=1: one
 *   checkpoint per commit; AGENTS_PER_WALLET=16: the c = 64 bench's 64 agents, default 4)
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { expandAnswerBody, pasteCheckpoint } from '../../host/storage/answerBody.js'
import { startStack } from '../lib/startStack.js'
import { LoadGenerator } from './LoadGenerator.js'
import { setupBenchAgents } from './setupBenchAgents.js'

const [source = 'run', ...specs] = process.argv.slice(2)
const batch = Number(process.env.BATCH ?? 1)
const PAGE = 4096
const FRAME = PAGE + 24

async function capture(): Promise<string> {
  const s = await startStack()
  const load = await LoadGenerator.start()
  try {
    const agents = await setupBenchAgents({ url: s.url, owner: privateKeyToAccount(generatePrivateKey()), wallets: 4, agentsPerWallet: Number(process.env.AGENTS_PER_WALLET ?? 4) })
    // CAPTURE_C: more payments in the same time (rows are replayed one payment per block either way).
    await load.run({ url: s.url, agents, concurrency: Number(process.env.CAPTURE_C ?? 1), warmupMs: 0, durationMs: Number(process.env.CAPTURE_MS ?? 4000), auth: 'session' })
  } finally {
    await load.close()
    await s.stop()
  }
  return s.dataDir
}
const dir = source === 'run' ? await capture() : source
const src = new Database(path.join(dir, 'bursar.db'), { readonly: true })
type Entry = { seq: number; body: string }
type Cp = { seq: number; head: string; time: number; signature: string }
type Answer = { agentId: string; nonce: string; requestHash: string; status: number; body: string; auditSeq: number | null; decidedAt: number }
const entries = src.prepare("SELECT seq, body FROM audit_entries WHERE chain = '' ORDER BY seq").all() as Entry[]
const cps = new Map((src.prepare("SELECT seq, head, time, signature FROM audit_checkpoints WHERE chain = '' ORDER BY seq").all() as Cp[]).map((c) => [c.seq, c]))
// A store of migration 6 keeps answer bodies without their entry (answerBody.ts): the host's answers, rebuilt.
const compact = (src.prepare("SELECT 1 FROM pragma_table_info('agent_answers') WHERE name = 'entry_chain'").get() ?? null) !== null
// Migration 7 renamed the column (it holds a head when entry_chain is set).
const answerColumn = (src.prepare("SELECT 1 FROM pragma_table_info('agent_answers') WHERE name = 'body_or_head'").get() ?? null) !== null ? 'body_or_head' : 'body'
// Migration 8 (host35): a compact head may also leave out its receipt checkpoint (checkpoint_at), pasted from the row.
const cpCut = (src.prepare("SELECT 1 FROM pragma_table_info('agent_answers') WHERE name = 'checkpoint_at'").get() ?? null) !== null
const cpCols = cpCut ? ', a.checkpoint_at AS at, c.seq AS cSeq, c.head AS cHead, c.time AS cTime, c.signature AS cSig' : ''
// Migration 9 (host38): checkpoints keyed by rowid (chain number × 2^40 + seq); (chain, seq) is no longer an index.
const ckey = (src.prepare("SELECT 1 FROM pragma_table_info('audit_checkpoints') WHERE name = 'ckey'").get() ?? null) !== null
const cpJoin = !cpCut ? '' : ckey ? ` LEFT JOIN chain_ids k ON k.chain = a.entry_chain LEFT JOIN audit_checkpoints c ON c.ckey = k.id * ${2 ** 40} + a.audit_seq` : ' LEFT JOIN audit_checkpoints c ON c.chain = a.entry_chain AND c.seq = a.audit_seq'
type Row = Answer & { entryText?: string | null; at?: number | null; cSeq?: number; cHead?: string; cTime?: number; cSig?: string }
const answers = new Map(
  (
    src
      .prepare(`SELECT a.agent_id AS agentId, a.nonce, a.request_hash AS requestHash, a.status, a.${answerColumn} AS body, a.audit_seq AS auditSeq, a.decided_at AS decidedAt${compact ? `, e.body AS entryText${cpCols} FROM agent_answers a LEFT JOIN audit_entries e ON e.chain = a.entry_chain AND e.seq = a.audit_seq${cpJoin}` : ' FROM agent_answers a'}`)
      .all() as Row[]
  ).map(({ entryText, at, cSeq, cHead, cTime, cSig, ...a }) => {
    const head = at == null ? a.body : pasteCheckpoint(a.body, at, { seq: cSeq!, head: cHead!, time: cTime!, signature: cSig! })
    return [a.auditSeq, entryText ? { ...a, body: expandAnswerBody(head, entryText) } : a]
  }),
)
src.close()
const firstPaid = entries.findIndex((e) => answers.has(e.seq))
const setup = entries.slice(0, firstPaid)
const paid = entries.slice(firstPaid).filter((e) => answers.has(e.seq))
const blockOf = (e: Entry) => ({ entries: [e.body], checkpoint: cps.get(e.seq) ?? null, sealed: null })
console.log(`captured ${dir}: ${setup.length} setup entries, ${paid.length} payments (entry ${Math.round(paid.reduce((n, e) => n + e.body.length, 0) / paid.length)} B, answer ${Math.round(paid.reduce((n, e) => n + answers.get(e.seq)!.body.length, 0) / paid.length)} B); ${batch} per commit`)

type Cfg = { name: string; store: any; db: Database.Database; wal: string; frames: number[]; ms: number[]; cpu: number[]; pages: number[] }
const cfgs: Cfg[] = []
for (const spec of specs) {
  const [name, root] = spec.split('=') as [string, string]
  const { SqliteStore } = await import(path.resolve(root, 'host/storage/SqliteStore.ts'))
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-wf-')), 'b.db')
  const store = new SqliteStore(file, { backgroundCheckpoint: false })
  const db = (store as { db: Database.Database }).db
  db.pragma('wal_autocheckpoint = 0')
  await store.persistMany(setup.map(blockOf), [])
  cfgs.push({ name, store, db, wal: `${file}-wal`, frames: [], ms: [], cpu: [], pages: [] })
}
const walSize = (c: Cfg) => statSync(c.wal).size
/** The page number of each frame in [from, to) of the WAL file. */
function framePages(c: Cfg, from: number, to: number): number[] {
  const fd = openSync(c.wal, 'r')
  const out: number[] = []
  const h = Buffer.alloc(4)
  for (let off = from; off < to; off += FRAME) {
    readSync(fd, h, 0, 4, off)
    out.push(h.readUInt32BE(0))
  }
  closeSync(fd)
  return out
}
let prev: Answer[] = []
for (let i = 0; i + batch <= paid.length; i += batch) {
  const group = paid.slice(i, i + batch)
  const order = (i / batch) % 2 === 0 ? cfgs : [...cfgs].reverse()
  for (const c of order) {
    if (prev.length) await c.store.markAnswersFetched(prev.map((a) => ({ agentId: a.agentId, nonce: a.nonce })), Date.now())
    const before = walSize(c)
    const [t, cpu] = [performance.now(), process.cpuUsage()]
    // TURN=1: one checkpoint per commit (the last block's; turn18's one block per enclave turn), not one per payment.
    const blocks = group.map((e, k) => ({ ...blockOf(e), ...(process.env.TURN === '1' && k < group.length - 1 && { checkpoint: null }) }))
    await c.store.persistMany(blocks, group.map((e) => answers.get(e.seq)!))
    c.ms.push(performance.now() - t)
    const u = process.cpuUsage(cpu)
    c.cpu.push((u.user + u.system) / 1000)
    const after = walSize(c)
    // The WAL header (32 bytes) comes with the first frame.
    const start = before === 0 ? 32 : before
    c.frames.push((after - start) / FRAME)
    if (i >= paid.length / 4) c.pages.push(...framePages(c, start, after))
  }
  prev = group.map((e) => answers.get(e.seq)!)
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * p)]!
for (const c of cfgs) {
  const skip = Math.floor(c.frames.length / 4) // warm: past the first quarter
  const fr = c.frames.slice(skip)
  const ms = c.ms.slice(skip)
  const cpu = c.cpu.slice(skip)
  const owner = new Map((c.db.prepare('SELECT name, pageno FROM dbstat').all() as { name: string; pageno: number }[]).map((r) => [r.pageno, r.name]))
  const by = new Map<string, number>()
  for (const p of c.pages) {
    const n = p === 1 ? 'page 1 (header)' : (owner.get(p) ?? 'free/new')
    by.set(n, (by.get(n) ?? 0) + 1)
  }
  const commits = fr.length
  const parts = [...by].sort((a, b) => b[1] - a[1]).map(([n, k]) => `${n} ${(k / commits).toFixed(2)}`)
  console.log(`${c.name}: ${commits} commits of ${batch}: WAL frames per commit mean ${(fr.reduce((a, b) => a + b, 0) / commits).toFixed(2)}, median ${med(fr)}, p90 ${q(fr, 0.9)}; commit ms median ${med(ms).toFixed(3)}, p90 ${q(ms, 0.9).toFixed(3)}, CPU ms mean ${(cpu.reduce((a, b) => a + b, 0) / commits).toFixed(3)}; db ${(statSync(c.wal.replace(/-wal$/, '')).size / 1024).toFixed(0)} KB + WAL ${(walSize(c) / 1024).toFixed(0)} KB`)
  console.log(`  per commit by b-tree: ${parts.join(', ')}`)
  await c.store.close()
}
