/**
 * Issue 18 (host34): what each host-side cut saves per answered payment, old way vs new way on a real answer (one
 * request through this checkout's enclave in process, its response frame through the real frame codec, so keys come
 * in the codec's order as the host gets them), CPU µs per call, medians of interleaved rounds.
 *
 *   npx tsx scripts/bench/hostParts.ts [rounds=7] [calls=4000]
 */
import { decodeFrameBody, encodeFrame } from '../../shared/protocol/frame.js'
import { RESULT_SCHEMAS, ResponseFrameSchema } from '../../shared/protocol/messages.js'
import { exactAgentSigned } from '../../host/enclave/exactAgentSigned.js'
import { exactResponseFrame } from '../../host/enclave/exactResponseFrame.js'
import { setup } from './hotPathAb.js'

const [rounds, calls] = [Number(process.argv[2] ?? 7), Number(process.argv[3] ?? 4000)]
const run = await setup('.')
const r = await run.sample()
const wire = encodeFrame({ id: 12345, ...r }).subarray(4)
const frame = decodeFrameBody(wire) as { result: unknown }
if (!exactResponseFrame(frame) || !exactAgentSigned(frame.result)) throw new Error('the exact checks do not take the real answer')
const pairs: Record<string, [() => unknown, () => unknown]> = {
  'host: response frame check (zod → exact)': [() => ResponseFrameSchema.safeParse(frame), () => exactResponseFrame(frame)],
  'host: agentSign result check (zod → exact)': [() => RESULT_SCHEMAS.agentSign.safeParse(frame.result), () => exactAgentSigned(frame.result)],
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
for (const [name, [b, a]] of Object.entries(us))
  console.log(`${name.padEnd(48)} ${med(b).toFixed(2).padStart(6)} [${range(b)}] → ${med(a).toFixed(2).padStart(6)} [${range(a)}] µs (saves ${(med(b) - med(a)).toFixed(1)})`)
process.exit(0)
