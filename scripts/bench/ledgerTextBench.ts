/**
 * Issue 18: what encoding one busy wallet's ledger costs a seal, uncached (JSON.stringify(ledger.toJSON()), what
 * encodeWalletBlob wrote before tail18) and cached (ledger.toJSONText(): each series re-encodes only entries that
 * are not in a cached 64-entry chunk). The wallet is sealStall.ts's: 14,000 requests + spends an hour ago, 3,000 in
 * the last 30 s, then `--between` new requests + spends between two seals, `--seals` times (a sweep, with its
 * prune and coalescing, every simulated minute). Checks both texts are equal at every seal; prints medians and p90.
 * `--agents N` spreads the requests round robin over N agents (the bench's wallets have 16: more, smaller series).
 *   npx tsx scripts/bench/ledgerTextBench.ts [--between 300] [--seals 60] [--agents 1]
 */
import { SpendLedger } from '../../core/ledger/SpendLedger.js'

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : d
}
const BETWEEN = arg('between', 300)
const SEALS = arg('seals', 60)
const AGENTS = arg('agents', 1)
const ledger = new SpendLedger()
const asset = '0x036cbd53842c5426634e7929541ec2318f3dcf7e'
const event = (at: number, j: number) => {
  const agentId = `agent-${j % AGENTS}`
  ledger.apply({ type: 'request', agentId, at })
  ledger.apply({ type: 'spend', agentId, chainId: 84532, asset, amount: String(1 + (j % 900)), payTo: asset, role: 'authorization', host: null, at, validBefore: null })
}
const start = Date.now()
for (let j = 0; j < 14_000; j++) event(start - 3_600_000 + j, j)
let now = start - 30_000
for (let j = 0; j < 3_000; j++) event((now += 7), j)
ledger.toJSONText() // the first seal fills the cache (what the first seal after a load costs: the uncached figure)
const uncached: number[] = []
const cached: number[] = []
let bytes = 0
for (let s = 0; s < SEALS; s++) {
  for (let j = 0; j < BETWEEN; j++) event((now += 7), j)
  const t0 = performance.now()
  const a = JSON.stringify(ledger.toJSON())
  const t1 = performance.now()
  const b = ledger.toJSONText()
  const t2 = performance.now()
  if (a !== b) throw new Error(`seal ${s}: cached text differs from JSON.stringify(toJSON())`)
  uncached.push(t1 - t0)
  cached.push(t2 - t1)
  bytes = b.length
}
const q = (xs: number[], p: number) => [...xs].sort((x, y) => x - y)[Math.floor(p * (xs.length - 1))]!.toFixed(2)
console.log(`ledger text ${bytes} bytes, ${AGENTS} agent(s), ${BETWEEN} requests + spends between seals, ${SEALS} seals (texts equal at each):`)
console.log(`  uncached JSON.stringify(toJSON()): median ${q(uncached, 0.5)} ms, p90 ${q(uncached, 0.9)} ms`)
console.log(`  cached toJSONText():               median ${q(cached, 0.5)} ms, p90 ${q(cached, 0.9)} ms`)
