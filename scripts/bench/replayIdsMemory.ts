/**
 * Issue 18 (rss18b): heap after GC and CPU per id of the replay cache's `RecentIds`, in process, deterministic: the
 * bench's shape (64 agents, 32-hex nonces, each id logged to an entry of one of 4 wallets), N ids within the window,
 * then N more ids at a steady state (CPU µs per id: has + add + log + expire, and a wallet's seal every 1,000 ids).
 *   node --expose-gc --import tsx scripts/bench/replayIdsMemory.ts [ids=111645] [RecentIds.ts of another checkout]
 */
import { randomBytes } from 'node:crypto'
import path from 'node:path'

const [idsArg, file] = process.argv.slice(2)
const N = Number(idsArg ?? 111_645)
const { RecentIds } = (await import(file ? path.resolve(file) : '../../core/replay/RecentIds.js')) as typeof import('../../core/replay/RecentIds.js')
const known = (k: string) => ("timeOf" in ids ? ids.timeOf(k) !== undefined : (ids as unknown as { at: Map<string, number> }).at.has(k))
const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('run with --expose-gc')
const agents = Array.from({ length: 64 }, () => `agt_${randomBytes(20).toString('hex')}`)
const wallets = Array.from({ length: 4 }, () => `0x${randomBytes(20).toString('hex')}`)
const keys = Array.from({ length: N * 2 }, (_, i) => `${agents[i % 64]}:${randomBytes(16).toString('hex')}`)
gc(); gc()
const before = process.memoryUsage()
const ids = new RecentIds()
const t0 = 1_764_000_000_000
const perMs = N / 32_000
for (let i = 0; i < N; i++) {
  const k = keys[i]!, at = t0 + Math.floor(i / perMs)
  if (!known(k)) ids.add(k, at), ids.log(k, [i, wallets[i % 4]!])
}
gc(); gc()
const after = process.memoryUsage()
const heapPerId = (after.heapUsed - before.heapUsed) / N
const extPerId = (after.external + after.arrayBuffers - before.external - before.arrayBuffers) / N
// Steady state: the next N ids, expiring the window's tail as time moves (as ReplayCache prunes every second).
const c0 = process.cpuUsage()
for (let i = N; i < 2 * N; i++) {
  const k = keys[i]!, at = t0 + Math.floor(i / perMs)
  if (!known(k)) ids.add(k, at), ids.log(k, [i, wallets[i % 4]!])
  if (i % 1000 === 0) ids.expire(at - 32_000), ids.encodedFor(agents.slice(((i / 1000) % 4) * 16, ((i / 1000) % 4) * 16 + 16)) // a wallet's seal
}
const c = process.cpuUsage(c0)
console.log(JSON.stringify({ file: file ?? 'this checkout', ids: N, heapMb: +((after.heapUsed - before.heapUsed) / 1048576).toFixed(1), heapBytesPerId: Math.round(heapPerId), externalBytesPerId: Math.round(extPerId), cpuUsPerId: +((c.user + c.system) / N).toFixed(2) }))
