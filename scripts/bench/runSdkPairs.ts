import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { Agent as HttpAgent, request as httpRequest } from 'node:http'
import { Session } from 'node:inspector/promises'
import { type AgentKey, SECP256K1_ENGINE, type Secp256k1Engine, bursarAccount, createPayingFetch } from '../../agent/index.js'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { EIP3009_FIELDS } from '../../shared/schemas/eip3009Types.js'
import { BENCH_CHAIN_ID, BENCH_PAY_TO, BENCH_PRICE, BENCH_RESOURCE_URL, BENCH_USDC } from './buildPaymentRequest.js'
import { keepAliveFetch } from './keepAliveFetch.js'

export type RunSdkPairsParameters = {
  /** bursar host base URL. */
  host: string
  agentKey: AgentKey
  wallet: Hex
  /** Loopback x402 resource server (GET /paid answers 402 until paid, GET /free does not). */
  resourceUrl: string
  pairs: number
  /** Window of each run, ms: raw baseline, SDK at 1 and at 64 in flight, createPayingFetch (sequential). */
  windowsMs: { raw: number; c1: number; c64: number; paidFetch: number }
  /** Smoke mode: this many operations per run instead of timed windows. */
  count?: number | undefined
  /** Keep this many (typed data, signature) pairs for independent verification. */
  collect?: number | undefined
  /** After the pairs, profile the SDK alone (V8 CPU profiler, as --cpu-prof, started after warm-up): `<prefix>-c64.cpuprofile` and `<prefix>-c1.cpuprofile`. */
  profile?: { prefix: string; windowMs: number } | undefined
}

/** One timed run inside the agent process: rate, this process's CPU per operation, latency quantiles. */
export type SdkRun = {
  n: number
  failed: number
  errors: Record<string, number>
  opsPerSec: number
  /** This process's CPU (user + system, all threads) per finished operation; `sysUsPerOp` is the kernel's part. */
  cpuUsPerOp: number
  sysUsPerOp: number
  p50Ms: number
  p99Ms: number
}
/** One A B pair; `floor1`/`floor64` = a bare keep-alive HTTP POST round trip (no crypto) at 1 and 64 in flight, the transport's share. */
export type SdkPair = {
  raw: SdkRun
  c1: SdkRun
  c64: SdkRun
  /** The same SDK payments with Ed25519 per request (session: false), in the same pair: the session's effect (issue 22). */
  c1Ed25519?: SdkRun | undefined
  c64Ed25519?: SdkRun | undefined
  floor1: SdkRun
  floor64: SdkRun
  freeFetch: SdkRun
  paidFetch: SdkRun
  /** The same free and paid GETs with a node:http keep-alive `fetch` passed to createPayingFetch (keepAliveFetch). */
  freeFetchKa: SdkRun
  paidFetchKa: SdkRun
}
export type SdkSample = { typedData: ReturnType<typeof eip3009>; signature: Hex }
export type RunSdkPairsReturnType = { pairs: SdkPair[]; samples: SdkSample[]; paidStatuses: Record<string, number>; engine: Secp256k1Engine }

// One constant types object, as @x402/evm passes its `authorizationTypes` on every payment.
const EIP3009_TYPES = { TransferWithAuthorization: EIP3009_FIELDS }

/** An x402 `exact` payment as @x402/evm builds it: EIP-3009 TransferWithAuthorization, fresh 32-byte nonce. */
export function eip3009(from: Hex) {
  const now = BigInt(Math.floor(Date.now() / 1000))
  return {
    domain: { name: 'USDC', version: '2', chainId: BENCH_CHAIN_ID, verifyingContract: BENCH_USDC as Hex },
    types: EIP3009_TYPES,
    primaryType: 'TransferWithAuthorization' as const,
    message: {
      from,
      to: BENCH_PAY_TO as Hex,
      value: BigInt(BENCH_PRICE),
      validAfter: now - 600n,
      validBefore: now + 300n,
      nonce: `0x${randomBytes(32).toString('hex')}` as Hex,
    },
  }
}

/**
 * The SDK bench, run inside one agent process: for each pair, A = viem's
 * local signTypedData (the raw baseline), then B = the published SDK
 * (`bursarAccount(...).signTypedData` at 1 and at 64 in flight, and a paid
 * x402 GET through `createPayingFetch` beside a free GET of the same
 * server). CPU is this process's (process.cpuUsage: all its threads),
 * divided by the operations finished in the window.
 */
export async function runSdkPairs(params: RunSdkPairsParameters): Promise<RunSdkPairsReturnType> {
  const local = privateKeyToAccount(`0x${randomBytes(32).toString('hex')}`)
  const samples: SdkSample[] = []
  const account = bursarAccount({
    host: params.host,
    agentKey: params.agentKey,
    wallet: params.wallet,
    context: { resourceUrl: BENCH_RESOURCE_URL, reason: 'bench: x402 payment' },
  })
  const accountEd = bursarAccount({
    host: params.host,
    agentKey: params.agentKey,
    wallet: params.wallet,
    session: false,
    context: { resourceUrl: BENCH_RESOURCE_URL, reason: 'bench: x402 payment' },
  })
  const pay = createPayingFetch({ host: params.host, agentKey: params.agentKey, wallet: params.wallet, reason: 'bench: paid fetch' })
  const payKa = createPayingFetch({ host: params.host, agentKey: params.agentKey, wallet: params.wallet, reason: 'bench: paid fetch', fetch: keepAliveFetch })
  const paidStatuses: Record<string, number> = {}

  const raw = () => local.signTypedData(eip3009(local.address))
  const viaSdk = async () => {
    const typedData = eip3009(params.wallet)
    const signature = await account.signTypedData(typedData)
    if (samples.length < (params.collect ?? 0)) samples.push({ typedData, signature })
  }
  const viaSdkEd = () => accountEd.signTypedData(eip3009(params.wallet))
  const fetchText = async (url: string, f: (u: string) => Promise<Response>) => {
    const res = await f(url)
    await res.arrayBuffer()
    paidStatuses[`${url.endsWith('/paid') ? 'paid' : 'free'} ${res.status}`] = (paidStatuses[`${url.endsWith('/paid') ? 'paid' : 'free'} ${res.status}`] ?? 0) + 1
    if (res.status !== 200) throw new Error(`resource answered HTTP ${res.status}`)
  }
  const floorAgent = new HttpAgent({ keepAlive: true, scheduling: 'lifo' })
  const floorBody = JSON.stringify({ request: 'x'.repeat(900), signature: 'ab'.repeat(64) })
  const floorUrl = new URL(`${params.resourceUrl}/floor`)
  const floor = () =>
    new Promise<unknown>((resolve, reject) => {
      const req = httpRequest(
        { agent: floorAgent, hostname: floorUrl.hostname, port: floorUrl.port, path: floorUrl.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': floorBody.length } },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))))
        },
      )
      req.on('error', reject)
      req.end(floorBody)
    })
  const paid = () => fetchText(`${params.resourceUrl}/paid`, (u) => pay(u))
  const free = () => fetchText(`${params.resourceUrl}/free`, (u) => fetch(u))
  const paidKa = () => fetchText(`${params.resourceUrl}/paid`, (u) => payKa(u))
  const freeKa = () => fetchText(`${params.resourceUrl}/free`, (u) => keepAliveFetch(u))

  const run = (op: () => Promise<unknown>, concurrency: number, windowMs: number) => timedRun({ op, concurrency, windowMs, count: params.count })
  // Warm-up (JIT, connection pools, the wallet key learnt): not measured.
  await run(raw, 1, 300)
  await run(viaSdk, 64, 500)
  await run(viaSdk, 1, 300)
  await run(viaSdkEd, 64, 300)
  await run(paid, 1, 300)
  await run(free, 1, 200)
  await run(paidKa, 1, 300)
  await run(freeKa, 1, 200)
  await run(floor, 64, 200)

  const pairs: SdkPair[] = []
  for (let i = 0; i < params.pairs; i++) {
    const a = await run(raw, 1, params.windowsMs.raw)
    const c1 = await run(viaSdk, 1, params.windowsMs.c1)
    const c64 = await run(viaSdk, 64, params.windowsMs.c64)
    const c64Ed25519 = await run(viaSdkEd, 64, params.windowsMs.c64)
    const c1Ed25519 = await run(viaSdkEd, 1, params.windowsMs.c1)
    const floor1 = await run(floor, 1, params.windowsMs.paidFetch / 2)
    const floor64 = await run(floor, 64, params.windowsMs.paidFetch / 2)
    const freeFetch = await run(free, 1, params.windowsMs.paidFetch / 2)
    const paidFetch = await run(paid, 1, params.windowsMs.paidFetch)
    const freeFetchKa = await run(freeKa, 1, params.windowsMs.paidFetch / 2)
    const paidFetchKa = await run(paidKa, 1, params.windowsMs.paidFetch)
    pairs.push({ raw: a, c1, c64, c1Ed25519, c64Ed25519, floor1, floor64, freeFetch, paidFetch, freeFetchKa, paidFetchKa })
  }
  if (params.profile) {
    const { prefix, windowMs } = params.profile
    await profiled(`${prefix}-c64.cpuprofile`, () => run(viaSdk, 64, windowMs))
    await profiled(`${prefix}-c1.cpuprofile`, () => run(viaSdk, 1, windowMs))
    await profiled(`${prefix}-paid.cpuprofile`, () => run(paid, 1, windowMs))
  }
  return { pairs, samples, paidStatuses, engine: SECP256K1_ENGINE }
}

/** Runs `fn` under the V8 CPU profiler (the one behind --cpu-prof) and writes the profile to `file`. */
async function profiled(file: string, fn: () => Promise<unknown>): Promise<void> {
  const session = new Session()
  session.connect()
  try {
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 200 })
    await session.post('Profiler.start')
    await fn()
    const { profile } = await session.post('Profiler.stop')
    writeFileSync(file, JSON.stringify(profile))
  } finally {
    session.disconnect()
  }
}

export async function timedRun(p: { op: () => Promise<unknown>; concurrency: number; windowMs: number; count?: number | undefined }): Promise<SdkRun> {
  const lat: number[] = []
  const errors: Record<string, number> = {}
  let started = 0
  let failed = 0
  const t0 = performance.now()
  const until = t0 + p.windowMs
  const more = () => (p.count !== undefined ? started < p.count : performance.now() < until)
  const cpu0 = process.cpuUsage()
  const loop = async () => {
    while (more()) {
      started++
      const s = performance.now()
      try {
        await p.op()
        lat.push(performance.now() - s)
      } catch (err) {
        failed++
        const code = String((err as { code?: unknown }).code ?? (err as Error).message).slice(0, 80)
        errors[code] = (errors[code] ?? 0) + 1
      }
    }
  }
  await Promise.all(Array.from({ length: p.concurrency }, loop))
  const cpu = process.cpuUsage(cpu0)
  const seconds = (performance.now() - t0) / 1000
  lat.sort((a, b) => a - b)
  const q = (x: number) => round(lat[Math.min(lat.length - 1, Math.floor(x * lat.length))] ?? Number.NaN)
  return {
    n: lat.length,
    failed,
    errors,
    opsPerSec: Math.round(lat.length / seconds),
    cpuUsPerOp: Math.round((cpu.user + cpu.system) / Math.max(1, lat.length)),
    sysUsPerOp: Math.round(cpu.system / Math.max(1, lat.length)),
    p50Ms: q(0.5),
    p99Ms: q(0.99),
  }
}

/**
 * Interleaved A/B of two payment ops in this process (abSdk, receiptAb): a warm-up of each, then `rounds` rounds of
 * a `windowMs` timedRun per side at 1 and at 64 in flight, order alternating per round; prints each round and the
 * median B ÷ A of CPU per payment (c = 1, c = 64), p50 (c = 1) and rate (c = 64).
 */
export async function abRounds(ops: { A: () => Promise<unknown>; B: () => Promise<unknown> }, rounds: number, windowMs: number): Promise<void> {
  for (const op of [ops.A, ops.B]) {
    await timedRun({ op, concurrency: 64, windowMs: 500 })
    await timedRun({ op, concurrency: 1, windowMs: 300 })
  }
  const ratios: Record<string, number[]> = {}
  const push = (k: string, x: number) => (ratios[k] ??= []).push(x)
  const fmt = (r: SdkRun) => `${r.cpuUsPerOp} µs, p50 ${r.p50Ms} ms, ${r.opsPerSec}/s${r.failed ? `, ${r.failed} failed` : ''}`
  for (let i = 0; i < rounds; i++) {
    // Order alternates per round (A first, then B first) so drift in machine load does not favour one side.
    const order = i % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const)
    const r: Record<string, SdkRun> = {}
    for (const c of [1, 64]) for (const s of order) r[`${s}${c}`] = await timedRun({ op: ops[s], concurrency: c, windowMs })
    push('cpu c=1', r.B1!.cpuUsPerOp / r.A1!.cpuUsPerOp)
    push('cpu c=64', r.B64!.cpuUsPerOp / r.A64!.cpuUsPerOp)
    push('p50 c=1', r.B1!.p50Ms / r.A1!.p50Ms)
    push('ops/s c=64', r.B64!.opsPerSec / r.A64!.opsPerSec)
    console.log(`round ${i + 1}: c=1 A ${fmt(r.A1!)} | B ${fmt(r.B1!)};  c=64 A ${fmt(r.A64!)} | B ${fmt(r.B64!)}`)
  }
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!
  for (const [k, xs] of Object.entries(ratios)) console.log(`B ÷ A ${k}: median ${med(xs).toFixed(3)} (${xs.map((x) => x.toFixed(2)).join(' ')})`)
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000
}
