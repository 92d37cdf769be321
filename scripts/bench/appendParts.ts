/**
 * Issue 18 (enc34): what enc34's cuts save, old way vs new way on the bench's real entry (one request through this
 * checkout's enclave in process), CPU µs per call, medians of interleaved rounds (as cpuParts.ts).
 *
 *   npx tsx scripts/bench/appendParts.ts [rounds=9] [calls=20000]
 */
import { createHmac, createSecretKey, randomBytes } from 'node:crypto'
import { AuditChain } from '../../core/audit/AuditChain.js'
import type { AuditEntryBody } from '../../shared/audit/auditEntry.js'
import { setup } from './hotPathAb.js'

const [rounds, calls] = [Number(process.argv[2] ?? 9), Number(process.argv[3] ?? 20000)]
const run = await setup('.')
const r = await run.sample()
const { hash, mac, seq, prevHash, walletSeq, walletPrev, ...body } = JSON.parse(r.persist.entries[0]) as Record<string, unknown>
const chain = new AuditChain({ signer: () => new Uint8Array(64) })
const key = randomBytes(32), keyObject = createSecretKey(key)
const request = 'x'.repeat(1_200) // an agent request's text is ~1.1–1.3 KB
const pairs: Record<string, [() => unknown, () => unknown]> = {
  'enclave: allowed entry append (schema parse → built)': [() => chain.append(body as AuditEntryBody), () => chain.append(body as AuditEntryBody, true)],
  'enclave: entry MAC (raw key → KeyObject)': [() => createHmac('sha256', key).update(String(hash)).digest('hex'), () => createHmac('sha256', keyObject).update(String(hash)).digest('hex')],
  'enclave: session MAC of a request (raw key → KeyObject)': [() => createHmac('sha256', key).update(request, 'utf8').digest(), () => createHmac('sha256', keyObject).update(request, 'utf8').digest()],
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
console.log(`mac ${String(mac).length}, seq ${String(seq)}, prev ${String(prevHash).length}, thread ${String(walletSeq)} ${String(walletPrev).length}`)
process.exit(0)
