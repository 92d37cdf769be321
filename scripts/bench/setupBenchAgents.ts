import type { LocalAccount } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { setupAgent } from '../devchain/setupAgent.js'
import type { Stack } from '../lib/startStack.js'
import { BENCH_CHAIN_ID, BENCH_PAY_TO, BENCH_RESOURCE_URL, BENCH_USDC, type BenchAgent } from './buildPaymentRequest.js'

export type SetupBenchAgentsParameters = {
  url: string
  owner: LocalAccount
  wallets: number
  agentsPerWallet: number
  /** x402 resource hosts the policy allows (default only the bench's api.example.com). */
  hosts?: string[] | undefined
}

/**
 * Creates `wallets` wallets and registers `agentsPerWallet` agents on each,
 * every one with its own Ed25519 key and an owner-signed x402 policy (caps
 * far above what a bench spends), through the real owner-act HTTP path.
 */
export async function setupBenchAgents(params: SetupBenchAgentsParameters): Promise<BenchAgent[]> {
  const policy = {
    version: 1,
    timeZone: 'UTC',
    tokens: [{ chainId: BENCH_CHAIN_ID, asset: BENCH_USDC, name: 'USDC', version: '2', decimals: 6 }],
    budgets: [{ chainId: BENCH_CHAIN_ID, asset: BENCH_USDC, perTx: '1000000', rolling24h: '1000000000000000' }],
    rules: [
      {
        id: 'x402',
        effect: 'allow' as const,
        kinds: ['eip3009' as const],
        chains: { in: [BENCH_CHAIN_ID] },
        assets: { in: [BENCH_USDC] },
        payTo: { in: [BENCH_PAY_TO] },
        hosts: { in: params.hosts ?? ['api.example.com'] },
        maxValiditySeconds: 3600,
      },
    ],
  }
  const owner = new OwnerClient(params.url, params.owner)
  const perWallet = async (w: number): Promise<BenchAgent[]> => {
    const { wallet } = await owner.createWallet(`bench-${w}`)
    const out: BenchAgent[] = []
    // Owner acts on one wallet are sequential (seq = ownerSeq + 1); wallets proceed in parallel.
    for (let a = 0; a < params.agentsPerWallet; a++) {
      const { agentKey } = await setupAgent({ host: params.url, owner: params.owner, wallet, label: `bench-${w}-${a}`, policy })
      out.push({ agentId: agentKey.agentId, seed: agentKey.privateKey, publicKey: agentKey.publicKey, wallet, receiptPublicKey: agentKey.receiptPublicKey })
    }
    return out
  }
  const groups = await Promise.all(Array.from({ length: params.wallets }, (_, w) => perWallet(w)))
  return groups.flat()
}

/**
 * One bench agent (one wallet, a random owner, api.example.com allowed) on a fresh `stack`, returned once 2.1 s have
 * passed since this was called (the stack had just listened: past the enclave's start floor). tidy42: what abSdk,
 * receiptAb, sdkC1 and sdkRoundTrip each wrote; the wait on performance.now(), which nothing moves.
 */
export async function oneBenchAgent(stack: Stack): Promise<BenchAgent> {
  const started = performance.now()
  const [a] = await setupBenchAgents({ url: stack.url, owner: privateKeyToAccount(generatePrivateKey()), wallets: 1, agentsPerWallet: 1, hosts: ['api.example.com'] })
  if (!a) throw new Error('no bench agent')
  await new Promise((r) => setTimeout(r, Math.max(0, started + 2_100 - performance.now())))
  return a
}

/** `bursarAccount`'s options for bench agent `a` on `stack`: its key and wallet, the bench's x402 resource and reason. */
export function benchAccountOptions(stack: Stack, a: BenchAgent) {
  return {
    host: stack.url,
    agentKey: { agentId: a.agentId, publicKey: a.publicKey, privateKey: a.seed, wallet: a.wallet, receiptPublicKey: a.receiptPublicKey },
    wallet: a.wallet,
    context: { resourceUrl: BENCH_RESOURCE_URL, reason: 'bench: x402 payment' },
  }
}
