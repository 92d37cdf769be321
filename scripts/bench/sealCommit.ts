/**
 * Issue 18 (lat18): what a staggered seal costs the host's writer. In process, a SqliteStore (WAL checkpoints on its
 * worker, as the host runs it) takes group commits of 12 one-entry blocks with 12 answer rows (the bench's sizes),
 * interleaved: plain, with a sealed core + one wallet blob of 610 KB (a seal at 1,000/s, `sealBench.ts --replay`), and
 * of 1.4 MB (the bench's wallets after its c = 64 windows: 5.7 MB over 4 wallets). Prints each kind's commit wall time
 * and the process's CPU over it: wall far above CPU is the writer blocked in the kernel (its WAL pwrite64s wait while
 * the checkpoint worker fsyncs). `root`: another checkout's store (before/after).
 *   npx tsx scripts/bench/sealCommit.ts [root]
 */
import { mkdtempSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import path from 'node:path'
const { SqliteStore } = await import(path.resolve(process.argv[2] ?? '.', 'host/storage/SqliteStore.ts'))
const store = new SqliteStore(path.join(mkdtempSync(path.join(tmpdir(), 'bursar-sc-')), 'b.db'))
const body = 'x'.repeat(700)
let seq = 0
const entry = () => { const s = seq++; return JSON.stringify({ seq: s, hash: `0x${s.toString(16).padStart(64, '0')}`, time: Date.now(), event: 'sign_allowed', wallet: '0xabc', agentId: `ag${s % 64}`, verdict: 'allow', body }) }
const answers = () => Array.from({ length: 12 }, (_, i) => ({ agentId: `ag${i}`, nonce: randomBytes(16).toString('hex'), requestHash: 'h', status: 200, body: 'y'.repeat(1500), auditSeq: seq, decidedAt: Date.now() }))
const res: Record<string, number[]> = { plain: [], seal610k: [], seal1400k: [] }; const cpu: Record<string, number[]> = { plain: [], seal610k: [], seal1400k: [] }
let version = 1
for (let r = 0; r < 60; r++) {
  for (const k of ['plain', 'seal610k', 'seal1400k'] as const) {
    const blocks = Array.from({ length: 12 }, () => ({ entries: [entry()], checkpoint: null, sealed: null as unknown }))
    if (k !== 'plain') blocks[11]!.sealed = { version: version++, auditSeq: seq - 1, blob: randomBytes(1200), wallets: [{ wallet: '0xabc', version, blob: randomBytes(k === 'seal610k' ? 610_000 : 1_400_000) }] }
    const a = answers()
    const [t, c] = [performance.now(), process.cpuUsage()]
    await store.persistMany(blocks as never, a)
    res[k]!.push(performance.now() - t)
    const u = process.cpuUsage(c)
    cpu[k]!.push((u.user + u.system) / 1000)
  }
}
for (const [k, xs] of Object.entries(res)) { xs.sort((a, b) => a - b); const cs = cpu[k]!.sort((a, b) => a - b); console.log(`${k}: commit of 12 answers wall median ${xs[30]!.toFixed(2)} ms, p90 ${xs[54]!.toFixed(2)} ms; CPU (whole process: the checkpoint worker too) median ${cs[30]!.toFixed(2)} ms, p90 ${cs[54]!.toFixed(2)}`) }
await store.close()
