/**
 * Issue 18 (lat18): what a staggered seal costs the host's writer. In process, a SqliteStore (WAL checkpoints on its
 * worker, as the host runs it) takes group commits of 12 one-entry blocks with 12 answer rows (the bench's sizes),
 * interleaved: plain, with a sealed core + one wallet blob of 610 KB (a seal at 1,000/s, `sealBench.ts --replay`), and
 * of 1.4 MB (the bench's wallets after its c = 64 windows: 5.7 MB over 4 wallets). Prints each kind's commit wall time
 * and the process's CPU over it, and the writer thread's wall split (/proc schedstat) into on CPU, waiting for a CPU
 * (a loaded machine) and blocked (I/O or locks in the kernel). `root`: another checkout's store (before/after).
 *   npx tsx scripts/bench/sealCommit.ts [root]
 */
import { mkdtempSync, readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import path from 'node:path'
const { SqliteStore } = await import(path.resolve(process.argv[2] ?? '.', 'host/storage/SqliteStore.ts'))
const store = new SqliteStore(path.join(mkdtempSync(path.join(tmpdir(), 'bursar-sc-')), 'b.db'))
const body = 'x'.repeat(700)
let seq = 0
const entry = () => { const s = seq++; return JSON.stringify({ seq: s, hash: `0x${s.toString(16).padStart(64, '0')}`, time: Date.now(), event: 'sign_allowed', wallet: '0xabc', agentId: `ag${s % 64}`, verdict: 'allow', body }) }
const answers = () => Array.from({ length: 12 }, (_, i) => ({ agentId: `ag${i}`, nonce: randomBytes(16).toString('hex'), requestHash: 'h', status: 200, body: 'y'.repeat(1500), auditSeq: seq, decidedAt: Date.now() }))
const res: Record<string, number[]> = { plain: [], seal610k: [], seal1400k: [] }
const cpu: Record<string, number[]> = { plain: [], seal610k: [], seal1400k: [] }
// The writer thread's own split (/proc schedstat: ns on CPU, ns runnable but waiting for a CPU): wall − both = blocked.
const sched = () => readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ').map(Number) as [number, number]
const split: Record<string, Array<[number, number, number]>> = { plain: [], seal610k: [], seal1400k: [] }
let version = 1
for (let r = 0; r < 60; r++) {
  for (const k of ['plain', 'seal610k', 'seal1400k'] as const) {
    const blocks = Array.from({ length: 12 }, () => ({ entries: [entry()], checkpoint: null, sealed: null as unknown }))
    if (k !== 'plain') blocks[11]!.sealed = { version: version++, auditSeq: seq - 1, blob: randomBytes(1200), wallets: [{ wallet: '0xabc', version, blob: randomBytes(k === 'seal610k' ? 610_000 : 1_400_000) }] }
    const a = answers()
    const [t, c, s0] = [performance.now(), process.cpuUsage(), sched()]
    await store.persistMany(blocks as never, a)
    const wall = performance.now() - t
    const s1 = sched()
    res[k]!.push(wall)
    const [on, queued] = [(s1[0] - s0[0]) / 1e6, (s1[1] - s0[1]) / 1e6]
    split[k]!.push([on, queued, wall - on - queued])
    const u = process.cpuUsage(c)
    cpu[k]!.push((u.user + u.system) / 1000)
  }
}
for (const [k, xs] of Object.entries(res)) { xs.sort((a, b) => a - b); const cs = cpu[k]!.sort((a, b) => a - b); console.log(`${k}: commit of 12 answers wall median ${xs[30]!.toFixed(2)} ms, p90 ${xs[54]!.toFixed(2)} ms; CPU (whole process: the checkpoint worker too) median ${cs[30]!.toFixed(2)} ms, p90 ${cs[54]!.toFixed(2)}`)
  const sp = split[k]!
  const sum = (i: number) => sp.reduce((n, x) => n + x[i]!, 0)
  console.log(`  the writer thread over all ${sp.length} commits: on CPU ${sum(0).toFixed(0)} ms, runnable but waiting for a CPU ${sum(1).toFixed(0)} ms, blocked (I/O, locks) ${sum(2).toFixed(0)} ms`) }
await store.close()
