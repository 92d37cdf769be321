import type { ActionFacts, Spend, SpendRole } from './KindSpec.js'

/** Facts with nothing in them; kinds fill what applies. */
export function emptyFacts(chainId: number | null): ActionFacts {
  return { chainId, spends: [], tokens: [], payees: [], spenders: [], facilitators: [], escrows: [], channel: null, contract: null, validFrom: null, validUntil: null, typedData: null, messageLength: null }
}

/**
 * `to` may take `amount` of token `asset`: the spend, the token, and `to` as payee (as spender for an allowance);
 * with a transaction's fee fields, its worst-case fee too.
 */
export function tokenFacts(a: { chainId: number; asset: string; amount: string }, to: string, role: SpendRole, tx?: Parameters<typeof feeSpend>[0]): ActionFacts {
  const spend: Spend = { chainId: a.chainId, asset: lower(a.asset), amount: BigInt(a.amount), to: lower(to), role }
  return { ...emptyFacts(a.chainId), spends: tx ? [spend, feeSpend(tx)] : [spend], tokens: [lower(a.asset)], [role === 'allowance' ? 'spenders' : 'payees']: [lower(to)] }
}

/** A transaction's worst-case fee, gas × maxFeePerGas, in the chain's native coin. */
export function feeSpend(t: { chainId: number; gas: string; maxFeePerGas: string }): Spend {
  return { chainId: t.chainId, asset: 'native', amount: BigInt(t.gas) * BigInt(t.maxFeePerGas), to: null, role: 'fee' }
}

/** Unix seconds as a number, or null when beyond any usable time (treated as no end). */
export function secondsOrNull(v: string | number): number | null {
  const n = typeof v === 'number' ? v : Number(v)
  return Number.isSafeInteger(n) ? n : null
}

export const lower = (s: string) => s.toLowerCase()
