/**
 * Crash soak: steady agent payments through the REAL host + simulated enclave
 * (built bundles) while the enclave, the host or both are killed with SIGKILL
 * at random points. After every restart it checks, from the host's stored
 * audit log: every signature an agent received is a `sign_allowed` entry
 * exactly once (with its ledger events), no request or digest signed twice,
 * the chain verifies under the enclave's receipt key. At the end the budget
 * is probed to the unit: the remaining allowance signs, one unit more does not.
 */
import type { ChildProcess } from 'node:child_process'
import type { Hex } from 'viem'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { parseAuditJsonl } from '../../shared/audit/exportFormats.js'
import { verifyAuditLog } from '../../shared/audit/verifyAuditLog.js'
import { type StackWithAgent, eip3009, paymentPolicy, signedBody, stackWithAgent, verifyEip3009 } from '../helpers/agentClient.js'

export type SoakParameters = {
  cycles: number
  seed: number
  /** Concurrent agent loops (one agent, one wallet). */
  agents?: number
  /** Traffic between kills, ms (uniform in [min, max]). */
  trafficMs?: [number, number]
  /** What a cycle may kill (default all three). */
  targets?: Array<'enclave' | 'host' | 'both'>
  /** A fixed kill order (cycle i kills schedule[i % length]) instead of a seeded random pick among targets. */
  schedule?: Array<'enclave' | 'host' | 'both'>
  onProgress?: (line: string) => void
}

export type SoakFigures = {
  cycles: number
  kills: { enclave: number; host: number; both: number }
  /** Signatures agents received (each verified with viem). */
  signatures: number
  /** Received signatures missing from the stored ledger/audit log (must be 0). */
  lost: number
  /** Requests or digests signed more than once, or a request answered with two signatures (must be 0). */
  duplicated: number
  /** Requests refused by the enclave (e.g. issued before its restart floor). */
  refused: number
  /** Requests whose answer never reached the agent (killed in flight; resent until stale, outcome read from the log). */
  unanswered: number
  auditEntries: number
  chainVerified: boolean
  budgetExact: boolean
  failures: string[]
  seconds: number
}

const CAP = 1_000_000_000_000n

/** Deterministic PRNG (mulberry32) so a run's kill schedule reproduces from its seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function killHard(c: ChildProcess | null): Promise<void> {
  if (!c || c.exitCode !== null || c.signalCode !== null) return
  await new Promise<void>((resolve) => {
    c.once('exit', () => resolve())
    c.kill('SIGKILL')
  })
}

type Post = { status: number; json: Record<string, unknown> } | null

async function post(url: string, body: { request: string; signature: string }): Promise<Post> {
  try {
    const res = await fetch(`${url}/v1/agent/sign`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    })
    return { status: res.status, json: (await res.json()) as Record<string, unknown> }
  } catch {
    return null // host dead or connection cut: the outcome is unknown to the agent
  }
}

/** Codes that mean "the enclave or host could not answer": resend the same signed body. */
const TRANSIENT = new Set(['enclave_unavailable', 'enclave_not_ready', 'enclave_disconnected', 'enclave_timeout', 'internal_error'])

/** Runs the soak and returns its figures (never throws for a broken invariant: it is counted and described). */
export async function runSoak(params: SoakParameters): Promise<SoakFigures> {
  const t0 = Date.now()
  const rand = mulberry32(params.seed)
  const log = params.onProgress ?? (() => {})
  const figures: SoakFigures = {
    cycles: 0,
    kills: { enclave: 0, host: 0, both: 0 },
    signatures: 0,
    lost: 0,
    duplicated: 0,
    refused: 0,
    unanswered: 0,
    auditEntries: 0,
    chainVerified: true,
    budgetExact: false,
    failures: [],
    seconds: 0,
  }
  const fail = (msg: string) => {
    if (figures.failures.length < 50) figures.failures.push(msg)
  }
  const s: StackWithAgent = await stackWithAgent(paymentPolicy({ perTx: CAP.toString(), rolling24h: CAP.toString() }))
  const { stack } = s
  const publicKey = ((await (await fetch(`${stack.url}/readyz`)).json()) as { receiptPublicKey: string }).receiptPublicKey
  // What agents received: nonce → signature, signedHash → nonce.
  const received = new Map<string, { signature: Hex; signedHash: string }>()
  const unanswered = new Set<string>()
  let stopping = false

  const agentLoop = async (n: number) => {
    const r = mulberry32(params.seed * 31 + n)
    while (!stopping) {
      const value = BigInt(1 + Math.floor(r() * 1000))
      const operation = eip3009({ wallet: s.wallet, value })
      const body = signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation })
      const nonce = (JSON.parse(body.request) as { nonce: string }).nonce
      let answered = false
      // Resend the same signed body while the answer is unknown (the SDK's retry): at most one signature may result.
      for (let attempt = 0; attempt < 200 && !answered; attempt++) {
        const res = await post(stack.url, body)
        if (res && res.status === 200 && typeof res.json.signature === 'string') {
          const sig = res.json.signature as Hex
          const prev = received.get(nonce)
          if (prev && prev.signature !== sig) {
            figures.duplicated++
            fail(`request ${nonce} answered with two different signatures`)
          }
          if (!(await verifyEip3009(s.wallet, operation, sig))) fail(`signature for ${nonce} does not verify`)
          if (!prev) figures.signatures++
          received.set(nonce, { signature: sig, signedHash: String(res.json.signedHash) })
          unanswered.delete(nonce)
          answered = true
        } else if (res && res.status < 500 && !TRANSIENT.has(String(res.json.code))) {
          // A definitive refusal; after an unknown outcome a resend is refused as a replay (the first try may have signed).
          if (res.json.code !== 'request_replayed') figures.refused++
          if (res.json.code === 'request_replayed' || res.json.code === 'request_stale') unanswered.add(nonce)
          answered = true
        } else {
          unanswered.add(nonce)
          await sleep(50)
        }
      }
      await sleep(5 + Math.floor(r() * 20))
    }
  }

  const readyAgain = async () => {
    await stack.waitReady(30_000)
  }

  const check = async (final: boolean) => {
    const snapshot = new Map(received)
    const res = await fetch(`${stack.url}/v1/audit/export?format=jsonl`, { headers: { authorization: `Bearer ${stack.auditToken}` } })
    if (!res.ok) {
      fail(`audit export HTTP ${res.status}`)
      return
    }
    const exp = parseAuditJsonl(await res.text())
    const entries = exp.entries as AuditEntry[]
    figures.auditEntries = entries.length
    const allowed = entries.filter((e) => e.event === 'sign_allowed')
    const byHash = new Map<string, AuditEntry[]>()
    const byRequest = new Map<string, number>()
    for (const e of allowed) {
      const h = String(e.signedHash).toLowerCase()
      byHash.set(h, [...(byHash.get(h) ?? []), e])
      if (e.requestId) byRequest.set(e.requestId, (byRequest.get(e.requestId) ?? 0) + 1)
    }
    let lost = 0
    for (const [nonce, got] of snapshot) {
      const es = byHash.get(got.signedHash.toLowerCase()) ?? []
      if (es.length === 0 || es[0]!.ledger.length === 0) {
        lost++
        fail(`received signature for ${nonce} (${got.signedHash}) is not on the stored ledger/audit log`)
      }
    }
    figures.lost = Math.max(figures.lost, lost)
    let dup = 0
    for (const [h, es] of byHash) if (es.length > 1) (dup++, fail(`digest ${h} signed ${es.length} times`))
    for (const [id, n] of byRequest) if (n > 1) (dup++, fail(`request ${id} allowed ${n} times`))
    figures.duplicated = Math.max(figures.duplicated, dup)
    // The receipt key is sealed with the state: it must not change across restarts, and a host restarted while the
    // enclave kept running reports it too (it asks the enclave on connect: SECURITY.md F3).
    const now = ((await (await fetch(`${stack.url}/readyz`)).json()) as { receiptPublicKey: string | null }).receiptPublicKey
    if (now !== publicKey) fail(`receipt key changed across a restart or missing: ${publicKey} → ${now}`)
    const v = verifyAuditLog({ ...exp, publicKey })
    if (!v.ok) {
      figures.chainVerified = false
      fail(`audit chain does not verify: ${v.code} at seq ${v.seq}: ${v.message}`)
    }
    if (final) {
      figures.unanswered = [...unanswered].filter((n) => !snapshot.has(n)).length
      // Budget to the unit: the remainder of the cap signs, one unit more is refused.
      const spent = allowed.reduce((sum, e) => sum + BigInt((e.action as { amount?: string } | null)?.amount ?? '0'), 0n)
      const over = await post(stack.url, signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: eip3009({ wallet: s.wallet, value: CAP - spent + 1n }) }))
      const exact = eip3009({ wallet: s.wallet, value: CAP - spent })
      const fit = await post(stack.url, signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: exact }))
      const fitOk = fit?.status === 200 && (await verifyEip3009(s.wallet, exact, fit.json.signature as Hex))
      figures.budgetExact = over !== null && over.status !== 200 && fitOk
      if (!figures.budgetExact)
        fail(`budget not exact: spent ${spent}; cap-spent+1 → ${over?.status} ${String(over?.json.code)}; cap-spent → ${fit?.status} ${String(fit?.json.code)}`)
    }
  }

  try {
    await sleep(2_100) // the enclave's start floor
    const loops = Array.from({ length: params.agents ?? 3 }, (_, i) => agentLoop(i))
    const [lo, hi] = params.trafficMs ?? [300, 1500]
    let enclaveStarted = Date.now()
    // Traffic flows only once a fresh enclave's start floor (2 s) has passed: kill inside real traffic.
    const afterFloor = () => sleep(Math.max(0, enclaveStarted + 2_200 - Date.now()))
    for (let c = 1; c <= params.cycles; c++) {
      await afterFloor()
      await sleep(lo + Math.floor(rand() * (hi - lo)))
      const targets = params.targets ?? ['enclave', 'host', 'both']
      const pick = targets[Math.floor(rand() * targets.length)]!
      const target = params.schedule ? params.schedule[(c - 1) % params.schedule.length]! : pick
      if (target !== 'host') await killHard(stack.enclave)
      if (target !== 'enclave') await killHard(stack.host)
      figures.kills[target]++
      if (target !== 'host') {
        stack.logs.length = 0
        await stack.startEnclave()
        enclaveStarted = Date.now()
      }
      if (target !== 'enclave') await stack.startHost()
      await readyAgain()
      await check(false)
      figures.cycles = c
      log(
        `cycle ${c}/${params.cycles} killed ${target.padEnd(7)} signatures ${figures.signatures} entries ${figures.auditEntries} lost ${figures.lost} duplicated ${figures.duplicated} (${Math.round((Date.now() - t0) / 1000)} s)`,
      )
    }
    await afterFloor()
    await sleep(500)
    stopping = true
    await Promise.all(loops)
    await check(true)
  } catch (err) {
    fail(`soak aborted: ${String((err as Error).stack).slice(0, 1500)}`)
  } finally {
    stopping = true
    await stack.stop()
    figures.seconds = Math.round((Date.now() - t0) / 100) / 10
  }
  return figures
}
