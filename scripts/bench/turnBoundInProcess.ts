/**
 * writer40: the enclave side's CPU per answer of bounded writer turns, in ONE process: one in-process sim enclave
 * (test/helpers/paymentEnclave) behind two serveFrames servers on Unix sockets, one with turnFrames A and one with B;
 * a client keeps IN_FLIGHT payments in flight (one write per answer chunk, as a host does) and batches alternate
 * A B / B A, so load from other processes falls on both alike. Per batch: this process's CPU µs per answer (enclave,
 * transport and client together: the client's share is the same in both arms) and the writer turns it took (the
 * `bursar.writer` channel). Prints per-pair B ÷ A with min / median / max.
 *
 *   npx tsx scripts/bench/turnBoundInProcess.ts [PAIRS=8] [BATCH=2000] [A=4096] [B=32]   (IN_FLIGHT=64)
 */
import { subscribe } from 'node:diagnostics_channel'
import { mkdtempSync } from 'node:fs'
import net from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { serveFrames } from '../../enclave/transport/serveFrames.js'
import { dispatch } from '../../enclave/protocol/dispatch.js'
import { FrameReader } from '../../shared/protocol/FrameReader.js'
import { encodeFrame } from '../../shared/protocol/frame.js'
import { MERCHANT, eip3009, signAgentRequest } from '../../test/helpers/maliciousHost.js'
import { paymentEnclave } from '../../test/helpers/paymentEnclave.js'

const [pairs, batch, kA, kB] = [2, 3, 4, 5].map((i, j) => Number(process.argv[i] ?? [8, 2000, 4096, 32][j]))
const inFlight = Number(process.env.IN_FLIGHT ?? 64)
const { enclave, wallet, agent, clock } = await paymentEnclave({ perTx: '1000000', rolling24h: '1000000000000000' })
let turns = 0
subscribe('bursar.writer', (m) => void ((m as { step: string }).step === 'turn' && turns++))
const dir = mkdtempSync(path.join(tmpdir(), 'bursar-turnab-'))
const handle = async (msg: unknown) => (await dispatch(enclave, msg)) as unknown as Record<string, unknown>
const sockets = await Promise.all([kA!, kB!].map(async (k, i) => {
  const p = path.join(dir, `s${i}.sock`)
  await serveFrames({ listen: { kind: 'unix', path: p }, turnFrames: k, handle })
  const c = net.createConnection(p)
  await new Promise<void>((resolve) => c.once('connect', resolve))
  return c
}))
const frames = (n: number) =>
  Array.from({ length: n }, (_, i) => {
    const r = signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 1n, to: MERCHANT }), issuedAt: clock.t })
    return encodeFrame({ id: i + 1, msg: { type: 'agentSign', request: r.request, signature: r.signature } })
  })

async function run(arm: 0 | 1, pre: Buffer[]): Promise<{ us: number; turns: number }> {
  const sock = sockets[arm]!, reader = new FrameReader()
  let [sent, answered] = [0, 0]
  const t0 = turns, c0 = process.cpuUsage()
  await new Promise<void>((resolve) => {
    const onData = (chunk: Buffer) => {
      const n = reader.push(chunk).length
      answered += n
      const more = pre.slice(sent, Math.min(pre.length, sent + n))
      sent += more.length
      if (more.length) sock.write(Buffer.concat(more))
      if (answered === pre.length) sock.off('data', onData), resolve()
    }
    sock.on('data', onData)
    const first = pre.slice(0, inFlight)
    sent = first.length
    sock.write(Buffer.concat(first))
  })
  const c = process.cpuUsage(c0)
  return { us: (c.user + c.system) / pre.length, turns: turns - t0 }
}

await run(0, frames(500)), await run(1, frames(500)) // warm-up
const ratios: number[] = []
for (let p = 0; p < pairs!; p++) {
  const [fa, fb] = [frames(batch!), frames(batch!)]
  const order: Array<0 | 1> = p % 2 ? [1, 0] : [0, 1]
  const r: Record<number, { us: number; turns: number }> = {}
  for (const arm of order) r[arm] = await run(arm, arm === 0 ? fa : fb)
  ratios.push(r[1]!.us / r[0]!.us)
  console.log(`pair ${p}: K=${kA} ${r[0]!.us.toFixed(1)} µs/answer (${(batch! / r[0]!.turns).toFixed(1)} answers/turn), K=${kB} ${r[1]!.us.toFixed(1)} µs/answer (${(batch! / r[1]!.turns).toFixed(1)} answers/turn): ${ratios.at(-1)!.toFixed(3)} (load ${loadavg()[0]!.toFixed(1)})`)
}
const s = [...ratios].sort((a, b) => a - b)
console.log(`K=${kB} ÷ K=${kA}, ${pairs} pairs at ${inFlight} in flight: min ${s[0]!.toFixed(3)} median ${((s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2).toFixed(3)} max ${s.at(-1)!.toFixed(3)}`)
process.exit(0)
