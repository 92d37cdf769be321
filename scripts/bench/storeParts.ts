/**
 * The host store's per-request costs, in process, each ÷ a raw viem signature measured in the same run: a
 * group-committed persist of 32 one-entry blocks, the same with the 32 agent answer rows exactly-once stores, the
 * answer lookup (made before the forward only for requests that may have been decided before the host started),
 * and the fetched marks.   npx tsx scripts/bench/storeParts.ts
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { SqliteStore } from '../../host/storage/SqliteStore.js'
import { rawSignatureCpuUs } from './rawSignatureCpu.js'
const store = new SqliteStore(path.join(mkdtempSync(path.join(tmpdir(), 'bursar-store-')), 'bursar.db'))
let seq = 0
const B = 32
const entry = () => { const s = seq++; return JSON.stringify({ seq: s, hash: randomBytes(32).toString('hex'), prev: randomBytes(32).toString('hex'), time: Date.now(), event: 'sign_allowed', wallet: '0x' + 'ab'.repeat(20), agentId: 'ag' + 'c'.repeat(30), verdict: 'allow', requestId: randomBytes(16).toString('hex'), signedHash: '0x' + 'cd'.repeat(32), summary: 'x'.repeat(500), mac: randomBytes(32).toString('hex') }) }
const block = () => ({ entries: [entry()], checkpoint: null, sealed: null })
const answerFor = () => ({ agentId: 'ag' + 'c'.repeat(30), nonce: randomBytes(16).toString('hex'), requestHash: randomBytes(32).toString('hex'), status: 200, body: JSON.stringify({ signature: '0x' + 'ab'.repeat(65), signedHash: '0x' + 'cd'.repeat(32), receipt: { seq: 1, entryHash: 'ef'.repeat(32), stateVersion: 3, checkpoint: { seq: 1, head: 'ab'.repeat(32), time: Date.now(), signature: 'cd'.repeat(48) } } }), auditSeq: 1, decidedAt: Date.now() })
const cpu = async (f: () => Promise<void>, batches: number) => { const c0 = process.cpuUsage(); for (let i = 0; i < batches; i++) await f(); const d = process.cpuUsage(c0); return (d.user + d.system) / (batches * B) }
const res: Record<string, number[]> = {}
for (let r = 0; r < 4; r++) {
  const raw = rawSignatureCpuUs(300).cpuUs
  const put = (k: string, v: number) => (res[k] ??= []).push(v / raw)
  put('persist 32 entries / tx (per request)', await cpu(async () => { await store.persistMany(Array.from({ length: B }, block)) }, 60))
  let keys: { agentId: string; nonce: string }[] = []
  put('persist 32 entries + 32 answer rows / tx', await cpu(async () => { const a = Array.from({ length: B }, answerFor); keys = a; await store.persistMany(Array.from({ length: B }, block), a) }, 60))
  put('agentAnswer lookup (miss), per request', await cpu(async () => { for (let i = 0; i < B; i++) await store.agentAnswer('ag' + 'c'.repeat(30), randomBytes(16).toString('hex')) }, 60))
  put('markAnswersFetched, 32 / tx, per request', await cpu(async () => { await store.markAnswersFetched(keys, Date.now()) }, 60))
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const raw = rawSignatureCpuUs(300).cpuUs
for (const [k, v] of Object.entries(res)) console.log(`${med(v).toFixed(3)}× raw ≈ ${(med(v) * raw).toFixed(1)} µs  ${k}`)
