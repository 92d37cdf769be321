import type { AgentRequest } from '../../shared/schemas/agentRequest.js'
import type { TokenRegistryEntry } from '../../shared/schemas/tokenRegistry.js'
import { type SignDenial, deny } from './signingPlan.js'

export type X402Requirements = NonNullable<NonNullable<AgentRequest['context']>['requirements']>

export type CheckRequirementsParameters = {
  requirements: X402Requirements | undefined
  /** The chain actually signed for. */
  chainId: number
  /** What is actually signed, when it is a payment. */
  payment?: { asset: string; payTo: string; amount: bigint; scheme?: string; entry?: TokenRegistryEntry } | undefined
}

const NETWORK = /^eip155:([1-9][0-9]{0,15})$/
const AMOUNT = /^(0|[1-9][0-9]{0,77})$/

/**
 * Compares the x402 requirements the SDK passed (advisory) with what is
 * really signed; any disagreement means something is off, so it is refused.
 * The merchant's `extra.name/version` is only compared with the registry.
 */
export function checkRequirements({ requirements: r, chainId, payment }: CheckRequirementsParameters): SignDenial | undefined {
  if (!r) return undefined
  const net = NETWORK.exec(r.network)
  if (!net || Number(net[1]) !== chainId) {
    return deny('sign_chain_mismatch', `Requirements network ${r.network.slice(0, 40)} is not eip155:${chainId}`)
  }
  if (!payment) return undefined
  const mismatch = (what: string) => deny('sign_requirements_mismatch', `Requirements ${what} differs from what is signed`)
  if (payment.scheme !== undefined && r.scheme !== payment.scheme) return mismatch('scheme')
  if (r.asset.toLowerCase() !== payment.asset.toLowerCase()) return mismatch('asset')
  if (r.payTo.toLowerCase() !== payment.payTo.toLowerCase()) return mismatch('payTo')
  if (!AMOUNT.test(r.amount) || BigInt(r.amount) !== payment.amount) return mismatch('amount')
  const extra = r.extra
  if (payment.entry && extra) {
    // SECURITY: the merchant's domain hint never chooses the domain; it can only disagree with the registry.
    if ('name' in extra && extra.name !== payment.entry.name) return mismatch('extra.name')
    if ('version' in extra && extra.version !== payment.entry.version) return mismatch('extra.version')
  }
  return undefined
}
