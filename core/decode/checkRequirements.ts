import type { AgentRequest } from '../../shared/schemas/agentRequest.js'
import type { TokenRegistryEntry } from '../../shared/schemas/tokenRegistry.js'
import { type SignDenial, deny } from './signingPlan.js'

export type X402Requirements = NonNullable<NonNullable<AgentRequest['context']>['requirements']>

export type CheckRequirementsParameters = {
  requirements: X402Requirements | undefined
  /** The chain actually signed for. */
  chainId: number
  /** What is actually signed, when it is a payment. */
  payment?: { asset: string; payTo: string; amount: bigint; scheme?: string; entry?: TokenRegistryEntry; amountIsMax?: boolean } | undefined
}

const NETWORK = /^eip155:([1-9][0-9]{0,15})$/
/** x402 v1 network names (as in @x402/evm's v1 map) → chain id. */
const V1_NETWORKS: Record<string, number> = {
  ethereum: 1, sepolia: 11155111, abstract: 2741, 'abstract-testnet': 11124, 'base-sepolia': 84532, base: 8453,
  'avalanche-fuji': 43113, avalanche: 43114, iotex: 4689, sei: 1329, 'sei-testnet': 1328, polygon: 137,
  'polygon-amoy': 80002, peaq: 3338, story: 1514, educhain: 41923, 'skale-base-sepolia': 324705682, megaeth: 4326,
  monad: 143, stable: 988, 'stable-testnet': 2201, celo: 42220, flare: 14,
}
const AMOUNT = /^(0|[1-9][0-9]{0,77})$/

/**
 * Compares the x402 requirements the SDK passed (advisory) with what is
 * really signed; any disagreement means something is off, so it is refused.
 * The merchant's `extra.name/version` is only compared with the registry.
 */
export function checkRequirements({ requirements: r, chainId, payment }: CheckRequirementsParameters): SignDenial | undefined {
  if (!r) return undefined
  const net = NETWORK.exec(r.network)
  const netChain = net ? Number(net[1]) : Object.hasOwn(V1_NETWORKS, r.network) ? V1_NETWORKS[r.network] : undefined
  if (netChain !== chainId) {
    return deny('sign_chain_mismatch', `Requirements network ${r.network.slice(0, 40)} is not eip155:${chainId}`)
  }
  if (!payment) return undefined
  const mismatch = (what: string) => deny('sign_requirements_mismatch', `Requirements ${what} differs from what is signed`)
  if (payment.scheme !== undefined && r.scheme !== payment.scheme) return mismatch('scheme')
  if (r.asset.toLowerCase() !== payment.asset.toLowerCase()) return mismatch('asset')
  if (r.payTo.toLowerCase() !== payment.payTo.toLowerCase()) return mismatch('payTo')
  if (!AMOUNT.test(r.amount) || (payment.amountIsMax ? BigInt(r.amount) > payment.amount : BigInt(r.amount) !== payment.amount)) return mismatch('amount')
  const extra = r.extra
  if (payment.entry && extra) {
    // SECURITY: the merchant's domain hint never chooses the domain; it can only disagree with the registry.
    if ('name' in extra && extra.name !== payment.entry.name) return mismatch('extra.name')
    if ('version' in extra && extra.version !== payment.entry.version) return mismatch('extra.version')
  }
  return undefined
}
