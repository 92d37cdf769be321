import { Agent, request } from 'node:http'
import type { KeyObject } from 'node:crypto'
import { type AgentSession, openSession, sessionMac } from '../../agent/agentSession.js'
import { ed25519PrivateKeyFromSeed } from '../../agent/ed25519PrivateKeyFromSeed.js'
import { postHttp1 } from '../../agent/postHttp1.js'
import type { TypedDataJson } from '../../shared/schemas/agentRequest.js'
import { type BenchAgent, buildPaymentRequest } from './buildPaymentRequest.js'

export type RunLoadParameters = {
  /** Host base URL (http only; loopback). */
  url: string
  agents: BenchAgent[]
  concurrency: number
  /** Closed loop for warmupMs, then measure for durationMs (ignored when `requests` is set). */
  warmupMs?: number | undefined
  durationMs?: number | undefined
  /** Send exactly this many requests instead (smoke mode; all of them count). */
  requests?: number | undefined
  /** Keep up to this many successful (typedData, signature) pairs for independent verification. */
  collect?: number | undefined
  /**
   * Open loop instead: requests arrive at this mean rate (Poisson: exponential gaps) whatever the answers, and each
   * latency runs from the request's SCHEDULED time, so a stall is charged to every request it delays (no
   * coordinated omission). `concurrency` then only caps sockets. Every request scheduled in the window counts.
   */
  ratePerSec?: number | undefined
  /**
   * How each request is authenticated: 'session' (default; what the SDK sends: one session per agent opened through
   * /v1/agent/session with the SDK's own openSession, then `s1:<id>:<HMAC>` per request) or 'ed25519' (a signature
   * per request, as before sessions). Sessions are opened on the first call that needs them and kept for the process.
   */
  auth?: 'session' | 'ed25519' | undefined
  /**
   * c1-42: the generator's HTTP client: `sdk` (default from stop 42), the agent SDK's own transport (agent/postHttp1.ts:
   * one write per request, a minimal answer parser), what an agent on the published SDK sends with; or `node`, node:http's
   * keep-alive Agent (every run before stop 42). Default: $BENCH_HTTP_CLIENT=node selects node:http, else `sdk`.
   */
  httpClient?: 'node' | 'sdk' | undefined
  /** Also return each measured request's (start as epoch ms, latency ms): which requests a stall held (lat18). */
  timeline?: boolean | undefined
  /**
   * Also return each measured request's stamps (lat35): scheduled and sent (epoch ms), latency, and its (agent, nonce)
   * to join with what the stack stored about it (the enclave's decision and turn times, the host's decided and
   * fetched times): which step a slow request was late in.
   */
  trace?: boolean | undefined
  /**
   * Open loop (lat35): build and authenticate each request before its scheduled time (the next one while waiting for
   * it), so the generator's own build, JSON and session MAC are not inside the latency it charges to the stack; the
   * latency still runs from the scheduled time. Default false (as before).
   */
  prebuild?: boolean | undefined
}

/** One measured request (lat35): scheduled start and send (epoch ms, sub-ms), latency (ms), its agent and request nonce. */
export type TracedRequest = { at: number; sent: number; ms: number; agentId: string; nonce: string }

export type LoadSample = { wallet: `0x${string}`; typedData: TypedDataJson; signature: `0x${string}`; signedHash: `0x${string}` }

export type RunLoadReturnType = {
  concurrency: number
  /** c1-42: the HTTP client the generator used. */
  httpClient: 'node' | 'sdk'
  /** Open-loop runs: the offered rate. */
  ratePerSec?: number | undefined
  ok: number
  failed: number
  /** Refusal codes (or transport errors) and how often each happened. */
  errors: Record<string, number>
  /** SDK-style waits on request_before_enclave_start (not failures). */
  retried: number
  /** Every request answered in the whole call (warm-up and tail included), for CPU-per-request figures. */
  answeredAll: number
  seconds: number
  opsPerSec: number
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number }
  /**
   * Open-loop runs: how late the generator itself sent each measured request (from its scheduled time to the moment
   * its bytes were handed to node:http: timer granularity and this process's own busy loop). It is inside every
   * latency above (measured from the scheduled time, as it must be), so it bounds what the generator adds (lat18).
   */
  sendLateMs?: { p50: number; p99: number; max: number } | undefined
  /** Open-loop runs (lat35): of that, how late the generator's timer woke for each request (scheduled → dispatched). */
  timerLateMs?: { p50: number; p99: number; max: number } | undefined
  samples: LoadSample[]
  /** With `timeline`: [start (epoch ms), latency (ms)] of every measured request, in completion order. */
  timeline?: Array<[number, number]> | undefined
  /** With `trace`: every measured request's stamps. */
  trace?: TracedRequest[] | undefined
  /** With `trace` (c1-42): add this to a stamp (epoch ms) for CLOCK_MONOTONIC ms, the clock every process shares. */
  monoMinusEpochMs?: number | undefined
}

/** This process's sessions, by host URL and agent: opened once, reused by every later run against the same stack. */
const SESSIONS = new Map<string, AgentSession>()

const SIGNATURE = /^0x[0-9a-f]{130}$/
const HASH = /^0x[0-9a-f]{64}$/

/**
 * Closed-loop load generator: `concurrency` loops, each building a fresh
 * signed agent request (round-robin over the agents), POSTing it to
 * /v1/agent/sign over a keep-alive HTTP agent and checking the answer. Only
 * requests that start and finish inside the measured window count.
 */
export async function runLoad(params: RunLoadParameters): Promise<RunLoadReturnType> {
  const base = new URL(params.url)
  const sockets = params.ratePerSec ? Math.max(params.concurrency, 256) : params.concurrency
  const http = new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets })
  const keys: KeyObject[] = params.agents.map((a) => ed25519PrivateKeyFromSeed(a.seed))
  const errors: Record<string, number> = {}
  const latencies: number[] = []
  const timeline: Array<[number, number]> = []
  const trace: TracedRequest[] = []
  const late: number[] = []
  const timerLate: number[] = []
  const samples: LoadSample[] = []
  let ok = 0
  let failed = 0
  let retried = 0
  let issued = 0
  let answeredAll = 0

  const noWatch = () => () => {}
  const client = params.httpClient ?? (process.env.BENCH_HTTP_CLIENT === 'node' ? 'node' : 'sdk')
  const post = (body: string, route = '/v1/agent/sign', sent?: (at: number) => void): Promise<{ status: number; text: string }> => {
    if (client !== 'sdk') return postNode(body, route, sent)
    const p = postHttp1({ url: new URL(route, base), body, watch: noWatch })
    sent?.(performance.now())
    return p
  }
  const postNode = (body: string, route: string, sent?: (at: number) => void) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        {
          agent: http,
          host: base.hostname,
          port: base.port,
          path: route,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }))
          res.on('error', reject)
        },
      )
      req.on('error', reject)
      req.end(body)
      sent?.(performance.now())
    })

  const auth = params.auth ?? 'session'
  const sessions: (AgentSession | undefined)[] = []
  if (auth === 'session') {
    // One open per bench agent, as the SDK makes it (agent/agentSession.ts), before any load; a failed open fails the run.
    const opened = await Promise.all(
      params.agents.map(async (a, i) => {
        const id = `${params.url}|${a.agentId}|${a.wallet}`
        let s = SESSIONS.get(id)
        if (!s || s.until <= Date.now()) {
          const agentKey = { agentId: a.agentId, publicKey: a.publicKey, privateKey: a.seed }
          s = (await openSession(agentKey, a.wallet, keys[i]!, (body) => post(body, '/v1/agent/session'))) ?? undefined
          if (!s) throw new Error(`load generator: openSession for ${a.agentId} failed`)
          SESSIONS.set(id, s)
        }
        return s
      }),
    )
    sessions.push(...opened)
  }

  // The clock starts once the sessions are open.
  const smoke = params.requests !== undefined
  const t0 = performance.now()
  const measureFrom = smoke ? t0 : t0 + (params.warmupMs ?? 1000)
  const measureTo = smoke ? Number.POSITIVE_INFINITY : measureFrom + (params.durationMs ?? 5000)
  const more = () => (smoke ? issued < params.requests! : performance.now() < measureTo)

  /** One request's text and envelope, built as the SDK builds them (a fresh nonce and issuedAt each time). */
  const make = (i: number) => {
    const agent = params.agents[i % params.agents.length]!
    const session = sessions[i % params.agents.length]
    const built = buildPaymentRequest({ agentId: agent.agentId, wallet: agent.wallet, key: session ? null : keys[i % keys.length]! })
    // The SDK's envelope (agent/requestSignature.ts), byte for byte.
    return { i, built, body: `{"request":${JSON.stringify(built.text)},"signature":"${session ? sessionMac(session, built.text) : built.signature}"}` }
  }
  type Made = ReturnType<typeof make>

  const once = async (scheduled?: number, pre?: Made, dispatched?: number) => {
    {
      const i = pre ? pre.i : issued++
      const agent = params.agents[i % params.agents.length]!
      const start = scheduled ?? performance.now()
      let outcome: string
      let answer: Record<string, unknown> = {}
      let built: ReturnType<typeof buildPaymentRequest>
      let sentAt = Number.NaN
      for (let attempt = 0; ; attempt++) {
        const made = attempt === 0 && pre ? pre : make(i)
        built = made.built
        try {
          const res = await post(made.body, undefined, (at) => {
            if (Number.isNaN(sentAt)) sentAt = at
          })
          answer = JSON.parse(res.text) as Record<string, unknown>
          if (res.status === 200 && typeof answer.signature === 'string' && SIGNATURE.test(answer.signature) && HASH.test(String(answer.signedHash)))
            outcome = 'ok'
          else outcome = String(answer.code ?? `http_${res.status}`)
        } catch (err) {
          outcome = `transport_${(err as NodeJS.ErrnoException).code ?? 'error'}`
        }
        if (outcome !== 'request_before_enclave_start') break
        // As the SDK does: a fresh enclave refuses older requests; wait out its floor and sign afresh.
        retried++
        await new Promise((r) => setTimeout(r, Math.min(Math.max(Number(answer.retryAfterMs ?? 100), 1), 5_000)))
      }
      const end = performance.now()
      answeredAll++
      if (start < measureFrom || (scheduled === undefined && end > measureTo) || start >= measureTo) return
      if (outcome === 'ok') {
        ok++
        latencies.push(end - start)
        if (params.timeline) timeline.push([performance.timeOrigin + start, end - start])
        if (params.trace)
          trace.push({ at: performance.timeOrigin + start, sent: performance.timeOrigin + sentAt, ms: end - start, agentId: agent.agentId, nonce: /"nonce":"([^"]+)"/.exec(built.text)![1]! })
        if (scheduled !== undefined) late.push(sentAt - scheduled)
        if (scheduled !== undefined && dispatched !== undefined) timerLate.push(dispatched - scheduled)
        if (samples.length < (params.collect ?? 0))
          samples.push({ wallet: agent.wallet, typedData: built.typedData, signature: answer.signature as `0x${string}`, signedHash: answer.signedHash as `0x${string}` })
      } else {
        failed++
        errors[outcome] = (errors[outcome] ?? 0) + 1
      }
    }
  }
  const loop = async () => {
    while (more()) await once()
  }
  if (params.ratePerSec && !smoke) {
    const meanGapMs = 1000 / params.ratePerSec
    const inFlight = new Set<Promise<void>>()
    let next = t0
    const prepare = () => (params.prebuild ? make(issued++) : undefined)
    let ready = prepare()
    while (next < measureTo) {
      const now = performance.now()
      for (; next <= now && next < measureTo; next += -Math.log(1 - Math.random()) * meanGapMs) {
        const p: Promise<void> = once(next, ready, now).finally(() => inFlight.delete(p))
        inFlight.add(p)
        ready = prepare()
      }
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(next, measureTo) - performance.now())))
    }
    await Promise.all(inFlight)
  } else await Promise.all(Array.from({ length: params.concurrency }, loop))
  http.destroy()
  const seconds = ((smoke ? performance.now() : measureTo) - measureFrom) / 1000
  latencies.sort((a, b) => a - b)
  const q = (p: number) => round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? Number.NaN)
  return {
    concurrency: params.concurrency,
    httpClient: client,
    ...(params.ratePerSec ? { ratePerSec: params.ratePerSec } : {}),
    ok,
    failed,
    errors,
    retried,
    answeredAll,
    seconds: round(seconds),
    opsPerSec: Math.round(ok / seconds),
    latencyMs: {
      p50: q(0.5),
      p90: q(0.9),
      p99: q(0.99),
      p999: q(0.999),
      max: round(latencies[latencies.length - 1] ?? Number.NaN),
      mean: round(latencies.reduce((s, x) => s + x, 0) / Math.max(1, latencies.length)),
    },
    ...(late.length > 0 ? { sendLateMs: lateOf(late) } : {}),
    ...(timerLate.length > 0 ? { timerLateMs: lateOf(timerLate) } : {}),
    samples,
    ...(params.timeline ? { timeline } : {}),
    ...(params.trace ? { trace, monoMinusEpochMs: Number(process.hrtime.bigint()) / 1e6 - performance.now() - performance.timeOrigin } : {}),
  }
}

function lateOf(xs: number[]): { p50: number; p99: number; max: number } {
  xs.sort((a, b) => a - b)
  const q = (p: number) => round(xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]!)
  return { p50: q(0.5), p99: q(0.99), max: round(xs[xs.length - 1]!) }
}

function round(x: number): number {
  return Math.round(x * 100) / 100
}
