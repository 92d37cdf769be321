/**
 * Issue 18: what a wallet's ledger series hold in the heap (deterministic, in process, no load): AGENTS agents each
 * with a full request counter (10,000 entries, COUNTER_MAX) and a day of spends as the ledger keeps them (1,620
 * per-minute buckets + ~2 minutes of raw entries at ~31 payments/s, the bench's per-agent rate), every series' JSON
 * text cached as after a seal (TimeSeries.toJSONText). Prints the heap used after a full GC per entry.
 *   node --expose-gc --import tsx scripts/bench/ledgerMemory.ts [agents=64] [amount=10000] [timeSeriesModule]
 * (timeSeriesModule: another checkout's core/ledger/TimeSeries.ts, for a before/after.)
 */
import path from 'node:path'
import { COUNTER_MAX } from '../../core/ledger/SpendLedger.js'

const [agentsArg = '64', amountArg = '10000', mod = '../../core/ledger/TimeSeries.ts'] = process.argv.slice(2)
const { TimeSeries } = (await import(mod.startsWith('.') ? mod : path.resolve(mod))) as typeof import('../../core/ledger/TimeSeries.js')
const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('run with node --expose-gc')
const used = () => (gc(), gc(), process.memoryUsage().heapUsed)
const agents = Number(agentsArg)
const amount = BigInt(amountArg)
const before = used()
const keep: InstanceType<typeof TimeSeries>[] = []
let entries = 0
for (let a = 0; a < agents; a++) {
  const t0 = 1_764_000_000_000 + a
  const requests = new TimeSeries()
  for (let i = 0; i < COUNTER_MAX; i++) requests.add(t0 + i * 32, 1n)
  const spends = new TimeSeries()
  for (let m = 0; m < 1_620; m++) spends.add(t0 + m * 60_000, amount * 1_900n)
  for (let i = 0; i < 3_700; i++) spends.add(t0 + 1_620 * 60_000 + i * 32, amount)
  for (const s of [requests, spends]) {
    s.toJSONText()
    keep.push(s)
    entries += s.size
  }
}
const after = used()
console.log(`${keep.length} series: ${agents} agents, ${entries} entries (amount ${amount}): heap ${((after - before) / 1048576).toFixed(1)} MB after GC, ${Math.round((after - before) / entries)} B per entry (JSON text cache included); ${mod}`)
