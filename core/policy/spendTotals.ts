import type { Spend } from '../kinds/KindSpec.js'

export type SpendTotal = { chainId: number; asset: string; amount: bigint }

/** Sums spends per (chain, asset): caps apply to everything one signature lets someone take of an asset, fees included. */
export function spendTotals(spends: readonly Spend[]): SpendTotal[] {
  const out = new Map<string, SpendTotal>()
  for (const s of spends) {
    const k = `${s.chainId}|${s.asset}`
    const t = out.get(k)
    if (t) t.amount += s.amount
    else out.set(k, { chainId: s.chainId, asset: s.asset, amount: s.amount })
  }
  return [...out.values()]
}
