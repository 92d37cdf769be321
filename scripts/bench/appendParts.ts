/**
 * Issue 18 (enc34): what enc34's cuts save, old way vs new way on the bench's real entry (one request through this
 * checkout's enclave in process), CPU µs per call, medians of interleaved rounds (as cpuParts.ts).
 *
 *   npx tsx scripts/bench/appendParts.ts [rounds=9] [calls=20000]
 */
import { createHash, randomBytes } from 'node:crypto'
import { auditTurnTree } from '../../shared/audit/auditTurnTree.js'
import { AuditChain } from '../../core/audit/AuditChain.js'
import type { AuditEntryBody } from '../../shared/audit/auditEntry.js'
import { setup } from './hotPathAb.js'

const [rounds, calls] = [Number(process.argv[2] ?? 9), Number(process.argv[3] ?? 20000)]
const run = await setup('.')
const r = await run.sample()
const { hash: _h, mac: _m, seq: _s, prevHash: _p, walletSeq: _ws, walletPrev: _wp, ...body } = JSON.parse(r.persist.entries[0]) as Record<string, unknown>
const chain = new AuditChain({ signer: () => new Uint8Array(64) })
/** auditTurnTree before enc34 (createHash per leaf and node), per turn. */
const oldHash = (tag: 0 | 1, ...parts: Uint8Array[]): Buffer => parts.reduce((h, p) => h.update(p), createHash('sha256').update(Uint8Array.of(tag))).digest()
function oldTree(heads: ReadonlyArray<{ seq: number; hash: string }>) {
  let level = heads.map((h) => oldHash(0, Buffer.from(h.seq.toString(16).padStart(16, '0') + h.hash.slice(2), 'hex')))
  const paths: Buffer[][] = heads.map(() => [])
  for (let width = 1; level.length > 1; width *= 2) {
    paths.forEach((p, i) => p.push(level[Math.floor(i / width) ^ 1] ?? level[Math.floor(i / width)]!))
    level = Array.from({ length: Math.ceil(level.length / 2) }, (_, j) => oldHash(1, level[2 * j]!, level[2 * j + 1] ?? level[2 * j]!))
  }
  return { root: level[0]!, paths }
}
const heads = Array.from({ length: 64 }, (_, i) => ({ seq: 1000 + i, hash: `0x${randomBytes(32).toString('hex')}` }))
if (!oldTree(heads).root.equals(auditTurnTree(heads).root)) throw new Error('turn roots differ')
const pairs: Record<string, [() => unknown, () => unknown]> = {
  'enclave: allowed entry append (schema parse → built)': [() => chain.append(body as AuditEntryBody), () => chain.append(body as AuditEntryBody, true)],
  'enclave: turn tree of 64 heads (createHash → hash), per turn': [() => oldTree(heads), () => auditTurnTree(heads)],
}
const us: Record<string, [number[], number[]]> = {}
const time = (f: () => unknown) => {
  const c0 = process.cpuUsage()
  for (let i = 0; i < calls; i++) f()
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / calls
}
for (let round = 0; round < rounds; round++)
  for (const [name, [before, after]] of Object.entries(pairs)) {
    const u = (us[name] ??= [[], []])
    if (round % 2) u[1].push(time(after)), u[0].push(time(before))
    else u[0].push(time(before)), u[1].push(time(after))
  }
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`
for (const [name, [b, a]] of Object.entries(us)) console.log(`${name.padEnd(58)} ${med(b).toFixed(2).padStart(6)} [${range(b)}] → ${med(a).toFixed(2).padStart(6)} [${range(a)}] µs (saves ${(med(b) - med(a)).toFixed(1)})`)
process.exit(0)
