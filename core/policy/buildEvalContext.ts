import type { DecodedAction } from '../../shared/schemas/decodedAction.js'
import type { EvalContext, EvaluatePolicyParameters, SpendFacts } from './evalTypes.js'
import { localTime } from './localTime.js'
import type { LocalTime } from './localTime.js'

/** Normalizes what rules read: the spend facts of the action, the advisory resource host, lazy local time. */
export function buildEvalContext(p: EvaluatePolicyParameters): EvalContext {
  let local: LocalTime | undefined
  return {
    policy: p.policy,
    action: p.action,
    agentId: p.agentId,
    ledger: p.ledger,
    now: p.now,
    host: hostOf(p.context?.resourceUrl),
    spend: spendOf(p.action),
    local: () => (local ??= localTime(p.now, p.policy.timeZone)),
  }
}

function spendOf(a: DecodedAction): SpendFacts | null {
  switch (a.kind) {
    case 'eip3009':
    case 'erc20_transfer':
      return { chainId: a.chainId, asset: a.asset.toLowerCase(), amount: BigInt(a.amount), payTo: a.payTo.toLowerCase() }
    case 'erc20_approve':
      // SECURITY: an allowance lets the spender pull funds without the enclave: counted as spent when signed.
      return { chainId: a.chainId, asset: a.asset.toLowerCase(), amount: BigInt(a.amount), payTo: null }
    case 'native_transfer':
      return { chainId: a.chainId, asset: 'native', amount: BigInt(a.amount), payTo: a.payTo.toLowerCase() }
    case 'contract_call':
      return a.value === '0' ? null : { chainId: a.chainId, asset: 'native', amount: BigInt(a.value), payTo: null }
    default:
      return null
  }
}

function hostOf(url: string | undefined): string | null {
  if (!url) return null
  try {
    const h = new URL(url).hostname.toLowerCase().replace(/\.$/, '')
    // Longer than DNS allows: not a host name (and it must fit ledger events on replay).
    return h === '' || h.length > 253 ? null : h
  } catch {
    return null
  }
}
