import type { LocalAccount } from 'viem'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { setupAgent } from '../devchain/setupAgent.js'
import { BENCH_CHAIN_ID, BENCH_PAY_TO, BENCH_USDC, type BenchAgent } from './buildPaymentRequest.js'

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
