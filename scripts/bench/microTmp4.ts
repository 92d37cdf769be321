import { setup } from './hotPathAb.js'
import { AuditEntrySchema } from '../../shared/audit/auditEntry.js'
import { AgentRequestSchema } from '../../shared/schemas/agentRequest.js'
import { EnclaveRequestSchema, RequestFrameSchema } from '../../shared/protocol/requests.js'
import { RESULT_SCHEMAS } from '../../shared/protocol/messages.js'
import { encodeFrame, decodeFrameBody } from '../../shared/protocol/frame.js'
const run = await setup('/work/wt-cpu18')
const r = await run.sample()
const { hash, mac, ...entry } = JSON.parse(r.persist.entries[0])
const reqText = entry && (globalThis as any).x
const cases: Record<string, () => unknown> = {
  'AuditEntrySchema': () => AuditEntrySchema.safeParse(entry),
  'RESULT agentSign': () => RESULT_SCHEMAS.agentSign.safeParse(r.result),
  'decode response frame': () => decodeFrameBody(encodeFrame({ id: 5, ...r }).subarray(4)),
  'encode response frame': () => encodeFrame({ id: 5, ...r }),
}
const N = 4000, res: Record<string, number[]> = {}
for (let round = 0; round < 5; round++) for (const [name, f] of Object.entries(cases)) {
  for (let i = 0; i < 200; i++) f()
  const c0 = process.cpuUsage(); for (let i = 0; i < N; i++) f(); const c = process.cpuUsage(c0)
  ;(res[name] ??= []).push((c.user + c.system) / N)
}
for (const [n, xs] of Object.entries(res)) console.log(n.padEnd(30), [...xs].sort((a, b) => a - b)[2]!.toFixed(2), 'µs')
