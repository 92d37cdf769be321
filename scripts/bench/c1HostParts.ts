/**
 * Issue 18 (c1-42): two host cuts on the c = 1 path (both measured and dropped: docs/bench.md, c1-42), timed call by call in process, each call after a 1 ms sleep (as
 * at c = 1, where the host sleeps between payments and its code runs cold) and back to back (hot), A and B
 * interleaved call by call:
 *   body check   fastify-type-provider-zod's validator of AgentSignBodySchema (before) vs a hand check (the dropped cut, below);
 *   metrics      the gateway observer's prom-client work for one payment (enclave histogram, signatures counter, commit
 *                histogram and entries counter: what ran between the answer frame and the reply before) vs queueing it
 *                (HostMetrics.later: the work itself runs after the reply).
 *
 *   npx tsx scripts/bench/c1HostParts.ts [rounds=5] [calls=300]
 */
import { randomBytes } from 'node:crypto'
import { loadavg } from 'node:os'
import { validatorCompiler } from 'fastify-type-provider-zod'
import { Counter, Histogram, Registry } from 'prom-client'
import { AgentSignBodySchema } from '../../shared/protocol/messages.js'

/** The dropped cut (c1-42): the sign body checked by hand when it is certainly of the schema, else zod whole. */
const { request: REQUEST, signature: SIGNATURE } = AgentSignBodySchema.shape
function isSignBody(data: unknown): boolean {
  if (data === null || typeof data !== 'object' || Object.getPrototypeOf(data) !== Object.prototype) return false
  const keys = Object.keys(data)
  if (keys.length !== 2 || !((keys[0] === 'request' && keys[1] === 'signature') || (keys[0] === 'signature' && keys[1] === 'request'))) return false
  const { request, signature } = data as Record<string, unknown>
  return typeof request === 'string' && typeof signature === 'string' && REQUEST.safeParse(request).success && SIGNATURE.safeParse(signature).success
}
const signBodyValidator: typeof validatorCompiler = (route) => {
  const zod = validatorCompiler(route)
  return (data) => (isSignBody(data) ? { value: data } : zod(data))
}

const rounds = Number(process.argv[2] ?? 5)
const calls = Number(process.argv[3] ?? 300)
const route = { schema: AgentSignBodySchema, method: 'POST', url: '/v1/agent/sign', httpPart: 'body' } as never
const [zod, fast] = [validatorCompiler(route), signBodyValidator(route)]
const request = JSON.stringify({ v: 1, agentId: 'a'.repeat(32), wallet: `0x${'1'.repeat(40)}`, nonce: randomBytes(16).toString('hex'), issuedAt: Date.now(), op: 'signTypedData', typedData: { x: 'y'.repeat(600) } })
const body = () => JSON.parse(JSON.stringify({ request, signature: `s1:${randomBytes(16).toString('hex')}:${randomBytes(32).toString('hex')}` })) as unknown

const registry = new Registry()
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
const enclave = new Histogram({ name: 'e', help: 'e', labelNames: ['type'] as const, buckets: BUCKETS, registers: [registry] })
const signatures = new Counter({ name: 's', help: 's', labelNames: ['outcome', 'code'] as const, registers: [registry] })
const persistSeconds = new Histogram({ name: 'p', help: 'p', buckets: BUCKETS, registers: [registry] })
const persistEntries = new Counter({ name: 'n', help: 'n', registers: [registry] })
const observe = () => {
  enclave.observe({ type: 'agentSign' }, 0.0005)
  signatures.inc({ outcome: 'allowed', code: 'ok' })
  persistSeconds.observe(0.0001)
  persistEntries.inc(1)
}
let queued: Array<() => void> = []
const drain = () => {
  const q = queued
  queued = []
  for (const f of q) f()
}
const later = (f: () => void) => {
  if (queued.push(f) === 1) setImmediate(() => setImmediate(drain))
}

// Fresh parsed bodies, made ahead (a route gets its own object each time), so only the check is timed.
const bodies = Array.from({ length: 64 }, body)
let n = 0
const cases = {
  'body check': [() => zod(bodies[n++ & 63]), () => fast(bodies[n++ & 63])],
  metrics: [observe, () => later(observe)],
} as const
const sleep = () => new Promise((r) => setTimeout(r, 1))
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
for (const [name, [a, b]] of Object.entries(cases)) {
  const ratios: Record<string, number[]> = { cold: [], hot: [] }
  for (let r = 0; r < rounds; r++) {
    const t: Record<string, number[]> = { A: [], B: [], hotA: [], hotB: [] }
    for (let i = 0; i < calls; i++) {
      for (const [k, f] of i % 2 === 0 ? ([['A', a], ['B', b]] as const) : ([['B', b], ['A', a]] as const)) {
        await sleep()
        const t0 = performance.now()
        f()
        t[k]!.push((performance.now() - t0) * 1000)
        for (let j = 0; j < 20; j++) f() // then hot
        const t1 = performance.now()
        f()
        t[`hot${k}`]!.push((performance.now() - t1) * 1000)
      }
    }
    ratios.cold!.push(med(t.B!) / med(t.A!))
    ratios.hot!.push(med(t.hotB!) / med(t.hotA!))
    console.log(`${name} round ${r + 1} (load ${loadavg()[0]!.toFixed(1)}): cold A ${med(t.A!).toFixed(2)} µs, B ${med(t.B!).toFixed(2)} µs; hot A ${med(t.hotA!).toFixed(2)}, B ${med(t.hotB!).toFixed(2)}`)
  }
  for (const [k, xs] of Object.entries(ratios)) console.log(`${name} B ÷ A ${k}: median ${med(xs).toFixed(2)} (min ${Math.min(...xs).toFixed(2)}, max ${Math.max(...xs).toFixed(2)})`)
}
