/**
 * The real-process part of the fuzzer: mutated request frames into a spawned,
 * READY simulated enclave (one wallet, one agent, a payment policy), pipelined
 * over its Unix socket. Agent requests are also mutated as JSON and re-signed
 * with the agent's key, so they pass authentication and reach decoding,
 * policy and the ledger. Every frame must get exactly one response with a
 * stable error code or a result; `internal_error` and `enclave_halted` are
 * findings; the process must stay up, bounded in memory, and answer an honest
 * payment afterwards.
 */
import { viewAndDecision } from '../../helpers/governanceRelay.js'
import { readFileSync } from 'node:fs'
import type { Hex } from 'viem'
import { encode } from 'cborg'
import { signOwnerAct } from '../../../shared/owner/signOwnerAct.js'
import { FrameReader } from '../../../shared/protocol/FrameReader.js'
import { decodeFrameBody } from '../../../shared/protocol/frame.js'
import { PROTOCOL_VERSION } from '../../../shared/protocol/messages.js'
import {
  type MaliciousHost,
  eip3009,
  paymentPolicy,
  resign,
  signAgentRequest,
  startWithAgent,
  verifyPayment,
} from '../../helpers/maliciousHost.js'
import { makeRng, mutateBytes, mutateTree, subtrees } from './mutate.js'

export type LiveFigures = {
  frames: number
  responses: number
  /** Responses that were neither a result nor a typed refusal, or internal_error / enclave_halted. */
  crashes: Array<{ index: number; code: string; message: string }>
  crashCount: number
  /** Frames not answered within the bound. */
  hangs: number
  enclaveAlive: boolean
  honestAfter: boolean
  peakRssMb: number
  codes: Record<string, number>
}

const rssMb = (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024)

function frameOf(id: number, body: Uint8Array): Buffer {
  const f = Buffer.alloc(4 + body.length)
  f.writeUInt32BE(body.length, 0)
  f.set(body, 4)
  return f
}

/** Sends `count` fuzzed frames (window of 32 in flight) and checks the enclave afterwards. */
export async function fuzzLiveEnclave(params: { seed: number; count: number; hangMs?: number; onProgress?: (line: string) => void }): Promise<LiveFigures> {
  const { host, owner, wallet, agent } = await startWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '100000000' }))
  const figures: LiveFigures = { frames: 0, responses: 0, crashes: [], crashCount: 0, hangs: 0, enclaveAlive: false, honestAfter: false, peakRssMb: 0, codes: {} }
  try {
    await host.waitAgentFloor()
    const pay = () => signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 10n }) })
    // A valid act (next seq, no effect): applied once, then its replays and mutations are refused.
    const seq = String((await host.ownerSeq(wallet)) + 1)
    const act = await signOwnerAct({ account: owner, primaryType: 'FreezeAgent', message: { wallet, agentId: agent.agentId, frozen: false, seq } })
    // Issue 12 stage B: governance's decision on that act's view, relayed by nobody (the seed frame carries it).
    const relayed = await viewAndDecision(host, owner, 'FreezeAgent', { wallet, agentId: agent.agentId, frozen: false, seq })
    const seedMsgs: Array<Record<string, unknown>> = [
      { type: 'hello', protocolVersion: PROTOCOL_VERSION },
      { type: 'getWallets' },
      { type: 'attest', nonce: new Uint8Array(32).fill(7) },
      { type: 'agentSign', ...pay() },
      { type: 'ownerAct', ...act },
      { type: 'ownerActDecision', ...relayed.body, decision: relayed.decision },
      { type: 'replayEntries', entries: [host.entries[0] ?? '{}'] },
      { type: 'loadState', snapshot: host.latestSnapshot()?.blob ?? null },
      { type: 'finishLoad' },
    ].map((m) => {
      const { parsed: _p, ...rest } = m as Record<string, unknown>
      return rest
    })
    const seedBodies = seedMsgs.map((msg, i) => encode({ id: i + 1, msg }))
    const splice = subtrees(seedMsgs)
    await host.stopEnclave().then(() => undefined, () => undefined) // fresh process for the run (clean RSS baseline)…
    await host.startEnclave()
    const boot = await host.bootstrapHonest()
    if (!boot.ok) throw new TypeError(`bootstrap refused: ${boot.error.code}`)
    await host.waitAgentFloor()
    const pid = host.proc!.pid!
    const sock = await import('node:net').then((net) => net.createConnection(host.socketPath))
    await new Promise<void>((res, rej) => {
      sock.once('connect', res)
      sock.once('error', rej)
    })
    const reader = new FrameReader()
    const lastIndex = new Map<number, number>()
    let closed = false
    sock.on('close', () => {
      closed = true
    })
    sock.on('error', () => {})
    sock.on('data', (d: Buffer) => {
      for (const body of reader.push(d)) {
        const r = decodeFrameBody(body) as { id: number; ok: boolean; error?: { code?: unknown; message?: unknown } }
        figures.responses++
        const code = r.ok ? 'ok' : typeof r.error?.code === 'string' ? r.error.code : 'UNTYPED'
        figures.codes[code] = (figures.codes[code] ?? 0) + 1
        const index = lastIndex.get(r.id) ?? -1
        lastIndex.delete(r.id)
        if (code === 'UNTYPED' || code === 'internal_error' || code === 'enclave_halted') {
          figures.crashCount++
          if (figures.crashes.length < 20) figures.crashes.push({ index, code, message: String(r.error?.message ?? '').slice(0, 200) })
        }
      }
    })
    const hangMs = params.hangMs ?? 5_000
    let nextId = 1_000
    for (let i = 0; i < params.count && !closed; i++) {
      const rng = makeRng(params.seed, 1_000, i)
      const id = nextId++
      let body: Uint8Array
      const mode = rng.next()
      if (mode < 0.35) {
        // An agent request mutated as JSON and re-signed by the agent: reaches decoding, policy and the ledger.
        const base = JSON.parse(pay().request) as Record<string, unknown>
        const mutated = mutateTree(rng, base, splice) as Record<string, unknown>
        if (rng.chance(0.7) && mutated && typeof mutated === 'object') mutated.nonce = rng.chance(0.9) ? Buffer.from(Array.from({ length: 16 }, () => rng.int(256))).toString('hex') : mutated.nonce
        const text = JSON.stringify(mutated) ?? 'null'
        body = encode({ id, msg: { type: 'agentSign', request: text, signature: resign(text, agent.privateKey) } })
      } else if (mode < 0.6) {
        const m = mutateTree(rng, rng.pick(seedMsgs), splice)
        try {
          body = encode({ id, msg: m as never })
        } catch {
          body = encode({ id, msg: null })
        }
      } else {
        // Byte-level mutation of a whole frame body (the id is then whatever the bytes say).
        body = mutateBytes(rng, rng.pick(seedBodies), seedBodies, 16 * 1024)
        if (body.length === 0) body = new Uint8Array([0xa0])
      }
      lastIndex.set(id, i)
      sock.write(frameOf(id, body))
      figures.frames++
      // Window: keep at most 32 frames unanswered; no answer for hangMs is a hang (and ends the run).
      const waitFrom = Date.now()
      let seen = figures.responses
      let lastMove = waitFrom
      while (figures.frames - figures.responses > 32 && !closed) {
        await new Promise((r) => setImmediate(r))
        if (figures.responses !== seen) (seen = figures.responses), (lastMove = Date.now())
        if (Date.now() - lastMove > hangMs) break
      }
      if (figures.frames - figures.responses > 32) break
      if (i % 500 === 0) {
        figures.peakRssMb = Math.max(figures.peakRssMb, rssMb(pid))
        if (i % 5_000 === 0) params.onProgress?.(`live enclave: ${i}/${params.count} frames, RSS ${figures.peakRssMb} MB`)
      }
    }
    const until = Date.now() + hangMs
    while (figures.responses < figures.frames && Date.now() < until && !closed) await new Promise((r) => setTimeout(r, 5))
    figures.hangs = Math.max(0, figures.frames - figures.responses)
    figures.peakRssMb = Math.max(figures.peakRssMb, rssMb(pid))
    sock.destroy()
    figures.enclaveAlive = host.proc?.exitCode === null && host.proc?.signalCode === null && !closed
    // Honest traffic afterwards: a payment signs and verifies independently.
    const honest = await honestPayment(host, wallet, pay)
    figures.honestAfter = honest
  } finally {
    await host.stop()
  }
  return figures
}

async function honestPayment(host: MaliciousHost, wallet: Hex, pay: () => ReturnType<typeof signAgentRequest>): Promise<boolean> {
  const conn = await host.connect()
  try {
    const signed = pay()
    const r = await conn.call({ type: 'agentSign', request: signed.request, signature: signed.signature })
    return r.ok && (await verifyPayment(wallet, signed.parsed, (r.result as { signature: Hex }).signature))
  } finally {
    conn.close()
  }
}
