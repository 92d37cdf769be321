/**
 * Issue 18 (host40): the answer text and the stored head per answered payment, old way (a base checkout's answerJson,
 * then its store's compactAnswerBody finding the entry again in the text) vs this checkout's (one split: the rest of
 * the body stringified without a copy, the head handed to the store with a length check), on a real answer (one
 * request through this checkout's enclave in process, its response frame through the real codec). CPU µs per call,
 * medians of interleaved rounds; checks both give the same text and head. Then the host's exact checks of the answer
 * frame and its result (exactResponseFrame + exactAgentSigned: hasExactKeys by for…in, host40) on 64 real frames.
 *
 *   npx tsx scripts/bench/host40Parts.ts BASE_DIR [rounds=11] [calls=4000]
 */
import path from 'node:path'
import { decodeFrameBody, encodeFrame } from '../../shared/protocol/frame.js'
import type { Persist } from '../../shared/protocol/messages.js'
import { splitAnswer, withAuditEntry } from '../../host/enclave/EnclaveGateway.js'
import { hashedLength } from '../../host/storage/answerBody.js'
import { setup } from './hotPathAb.js'
import { exactResponseFrame } from '../../host/enclave/exactResponseFrame.js'
import { exactAgentSigned } from '../../host/enclave/exactAgentSigned.js'

type Any = any // eslint-disable-line @typescript-eslint/no-explicit-any
const [baseDir, rounds, calls] = [process.argv[2]!, Number(process.argv[3] ?? 11), Number(process.argv[4] ?? 4000)]
const m = async (rel: string): Promise<Any> => import(path.join(path.resolve(baseDir), rel))
const [{ answerJson: oldAnswerJson, withAuditEntry: oldWithAuditEntry }, { compactAnswerBody }, { exactResponseFrame: oldFrame }, { exactAgentSigned: oldSigned }] = await Promise.all(
  ['host/enclave/EnclaveGateway.ts', 'host/storage/answerBody.ts', 'host/enclave/exactResponseFrame.ts', 'host/enclave/exactAgentSigned.ts'].map(m),
)
const run = await setup('.')
const r = await run.sample()
const wire = encodeFrame({ id: 12345, ...r }).subarray(4)
const decoded = (with_: typeof withAuditEntry) => {
  const f = decodeFrameBody(wire) as { result: unknown; persist: Persist }
  return { body: with_(f.result, f.persist), entryText: f.persist.entries.at(-1)! }
}
const a = decoded(oldWithAuditEntry)
const b = decoded(withAuditEntry)
const oldWay = () => {
  const text = oldAnswerJson(a.body) as string
  return [text, compactAnswerBody(text, a.entryText) as string | null]
}
const newWay = () => {
  const s = splitAnswer(b.body)!
  const text = `${s.head}${s.hashed}}`
  return [text, s.entryText === b.entryText && text.length === s.head.length + hashedLength(b.entryText) + 1 ? s.head : null]
}
const [o, n] = [oldWay(), newWay()]
if (o[0] !== n[0] || o[1] !== n[1] || o[1] === null || o[0] !== JSON.stringify(a.body)) throw new Error('old and new ways differ')
const cpuUsPerCall = (f: () => unknown): number => {
  let sink = 0
  const c0 = process.cpuUsage()
  for (let i = 0; i < calls; i++) sink += (f() as [string, string])[1]!.length
  const c = process.cpuUsage(c0)
  if (sink === 0) throw new Error('nothing made')
  return (c.user + c.system) / calls
}
const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!
function ab(name: string, oldF: () => unknown, newF: () => unknown) {
  const us: [number[], number[]] = [[], []]
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [0, 1] : [1, 0]
    for (const k of order) us[k]!.push(cpuUsPerCall(k === 0 ? oldF : newF))
  }
  const ratios = us[1].map((x, i) => x / us[0][i]!).sort((x, y) => x - y)
  console.log(`${name}: old ${med(us[0]).toFixed(2)} µs, new ${med(us[1]).toFixed(2)} µs per answer; pair ratios min ${ratios[0]!.toFixed(2)} / median ${med(ratios).toFixed(2)} / max ${ratios.at(-1)!.toFixed(2)} (${rounds} rounds × ${calls})`)
}
ab('answer text + stored head', oldWay, newWay)
const frames: Any[] = []
for (let i = 0; i < 64; i++) frames.push(decodeFrameBody(encodeFrame({ id: 100 + i, ...(await run.sample()) }).subarray(4)))
let at = 0
const checks = (frameF: Any, signedF: Any) => () => {
  const f = frameF(frames[at++ & 63])
  const ok = f && signedF(f.result)
  if (!ok) throw new Error('the exact checks refuse a real answer')
  return [null, 'x']
}
ab('exact checks of the answer frame + result', checks(oldFrame, oldSigned), checks(exactResponseFrame, exactAgentSigned))
process.exit(0)
