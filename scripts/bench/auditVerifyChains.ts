/**
 * Issue 15 step 4: `verifyAuditJsonl` on one chain of n entries against the same n entries in two chains (n/2 each,
 * chain B started by chain_started; wallet W moves root → B → root every 1,000 entries), built with AuditChain, a
 * checkpoint every 1,000, interleaved rounds, entries/s from CPU time. Checks both exports take the fast path.
 *
 *   npx tsx scripts/bench/auditVerifyChains.ts [rounds=5] [n=100000]
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto'
import { loadavg } from 'node:os'
import { AuditChain } from '../../core/audit/AuditChain.js'
import type { AuditCheckpoint, AuditEntry, AuditEntryBody } from '../../shared/audit/auditEntry.js'
import { toAuditJsonl } from '../../shared/audit/exportFormats.js'
import { mockAuditBody } from '../../shared/audit/mockAuditLog.js'
import { fastVerifyAuditJsonl } from '../../shared/audit/verifyAuditJsonl.js'

const rounds = Number(process.argv[2] ?? 5)
const n = Number(process.argv[3] ?? 100_000)
const { privateKey, publicKey } = generateKeyPairSync('ed25519')
const signer = (m: Uint8Array) => sign(null, m, privateKey)
type Log = { chain: string; entries: AuditEntry[]; hashes: string[]; checkpoints: AuditCheckpoint[] }
const W = '0x4444444444444444444444444444444444444444'

function build(two: boolean): Buffer {
  const root: Log = { chain: '', entries: [], hashes: [], checkpoints: [] }
  const b: Log = { chain: 'b0'.repeat(16), entries: [], hashes: [], checkpoints: [] }
  const chains = new Map([[root, new AuditChain({ signer })], [b, new AuditChain({ signer, chain: b.chain, core: 'c0'.repeat(16) })]])
  const add = (log: Log, body: Record<string, unknown>, i: number) => {
    const c = chains.get(log) as AuditChain
    const { entry, hash } = c.append({ ...mockAuditBody(i), ...body } as AuditEntryBody)
    log.entries.push(entry)
    log.hashes.push(hash)
    if ((log.entries.length) % 1000 === 0) log.checkpoints.push(c.checkpoint(entry.time))
  }
  const info = { verdict: 'info', action: null, signedHash: null, requestId: null, agentId: null, resourceUrl: undefined, ledger: [] }
  if (two) add(b, { ...info, event: 'chain_started', wallet: null }, 0)
  let here = root
  for (let i = 1; i < n; i++) {
    const log = two && i % 2 === 0 ? b : root
    if (two && i % 1000 === 0) {
      // W moves to the other chain.
      const there = here === root ? b : root
      add(here, { ...info, event: 'wallet_dropped', wallet: W }, i)
      const from = chains.get(here) as AuditChain
      ;(chains.get(there) as AuditChain).setThread(W, from.thread(W))
      from.setThread(W, undefined)
      add(there, { ...info, event: 'wallet_loaded', wallet: W }, i)
      here = there
      continue
    }
    // W pays where it is now; 50 other wallets pay on both chains (as if each on its own pair's chain: two sets).
    add(i % 7 === 0 ? here : log, i % 7 === 0 ? { wallet: W } : { wallet: `0x${createHash('sha1').update(String((i % 50) + (log === b ? 100 : 0))).digest('hex')}` }, i)
  }
  return Buffer.from(two ? toAuditJsonl({ ...root, chains: [b] }) : toAuditJsonl(root))
}

const one = build(false)
const two = build(true)
for (const [name, buf] of [['one chain', one], ['two chains', two]] as const) {
  const r = fastVerifyAuditJsonl(buf, { publicKey })
  if (!r?.ok) throw new Error(`${name}: the fast path did not verify it (${JSON.stringify(r)})`)
}
const rate = (buf: Buffer) => {
  globalThis.gc?.()
  const t = process.cpuUsage()
  fastVerifyAuditJsonl(buf, { publicKey })
  const u = process.cpuUsage(t)
  return n / ((u.user + u.system) / 1e6)
}
const ratios: number[] = []
for (let r = 0; r < rounds; r++) {
  let a: number
  let c: number
  if (r % 2 === 0) (a = rate(one)), (c = rate(two))
  else (c = rate(two)), (a = rate(one))
  ratios.push(c / a)
  console.log(`round ${r + 1}: one chain ${Math.round(a).toLocaleString('en')} entries/s, two chains ${Math.round(c).toLocaleString('en')} entries/s, ratio ${(c / a).toFixed(3)} (load ${loadavg()[0]?.toFixed(2)})`)
}
ratios.sort((x, y) => x - y)
console.log(`two ÷ one chain over ${rounds} rounds: min ${ratios[0]?.toFixed(3)}, median ${ratios[Math.floor(rounds / 2)]?.toFixed(3)}, max ${ratios[rounds - 1]?.toFixed(3)}`)
