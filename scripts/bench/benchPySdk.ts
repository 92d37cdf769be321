import { spawn } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import path from 'node:path'
import type { Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { type Stack, repoRoot, startStack } from '../lib/startStack.js'
import { BENCH_CHAIN_ID, BENCH_PAY_TO, BENCH_PRICE, BENCH_RESOURCE_URL, BENCH_USDC } from './buildPaymentRequest.js'
import { setupBenchAgents } from './setupBenchAgents.js'

/** The project's Python venv (`make install-python` creates it from clients/python/requirements.lock). */
export const PY_VENV_PYTHON = path.join(repoRoot, '.venv', 'bin', 'python')

/** One timed run inside the Python agent process (same fields as the TS SDK bench's SdkRun). */
export type PySdkRun = {
  n: number
  failed: number
  errors: Record<string, number>
  opsPerSec: number
  cpuUsPerOp: number
  sysUsPerOp: number
  p50Ms: number
  p99Ms: number
}
/** One A B pair: raw = eth_account sign_typed_data with a hardcoded key; c1 / cN = BursarSigner.sign_typed_data at 1 and N in flight. */
export type PySdkPair = { raw: PySdkRun; c1: PySdkRun; cN: PySdkRun; cNAsync?: PySdkRun | undefined }
export type PyProfileRow = { fn: string; calls: number; ownUs: number; cumUs: number }
export type PySdkSample = {
  domain: { name: string; version: string; chainId: number; verifyingContract: Hex }
  message: { from: Hex; to: Hex; value: number; validAfter: number; validBefore: number; nonce: Hex }
  signature: Hex
}

export type BenchPySdkParameters = {
  pairs?: number | undefined
  windowsMs?: { raw: number; c1: number; cN: number } | undefined
  /** Payments in flight for the concurrent run (threads in the agent process). */
  concurrency?: number | undefined
  /** Smoke mode: operations per run instead of timed windows. */
  count?: number | undefined
  collect?: number | undefined
  /** After the pairs, cProfile the SDK (and the raw baseline) at c=1 for this long. */
  profileMs?: number | undefined
  /** Also run N asyncio tasks on one event loop (BursarSigner.sign_typed_data_async) after each pair (default true). */
  asyncio?: boolean | undefined
  log?: ((line: string) => void) | undefined
}

export type BenchPySdkReturnType = {
  pairs: PySdkPair[]
  samples: PySdkSample[]
  concurrency: number
  mode: string
  /** What the asyncio run calls (null: not run). */
  asyncMode: string | null
  python: string
  profile: { sdkC1: { n: number; top: PyProfileRow[] }; raw: { n: number; top: PyProfileRow[] } } | null
  wallet: Hex
  /** Per pair: SDK ÷ raw. cpu = agent CPU per payment ÷ CPU per raw signature; tput = SDK at N in flight ÷ raw ops/s. */
  ratios: { cpuC1: number; cpuCN: number; tputCN: number; tputC1: number; p50C1Ms: number }[]
}

/**
 * The Python SDK as agents run it: a real host + simulated enclave (separate processes), one wallet and agent
 * registered by owner acts, and ONE Python agent process (the project's .venv) that imports the published
 * `bursar` package and runs eth_account's local signature and the SDK interleaved (pySdkAgentProcess.py).
 * Everything it spawns is stopped.
 */
export async function benchPySdk(params: BenchPySdkParameters = {}): Promise<BenchPySdkReturnType> {
  if (!existsSync(PY_VENV_PYTHON)) throw new Error(`no Python venv at ${PY_VENV_PYTHON}: run \`make install-python\``)
  const log = params.log ?? (() => {})
  let stack: Stack | undefined
  let child: ReturnType<typeof spawn> | undefined
  try {
    stack = await startStack()
    const enclaveStarted = Date.now()
    const owner = privateKeyToAccount(generatePrivateKey())
    const [a] = await setupBenchAgents({ url: stack.url, owner, wallets: 1, agentsPerWallet: 1, hosts: ['api.example.com', '127.0.0.1'] })
    if (!a) throw new Error('no bench agent')
    // A fresh enclave refuses requests issued in its first 2 s.
    await new Promise((r) => setTimeout(r, Math.max(0, enclaveStarted + 2_100 - Date.now())))
    const proc = spawn(PY_VENV_PYTHON, [path.join(repoRoot, 'scripts/bench/pySdkAgentProcess.py')], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] })
    child = proc
    log(`  python agent process ${proc.pid}, host ${stack.host.pid}, enclave ${stack.enclave.pid}`)
    let out = ''
    let err = ''
    proc.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')))
    proc.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')))
    const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)))
    proc.stdin.end(
      `${JSON.stringify({
        host: stack.url,
        agentKey: { agentId: a.agentId, publicKey: a.publicKey, privateKey: a.seed, wallet: a.wallet, receiptPublicKey: a.receiptPublicKey },
        wallet: a.wallet,
        resourceUrl: BENCH_RESOURCE_URL,
        chainId: BENCH_CHAIN_ID,
        usdc: BENCH_USDC,
        payTo: BENCH_PAY_TO,
        price: BENCH_PRICE,
        pairs: params.pairs ?? 3,
        windowsMs: params.windowsMs ?? { raw: 2000, c1: 2000, cN: 2500 },
        concurrency: params.concurrency ?? 64,
        count: params.count,
        collect: params.collect,
        profileMs: params.profileMs,
        asyncio: params.asyncio ?? true,
      })}\n`,
    )
    const code = await exited
    child = undefined
    if (code !== 0) throw new Error(`python agent process exited ${code}:\n${err.slice(-3000)}`)
    const result = JSON.parse(out.trim().split('\n').pop() ?? '') as Omit<BenchPySdkReturnType, 'wallet' | 'ratios'>
    for (const [i, p] of result.pairs.entries()) log(`  pair ${i + 1}: ${describePair(p, result.concurrency)}`)
    return { ...result, wallet: a.wallet, ratios: result.pairs.map(ratiosOf) }
  } finally {
    child?.kill('SIGKILL')
    await stack?.stop()
    if (stack) rmSync(stack.dataDir, { recursive: true, force: true })
  }
}

const r2 = (x: number) => Math.round(x * 100) / 100

function ratiosOf(p: PySdkPair): BenchPySdkReturnType['ratios'][number] {
  return {
    cpuC1: r2(p.c1.cpuUsPerOp / p.raw.cpuUsPerOp),
    cpuCN: r2(p.cN.cpuUsPerOp / p.raw.cpuUsPerOp),
    tputCN: r2(p.cN.opsPerSec / p.raw.opsPerSec),
    tputC1: r2(p.c1.opsPerSec / p.raw.opsPerSec),
    p50C1Ms: p.c1.p50Ms,
  }
}

function describePair(p: PySdkPair, n: number): string {
  const r = ratiosOf(p)
  return [
    `raw eth_account ${p.raw.opsPerSec} sig/s (${p.raw.cpuUsPerOp} µs cpu)`,
    `SDK c=1 ${p.c1.opsPerSec}/s p50 ${p.c1.p50Ms} ms, ${p.c1.cpuUsPerOp} µs cpu (${r.cpuC1}×)`,
    `c=${n} ${p.cN.opsPerSec}/s (${r.tputCN}×), ${p.cN.cpuUsPerOp} µs cpu (${r.cpuCN}×)`,
    ...(p.cNAsync ? [`asyncio ${n} tasks ${p.cNAsync.opsPerSec}/s (${r2(p.cNAsync.opsPerSec / p.raw.opsPerSec)}×) p50 ${p.cNAsync.p50Ms} ms, ${p.cNAsync.cpuUsPerOp} µs cpu (${r2(p.cNAsync.cpuUsPerOp / p.raw.cpuUsPerOp)}×)`] : []),
    `sys ${p.c1.sysUsPerOp}/${p.cN.sysUsPerOp} µs`,
    `fail ${p.c1.failed + p.cN.failed + (p.cNAsync?.failed ?? 0)}`,
  ].join('; ')
}
