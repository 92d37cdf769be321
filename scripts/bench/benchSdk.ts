import { rmSync } from 'node:fs'
import type { Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { type Stack, startStack } from '../lib/startStack.js'
import { type ForkBenchChildReturnType, forkBenchChild } from './forkBenchChild.js'
import type { RunSdkPairsParameters, RunSdkPairsReturnType, SdkPair } from './runSdkPairs.js'
import { setupBenchAgents } from './setupBenchAgents.js'

export type BenchSdkParameters = {
  /** A B pairs (raw viem signature, then the SDK), interleaved in the one agent process. */
  pairs?: number | undefined
  windowsMs?: RunSdkPairsParameters['windowsMs'] | undefined
  /** Smoke mode: operations per run instead of timed windows. */
  count?: number | undefined
  collect?: number | undefined
  /** Extra node flags for the agent process (e.g. --cpu-prof). */
  agentNodeArgs?: string[] | undefined
  profile?: RunSdkPairsParameters['profile']
  log?: ((line: string) => void) | undefined
}

export type BenchSdkReturnType = RunSdkPairsReturnType & {
  wallet: Hex
  /** Per pair: SDK ÷ raw. cpu = agent CPU per payment ÷ CPU per raw signature (c=1 and c=64); tput = SDK c=64 ÷ raw ops/s. */
  ratios: { cpuC1: number; cpuC64: number; tputC64: number; p50C1Ms: number; paidAddsUs: number; paidAddsRatio: number }[]
  pids: { agent: number; host: number; enclave: number; resource: number }
}

/**
 * The agent SDK as agents run it: a real host + simulated enclave (separate
 * processes), one wallet and agent registered by owner acts, a loopback x402
 * resource server (separate process), and ONE agent process that imports
 * `bursar/agent` and runs the raw viem baseline and the SDK interleaved
 * (runSdkPairs). Everything it spawns is stopped.
 */
export async function benchSdk(params: BenchSdkParameters = {}): Promise<BenchSdkReturnType> {
  const log = params.log ?? (() => {})
  let stack: Stack | undefined
  let agent: ForkBenchChildReturnType<unknown> | undefined
  let resource: ForkBenchChildReturnType<{ port: number }> | undefined
  try {
    stack = await startStack()
    const enclaveStarted = Date.now()
    const owner = privateKeyToAccount(generatePrivateKey())
    const [a] = await setupBenchAgents({ url: stack.url, owner, wallets: 1, agentsPerWallet: 1, hosts: ['api.example.com', '127.0.0.1'] })
    if (!a) throw new Error('no bench agent')
    resource = await forkBenchChild<{ port: number }>('scripts/bench/x402ResourceServerProcess.ts')
    agent = await forkBenchChild('scripts/bench/sdkAgentProcess.ts', params.agentNodeArgs)
    // A fresh enclave refuses requests issued in its first 2 s.
    await new Promise((r) => setTimeout(r, Math.max(0, enclaveStarted + 2_100 - Date.now())))
    log(`  agent process ${agent.child.pid}, host ${stack.host.pid}, enclave ${stack.enclave.pid}, x402 resource server ${resource.child.pid}`)
    const run: RunSdkPairsParameters = {
      host: stack.url,
      agentKey: { agentId: a.agentId, publicKey: a.publicKey, privateKey: a.seed, wallet: a.wallet, receiptPublicKey: a.receiptPublicKey },
      wallet: a.wallet,
      resourceUrl: `http://127.0.0.1:${resource.ready.port}`,
      pairs: params.pairs ?? 3,
      windowsMs: params.windowsMs ?? { raw: 2000, c1: 2000, c64: 2500, paidFetch: 1500 },
      count: params.count,
      collect: params.collect,
      profile: params.profile,
    }
    const result = await agent.call<RunSdkPairsReturnType>({ type: 'run', params: run })
    for (const [i, p] of result.pairs.entries()) log(`  pair ${i + 1}: ${describePair(p)}`)
    return {
      ...result,
      wallet: a.wallet,
      ratios: result.pairs.map(ratiosOf),
      pids: { agent: agent.child.pid ?? -1, host: stack.host.pid ?? -1, enclave: stack.enclave.pid ?? -1, resource: resource.child.pid ?? -1 },
    }
  } finally {
    await agent?.close()
    await resource?.close()
    await stack?.stop()
    if (stack) rmSync(stack.dataDir, { recursive: true, force: true })
  }
}

const r2 = (x: number) => Math.round(x * 100) / 100

function ratiosOf(p: SdkPair): BenchSdkReturnType['ratios'][number] {
  const paidAddsUs = p.paidFetch.cpuUsPerOp - p.freeFetch.cpuUsPerOp
  return {
    cpuC1: r2(p.c1.cpuUsPerOp / p.raw.cpuUsPerOp),
    cpuC64: r2(p.c64.cpuUsPerOp / p.raw.cpuUsPerOp),
    tputC64: r2(p.c64.opsPerSec / p.raw.opsPerSec),
    p50C1Ms: p.c1.p50Ms,
    paidAddsUs,
    paidAddsRatio: r2(paidAddsUs / p.raw.cpuUsPerOp),
  }
}

function describePair(p: SdkPair): string {
  const r = ratiosOf(p)
  return [
    `raw ${p.raw.opsPerSec} sig/s (${p.raw.cpuUsPerOp} µs cpu)`,
    `SDK c=1 ${p.c1.opsPerSec}/s p50 ${p.c1.p50Ms} ms, ${p.c1.cpuUsPerOp} µs cpu (${r.cpuC1}×)`,
    `c=64 ${p.c64.opsPerSec}/s (${r.tputC64}×), ${p.c64.cpuUsPerOp} µs cpu (${r.cpuC64}×)`,
    `floor ${p.floor1.cpuUsPerOp}/${p.floor64.cpuUsPerOp} µs (c=1/64)`,
    `sys ${p.c1.sysUsPerOp}/${p.c64.sysUsPerOp} µs`,
    `paid fetch ${p.paidFetch.cpuUsPerOp} µs vs free ${p.freeFetch.cpuUsPerOp} µs (keep-alive fetch: ${p.paidFetchKa.cpuUsPerOp} vs ${p.freeFetchKa.cpuUsPerOp} µs)`,
    `fail ${p.c1.failed + p.c64.failed + p.paidFetch.failed}`,
  ].join('; ')
}
