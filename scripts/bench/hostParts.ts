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
import { answerJson, withAuditEntry } from '../../host/enclave/EnclaveGateway.js'
import type { Persist } from '../../shared/protocol/messages.js'

const [rounds, calls] = [Number(process.argv[2] ?? 7), Number(process.argv[3] ?? 4000)]
const run = await setup('.')
const r = await run.sample()
const wire = encodeFrame({ id: 12345, ...r }).subarray(4)
const frame = decodeFrameBody(wire) as { result: unknown }
if (!exactResponseFrame(frame) || !exactAgentSigned(frame.result)) throw new Error('the exact checks do not take the real answer')
// cpu39: the answer body as the gateway leaves it (withAuditEntry on the decoded frame's result).
const answered = decodeFrameBody(wire) as { result: unknown; persist: Persist }
const body = withAuditEntry(answered.result, answered.persist)
if (answerJson(body) !== JSON.stringify(body)) throw new Error('the spliced answer text differs')
const pairs: Record<string, [() => unknown, () => unknown]> = {
  'host: answer text (stringify → entry text spliced)': [() => JSON.stringify(body), () => answerJson(body)],
  'host: response frame check (zod → exact)': [() => ResponseFrameSchema.safeParse(frame), () => exactResponseFrame(frame)],
  'host: agentSign result check (zod → exact)': [() => RESULT_SCHEMAS.agentSign.safeParse(frame.result), () => exactAgentSigned(frame.result)],
}
/** CPU µs per call of f over `calls` calls. */
function cpuUsPerCall(f: () => unknown): number {
  const c0 = process.cpuUsage()
  for (let i = 0; i < calls; i++) f()
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / calls
}
// Per round every pair once, old and new in alternating order; medians and ranges over the rounds.
const samples = Object.entries(pairs).map(([name, fs]) => ({ name, fs, us: [[], []] as [number[], number[]] }))
for (let round = 0; round < rounds; round++)
  for (const p of samples) for (const side of round % 2 ? [1, 0] : [0, 1]) p.us[side]!.push(cpuUsPerCall(p.fs[side]!))
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
const span = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`
for (const { name, us: [b, a] } of samples)
  console.log(`${name.padEnd(48)} ${median(b).toFixed(2).padStart(6)} [${span(b)}] → ${median(a).toFixed(2).padStart(6)} [${span(a)}] µs (saves ${(median(b) - median(a)).toFixed(1)})`)
process.exit(0)
